#!/usr/bin/env bash
# Runs Autobahn|Testsuite's fuzzing client against the WebSocket echo harness (the relay's own WebSocket code,
# Conformance/WebSocketEcho) and against a live relay node, then writes docs/conformance.md from the reports.
#
#   scripts/autobahn.sh                 # echo harness: sections 1-10, 12, 13; live node: sections 1-10
#   scripts/autobahn.sh --node-peer PATH/server.js   # also a Node.js relay of the contract (the `ws` library) on
#                                                    # section 7, for comparison
#   AUTOBAHN_CASES='["7.*"]' scripts/autobahn.sh    # fewer cases, for a quick look (docs are not rewritten)
#
# Needs Python 2.7 (pyenv's 2.7.18 here): autobahntestsuite 25.10.1 is Python 2 code. Its source package omits
# its dependency list, so they are installed from its egg-info requires.txt. Everything goes to .build/autobahn.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$ROOT/.build/autobahn
mkdir -p "$WORK"
NODE_PEER=
if [[ "${1:-}" == "--node-peer" ]]; then
    NODE_PEER=${2:-}
    [[ -f "$NODE_PEER" ]] || { echo "autobahn.sh: --node-peer takes the path of the Node relay's server.js" >&2; exit 2; }
    NODE_PEER=$(cd "$(dirname "$NODE_PEER")" && pwd)/$(basename "$NODE_PEER")
fi
CASES=${AUTOBAHN_CASES:-}

python2=
for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/2.7*/bin/python2.7 python2.7; do
    # pyenv's shim is on PATH even where it runs no 2.7: take the first that really starts.
    if "$candidate" -c 'import sys; assert sys.version_info[:2] == (2, 7)' 2>/dev/null; then python2=$candidate; break; fi
done
[[ -n "$python2" ]] || { echo "autobahn.sh: no Python 2.7 that runs (pyenv install 2.7.18)" >&2; exit 1; }

if [[ ! -x "$WORK/venv/bin/wstest" ]]; then
    echo "== installing autobahntestsuite 25.10.1 into $WORK/venv"
    "$python2" -m virtualenv --version >/dev/null 2>&1 || "$python2" -m pip install -q "virtualenv<20.22"
    "$python2" -m virtualenv -q "$WORK/venv"
    python3 -m pip download -q --no-deps --no-binary :all: -d "$WORK/sdist" autobahntestsuite==25.10.1
    tar -xzf "$WORK/sdist/autobahntestsuite-25.10.1.tar.gz" -C "$WORK/sdist"
    "$WORK/venv/bin/pip" install -q -r "$WORK/sdist/autobahntestsuite-25.10.1/autobahntestsuite.egg-info/requires.txt"
    "$WORK/venv/bin/pip" install -q --no-deps "$WORK/sdist/autobahntestsuite-25.10.1.tar.gz"
fi

echo "== building websocket-echo and chatrelay (release)"
swift build -c release --product websocket-echo >/dev/null
swift build -c release --product chatrelay >/dev/null
BIN=$(swift build -c release --show-bin-path)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
wait_port() {
    for _ in $(seq 100); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "autobahn.sh: nothing listens on $1" >&2; exit 1
}

ECHO_PORT=$(free_port)
"$BIN/websocket-echo" --port "$ECHO_PORT" >"$WORK/echo.log" 2>&1 & PIDS+=($!)
REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no >"$WORK/redis.log" 2>&1 & PIDS+=($!)
wait_port "$REDIS_PORT"
NODE_PORT=$(free_port)
"$BIN/chatrelay" serve --port "$NODE_PORT" --redis "redis://127.0.0.1:$REDIS_PORT/0" --auth none --heartbeat 60 \
    >"$WORK/node.log" 2>&1 & PIDS+=($!)
wait_port "$ECHO_PORT"
wait_port "$NODE_PORT"

run() { # name url cases-json
    local spec=$WORK/$1.json
    cat >"$spec" <<JSON
{"outdir": "$WORK/reports/$1", "servers": [{"agent": "$1", "url": "$2"}], "cases": $3, "exclude-cases": [], "exclude-agent-cases": {}}
JSON
    echo "== $1: $2, cases $3"
    (cd "$WORK" && "$WORK/venv/bin/wstest" -m fuzzingclient -s "$spec" >"$WORK/$1.log" 2>&1)
}

run echo-harness "ws://127.0.0.1:$ECHO_PORT/" "${CASES:-[\"1.*\",\"2.*\",\"3.*\",\"4.*\",\"5.*\",\"6.*\",\"7.*\",\"9.*\",\"10.*\",\"12.*\",\"13.*\"]}"
run relay-node "ws://127.0.0.1:$NODE_PORT/ws/autobahn" "${CASES:-[\"1.*\",\"2.*\",\"3.*\",\"4.*\",\"5.*\",\"6.*\",\"7.*\",\"9.*\",\"10.*\"]}"
REPORTS=("$WORK/reports/echo-harness/index.json" "$WORK/reports/relay-node/index.json")

if [[ -n $NODE_PEER ]]; then
    for pkg in nodejs node-ws node-redis node-express; do dpkg -s "$pkg" >/dev/null 2>&1 || apt-get install -y -qq "$pkg" >/dev/null; done
    PEER_PORT=$(free_port)
    node "$NODE_PEER" serve --port "$PEER_PORT" --redis "redis://127.0.0.1:$REDIS_PORT/1" --auth none \
        >"$WORK/node-peer.log" 2>&1 & PIDS+=($!)
    wait_port "$PEER_PORT"
    run node-peer "ws://127.0.0.1:$PEER_PORT/ws/autobahn" "${CASES:-[\"7.*\"]}"
    REPORTS+=("$WORK/reports/node-peer/index.json")
fi

if [[ -z "$CASES" ]]; then
    python3 scripts/autobahn-report.py "${REPORTS[@]}" >docs/conformance.md
    echo "== docs/conformance.md written"
fi
python3 scripts/autobahn-report.py --summary "${REPORTS[@]}"
