#!/usr/bin/env bash
# The demo: a Redis on a loopback port, two relay nodes, the tutorial's two users and their friendship.
# Stop it with Ctrl-C. Ports can be changed with DEMO_REDIS_PORT, DEMO_PORT_A and DEMO_PORT_B.
set -euo pipefail
cd "$(dirname "$0")/.."

REDIS_PORT="${DEMO_REDIS_PORT:-6390}"
PORT_A="${DEMO_PORT_A:-4000}"
PORT_B="${DEMO_PORT_B:-4001}"
ADMIN_TOKEN="demo-admin-token"
WORK="$(mktemp -d /tmp/chatrelay-demo.XXXXXX)"

if ! command -v redis-server >/dev/null || ! pkg-config --exists hiredis jemalloc 2>/dev/null; then
    echo "installing redis-server, libhiredis-dev and libjemalloc-dev with apt..."
    apt-get update -qq && apt-get install -y -qq redis-server libhiredis-dev libjemalloc-dev >/dev/null
fi

echo "building chatrelay (release)..."
swift build -c release --product chatrelay >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
BIN=.build/release/chatrelay

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" --daemonize no >"$WORK/redis.log" 2>&1 &
PIDS+=($!)
until redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; do sleep 0.1; done

for port in "$PORT_A" "$PORT_B"; do
    "$BIN" serve --port "$port" --redis "redis://127.0.0.1:$REDIS_PORT/0" --auth none --admin-token "$ADMIN_TOKEN" \
        --node-id "demo-$port" --log-level warning 2>>"$WORK/nodes.log" &
    PIDS+=($!)
done
for port in "$PORT_A" "$PORT_B"; do
    until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; do sleep 0.1; done
done

api() { curl -s -X POST "http://127.0.0.1:$PORT_A$1" -H 'Content-Type: application/json' -d "$2"; }
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
JEFFERY=$(api /api/users '{"name":"jeffery"}' | field id)
TESTUSER=$(api /api/users '{"name":"testuser"}' | field id)
FRIEND=$(api /api/friendships "{\"user1\":\"$JEFFERY\",\"user2\":\"$TESTUSER\"}" | field id)

cat <<INFO

ChatRelay demo is running: Redis on 127.0.0.1:$REDIS_PORT, nodes on ports $PORT_A and $PORT_B (--auth none).

Open the two chat pages in a browser, one per node, and chat as jeffery and testuser:

  jeffery   http://127.0.0.1:$PORT_A/?user=$JEFFERY
  testuser  http://127.0.0.1:$PORT_B/?user=$TESTUSER

Their WebSocket URLs, for any other client (websocat, wscat, chatrelay.js):

  jeffery   $JEFFERY   ws://127.0.0.1:$PORT_A/ws/$JEFFERY
  testuser  $TESTUSER   ws://127.0.0.1:$PORT_B/ws/$TESTUSER
  friendship $FRIEND

A frame to paste into jeffery's socket; testuser's receives it:

  {"friend":"$FRIEND","from":"$JEFFERY","to":"$TESTUSER","content":"hello","type":"text"}

The history:

  redis-cli -p $REDIS_PORT XRANGE 'chat:history:{$FRIEND}' - +
  curl -s http://127.0.0.1:$PORT_B/api/friendships/$FRIEND/messages

Or with the operator commands (docs/operations.md), from another terminal:

  $BIN listen testuser --url http://127.0.0.1:$PORT_B --admin-token $ADMIN_TOKEN
  $BIN send --as jeffery jeffery:testuser "hello" --admin-token $ADMIN_TOKEN
  $BIN history jeffery:testuser --admin-token $ADMIN_TOKEN

Ctrl-C stops everything.
INFO
wait
