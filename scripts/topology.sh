#!/usr/bin/env bash
# Brings up docker/compose.yaml's topology as processes on loopback, without Docker: redis-server with AOF, three
# chatrelay nodes with the compose file's settings (secrets from files made by make-secrets.sh, the admin API on an
# admin port of their own), and Debian's nginx with the very docker/nginx.conf, only its addresses rewritten (the
# service names to 127.0.0.1 and free ports).
#
#   scripts/topology.sh up DIR [CHATRELAY_BINARY]   # prints "redis PORT", "node NAME PORT PID ADMIN_PORT", "balancer PORT"
#   scripts/topology.sh down DIR
#
# DIR holds the secrets (DIR/secrets), the rewritten nginx.conf, the AOF, the logs and the pid files. Needs
# redis-server and nginx on PATH.
set -euo pipefail

command=${1:?usage: topology.sh up|down DIR [CHATRELAY_BINARY]}
dir=${2:?usage: topology.sh up|down DIR [CHATRELAY_BINARY]}
root=$(cd "$(dirname "$0")/.." && pwd)
nodes=(relay-a relay-b relay-c)

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# The compose file's value of a relay's variable.
compose_value() {
    sed -n "s/^ *$1: *//p" "$root/docker/compose.yaml" | head -1 | tr -d '"'
}

wait_for_http() {
    for _ in $(seq 1 100); do
        if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$1$2', timeout=1)" 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "topology.sh: nothing answered on 127.0.0.1:$1$2" >&2
    return 1
}

case "$command" in
up)
    binary=${3:-$root/.build/debug/chatrelay}
    [ -x "$binary" ] || { echo "topology.sh: no chatrelay binary at $binary (swift build first)" >&2; exit 1; }
    command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "topology.sh: nginx is not installed" >&2; exit 1; }
    mkdir -p "$dir/logs" "$dir/redis"
    redis_port=$(free_port)
    redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$dir/redis" --appendonly yes --appendfsync everysec \
        --maxmemory 1gb --maxmemory-policy noeviction --stream-node-max-bytes 1024 --save '' --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/logs/redis.log" >/dev/null 2>&1 </dev/null
    for _ in $(seq 1 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    echo "$redis_port" >"$dir/redis.port"
    echo "redis $redis_port"

    "$root/scripts/make-secrets.sh" "$dir/secrets" >/dev/null
    conf=$(cat "$root/docker/nginx.conf")
    for node in "${nodes[@]}"; do
        port=$(free_port)
        admin_port=$(free_port)
        # The compose file's /run/secrets/NAME are DIR/secrets/NAME here.
        CHATRELAY_REDIS_URL="redis://127.0.0.1:$redis_port/0" \
        CHATRELAY_AUTH=$(compose_value CHATRELAY_AUTH) \
        CHATRELAY_HISTORY_MAX_LEN=$(compose_value CHATRELAY_HISTORY_MAX_LEN) \
        CHATRELAY_HISTORY_MAX_AGE=$(compose_value CHATRELAY_HISTORY_MAX_AGE) \
        CHATRELAY_JWT_SECRET_FILE=$(compose_value CHATRELAY_JWT_SECRET_FILE | sed "s|^/run/secrets|$dir/secrets|") \
        CHATRELAY_ADMIN_TOKEN_FILE=$(compose_value CHATRELAY_ADMIN_TOKEN_FILE | sed "s|^/run/secrets|$dir/secrets|") \
        CHATRELAY_ADMIN_PORT=$admin_port CHATRELAY_ADMIN_HOST=127.0.0.1 \
        CHATRELAY_NODE_ID=$node CHATRELAY_HOST=127.0.0.1 CHATRELAY_PORT=$port \
            nohup "$binary" serve >"$dir/logs/$node.log" 2>&1 </dev/null &
        echo $! >"$dir/$node.pid"
        wait_for_http "$port" /readyz
        echo "node $node $port $(cat "$dir/$node.pid") $admin_port"
        conf=${conf//"server $node:4000;"/"server 127.0.0.1:$port;"}
    done

    balancer_port=$(free_port)
    conf=${conf//"listen 8080;"/"listen 127.0.0.1:$balancer_port;"}
    printf '%s\n' "$conf" >"$dir/nginx.conf"
    # Its own output to a file: the daemon would otherwise keep the caller's pipe open.
    nginx -p "$dir" -c "$dir/nginx.conf" -g "pid $dir/nginx.pid; error_log $dir/logs/nginx.log;" >"$dir/logs/nginx.out" 2>&1 </dev/null
    wait_for_http "$balancer_port" /healthz
    echo "balancer $balancer_port"
    ;;
down)
    # Every pid is read before anything stops: the directory goes only once they have all exited.
    pids=()
    for file in nginx.pid redis.pid "${nodes[@]/%/.pid}"; do
        [ -f "$dir/$file" ] && pids+=("$(cat "$dir/$file")")
    done
    [ -f "$dir/nginx.pid" ] && nginx -p "$dir" -c "$dir/nginx.conf" -g "pid $dir/nginx.pid; error_log $dir/logs/nginx.log;" -s quit 2>/dev/null || true
    for node in "${nodes[@]}"; do
        [ -f "$dir/$node.pid" ] && kill -TERM "$(cat "$dir/$node.pid")" 2>/dev/null || true
    done
    # NOSAVE: this Redis persists by AOF only and must never refuse to stop over a save.
    if [ -f "$dir/redis.port" ]; then
        redis-cli -p "$(cat "$dir/redis.port")" shutdown nosave >/dev/null 2>&1 || true
    fi
    alive() { for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && echo "$pid"; done; return 0; }
    for _ in $(seq 1 50); do [ -z "$(alive)" ] && break; sleep 0.1; done
    for pid in $(alive); do kill -KILL "$pid" 2>/dev/null || true; done
    for _ in $(seq 1 20); do [ -z "$(alive)" ] && break; sleep 0.1; done
    left=$(alive | tr '\n' ' ')
    if [ -n "$left" ]; then
        echo "topology.sh: still running after down: $left" >&2
        exit 1
    fi
    ;;
*)
    echo "usage: topology.sh up|down DIR [CHATRELAY_BINARY]" >&2
    exit 2
    ;;
esac
