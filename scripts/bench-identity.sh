#!/usr/bin/env bash
# What verifying a token costs a node: upgrades per second with HS256, RS256, ES256 and EdDSA tokens (and none),
# and idle memory per socket with the token-expiry wheel. One Redis and one release node on loopback; the load
# generator mints every token before it starts the clock.
#   scripts/bench-identity.sh [SOCKETS] [ROUNDS]     (defaults 5000 and 2)
set -euo pipefail
cd "$(dirname "$0")/.."
SOCKETS="${1:-5000}"
ROUNDS="${2:-2}"
BIN=.build/release/chatrelay
[ -x "$BIN" ] || swift build -c release --product chatrelay >/dev/null
WORK="$(mktemp -d /tmp/chatrelay-bench-identity.XXXXXX)"
REDIS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
NODE_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SECRET="bench-secret-that-is-long-enough-for-hs256"
NODE_PID=""
cleanup() {
    [ -n "$NODE_PID" ] && kill "$NODE_PID" 2>/dev/null && wait "$NODE_PID" 2>/dev/null
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/RS256.key" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/ES256.key" 2>/dev/null
openssl genpkey -algorithm ED25519 -out "$WORK/EdDSA.key" 2>/dev/null
for alg in RS256 ES256 EdDSA; do openssl pkey -in "$WORK/$alg.key" -pubout -out "$WORK/$alg.pem"; done

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" --daemonize no >"$WORK/redis.log" 2>&1 &
until redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; do sleep 0.1; done

start_node() { # AUTH
    local auth=(--auth none)
    [ "$1" = jwt ] && auth=(--jwt-secret "$SECRET" --jwt-public-key "$WORK/RS256.pem,$WORK/ES256.pem,$WORK/EdDSA.pem")
    "$BIN" serve --port "$NODE_PORT" --redis "redis://127.0.0.1:$REDIS_PORT/0" "${auth[@]}" --log-level error \
        --max-sockets-per-user 4 --request-timeout 30 >"$WORK/node.log" 2>&1 &
    NODE_PID=$!
    until curl -sf "http://127.0.0.1:$NODE_PORT/readyz" >/dev/null; do sleep 0.1; done
}
stop_node() { kill "$NODE_PID"; wait "$NODE_PID" 2>/dev/null || true; NODE_PID=""; }

bench() { # LABEL ARGS...
    local label="$1"; shift
    printf '%-7s ' "$label"
    "$BIN" bench --urls "ws://127.0.0.1:$NODE_PORT" --idle "$SOCKETS" --duration 4 --server-pid "$NODE_PID" "$@"
}

for round in $(seq "$ROUNDS"); do
    echo "round $round: upgrades"
    start_node none; bench none; stop_node
    start_node jwt
    bench HS256 --jwt-secret "$SECRET"
    for alg in RS256 ES256 EdDSA; do bench "$alg" --jwt-private-key "$WORK/$alg.key"; done
    stop_node
done
echo "idle memory and CPU, 10,000 sockets held 22 s (two heartbeat periods and settling)"
for auth in none jwt; do
    start_node "$auth"
    printf '%-7s ' "$auth"
    if [ "$auth" = jwt ]; then extra=(--jwt-secret "$SECRET"); else extra=(); fi
    "$BIN" bench --urls "ws://127.0.0.1:$NODE_PORT" --idle 10000 --duration 22 --server-pid "$NODE_PID" "${extra[@]}"
    stop_node
done
