#!/usr/bin/env python3
"""What a broadcast costs a Redis Cluster: classic PUBLISH against SPUBLISH of one sharded channel.

Starts a 3-primary, 3-replica cluster on loopback, subscribes two listeners to `chat:broadcast` the way two relay
nodes would (SUBSCRIBE on any node for classic; SSUBSCRIBE on the channel's primary for sharded), publishes
`--count` frames with `redis-benchmark`, and reports publishes per second and the CPU of all six Redis processes
per publish, read from /proc.

    Benchmarks/cluster/broadcast.py --count 200000
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from importlib import import_module

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
bench = import_module("single-vs-cluster")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200000)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="chatrelay-broadcast-bench-")
    servers, _ = bench.start_redis("cluster-r1", workdir)
    try:
        # The primary that owns the channel's slot answers SPUBLISH with a count; the others with MOVED.
        owner_port = next(s.port for s in servers if s.cli("SPUBLISH", "chat:broadcast", "probe").isdigit())
        for command, subscribe, port in [("PUBLISH", "SUBSCRIBE", servers[1].port), ("SPUBLISH", "SSUBSCRIBE", owner_port)]:
            listeners = [subprocess.Popen(["redis-cli", "-p", str(port if subscribe == "SSUBSCRIBE" else servers[i].port),
                                           subscribe, "chat:broadcast"], stdout=subprocess.DEVNULL) for i in (2, 4)]
            pids = [s.process.pid for s in servers]
            before = bench.cpu_seconds(pids)
            out = subprocess.run(["redis-benchmark", "-p", str(port), "-n", str(args.count), "-c", "4", "-P", "16", "-q",
                                  command, "chat:broadcast", "x" * 120], capture_output=True, text=True).stdout
            after = bench.cpu_seconds(pids)
            rate = re.findall(r"([\d.]+) requests per second", out)
            print(f"{command:9} {rate[-1] if rate else '?'} publishes/s, all six Redis: "
                  f"{(after - before) / args.count * 1e6:.2f} µs CPU per publish", flush=True)
            for listener in listeners:
                listener.kill()
                listener.wait()
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
