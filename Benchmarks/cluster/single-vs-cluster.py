#!/usr/bin/env python3
"""ChatRelay on one Redis beside ChatRelay on a Redis Cluster, in one run on one machine.

For each setup it starts Redis (one server, or `redis-server --cluster-enabled yes` nodes joined with
`redis-cli --cluster create`), two release relay nodes on it, and the Go load generator of `../shared/bench` in
`compare.py`'s saturation scenario (200 pairs, 8 in flight per sender, both send, 20 s after 5 s of warm-up), then
reports delivered messages per second, latency, the CPU per delivered message of the two nodes and of every
Redis process, read from /proc around the whole run as `compare.py` does, and how often a socket's feed filled a gap
from the stream (the nodes' /metrics; on a cluster a frame naming an entry the socket lacks starts one).

    ../shared/bench/setup.sh        # the load generator, into /tmp/chatrelay-bench
    swift build -c release --product chatrelay
    Benchmarks/cluster/single-vs-cluster.py --rounds 2

Setups: `single` (one Redis), `cluster` (3 primaries, no replicas), `cluster-r1` (3 primaries with a replica each,
`--min-replicas 1`), `single-r1` (one master with a replica, `--min-replicas 1`).
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("CHATRELAY_BIN", os.path.join(ROOT, ".build/release/chatrelay"))
LOADGEN = os.path.join(os.environ.get("BENCH_WORK", "/tmp/chatrelay-bench"), "loadgen")
TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def wait_for(check, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.1)
    raise RuntimeError("timed out")


class Redis:
    def __init__(self, extra, workdir):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(dir=workdir)
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", self.dir, "--logfile", "", "--loglevel", "warning"] + extra
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self.cli("PING") == "PONG")

    def cli(self, *args):
        return subprocess.run(["redis-cli", "-p", str(self.port)] + list(args), capture_output=True, text=True).stdout.strip()

    def stop(self):
        self.process.kill()
        self.process.wait()


def start_redis(setup, workdir):
    """Returns (servers, URL)."""
    if setup.startswith("single"):
        master = Redis([], workdir)
        servers = [master]
        if setup == "single-r1":
            replica = Redis(["--replicaof", "127.0.0.1", str(master.port)], workdir)
            servers.append(replica)
            wait_for(lambda: "master_link_status:up" in replica.cli("INFO", "replication"))
        return servers, f"redis://127.0.0.1:{master.port}/0"
    replicas = 1 if setup == "cluster-r1" else 0
    servers = [Redis(["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port", str(free_port()),
                      "--cluster-require-full-coverage", "no"], workdir) for _ in range(3 * (1 + replicas))]
    subprocess.run(["redis-cli", "--cluster", "create"] + [f"127.0.0.1:{s.port}" for s in servers]
                   + ["--cluster-replicas", str(replicas), "--cluster-yes"], capture_output=True, check=True)
    wait_for(lambda: all("cluster_state:ok" in s.cli("CLUSTER", "INFO") for s in servers), 60)
    if replicas:
        wait_for(lambda: all("master_link_status:up" in s.cli("INFO", "replication")
                             for s in servers if "role:slave" in s.cli("INFO", "replication")), 60)
    return servers, "redis-cluster://" + ",".join(f"127.0.0.1:{s.port}" for s in servers)


def metric(port, name):
    """The sum of a counter's series in a node's /metrics."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


def run(setup, args, workdir):
    servers, url = start_redis(setup, workdir)
    ports = [free_port(), free_port()]
    extra = ["--min-replicas", "1"] if setup.endswith("r1") else []
    nodes = [subprocess.Popen([BIN, "serve", "--port", str(port), "--redis", url, "--auth", "none", "--admin-token", "adm",
                               "--rate", "1000000", "--burst", "1000000", "--node-id", f"bench{index}"] + extra,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for index, port in enumerate(ports)]
    try:
        for port in ports:
            wait_for(lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1).status == 200)
        node_pids = [n.pid for n in nodes]
        redis_pids = [s.process.pid for s in servers]
        node_before, redis_before = cpu_seconds(node_pids), cpu_seconds(redis_pids)
        output = subprocess.run([LOADGEN, "--urls", ",".join(f"ws://127.0.0.1:{p}" for p in ports), "--admin-token", "adm",
                                 "--progress", "0", "--pairs", str(args.pairs), "--rate", "0", "--window", "8", "--both",
                                 "--duration", str(args.duration), "--warmup", str(args.warmup)],
                                capture_output=True, text=True, timeout=300).stdout
        node_after, redis_after = cpu_seconds(node_pids), cpu_seconds(redis_pids)
        fills = sum(metric(port, "chatrelay_gap_fills_total") for port in ports)
        filled = sum(metric(port, "chatrelay_gap_fill_messages_total") for port in ports)
        report = json.loads(output.strip().splitlines()[-1])
        total = report.get("delivered", 0) + report.get("warmup", {}).get("delivered", 0)
        return {
            "setup": setup,
            "msgs_per_s": report.get("msgs_per_s"),
            "p50_ms": report.get("latency_ms", {}).get("p50"),
            "p99_ms": report.get("latency_ms", {}).get("p99"),
            "lost": report.get("lost"), "dup": report.get("dup"), "reordered": report.get("reordered"),
            "node_cpu_us_per_msg": round((node_after - node_before) / max(total, 1) * 1e6, 2),
            "redis_cpu_us_per_msg": round((redis_after - redis_before) / max(total, 1) * 1e6, 2),
            "gap_fills_per_1000_msgs": round(fills / max(total, 1) * 1000, 2),
            "filled_share": round(filled / max(total, 1), 4),
        }
    finally:
        for node in nodes:
            node.terminate()
        for node in nodes:
            node.wait()
        for server in servers:
            server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--setups", default="single,cluster,single-r1,cluster-r1")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="chatrelay-cluster-bench-")
    try:
        for round_number in range(args.rounds):
            for setup in args.setups.split(","):
                result = run(setup, args, workdir)
                print(json.dumps({"round": round_number + 1, **result}), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
