#!/usr/bin/env python3
"""What ChatRelay's data costs in Redis memory, and what retention's trimming costs in Redis CPU.

For each `stream-node-max-bytes` (4096, Redis's default; 1024; 512) a fresh redis-server without persistence gets
what the relay writes, in the relay's layout, and `INFO memory`'s `used_memory` is read before and after:

- bytes per message by content size (16, 64, 256, 1024 B), in one long stream, with the cid record a send with a
  cid adds for its day (a hash field `USER:CID`), and without;
- bytes per friendship by how many messages it holds (1, 10, 100, 1000 of 64 B), over 1,000 friendships: the
  stream alone, and with the friendship's hash and both members' friend-list entries;
- bytes per user: the user's hash and name;
- Redis CPU per store (the store script's storing and trimming steps, run with `EVALSHA`), without retention and
  with `--history-max-len 200` and `--history-max-age` trimming, over 100,000 stores into 1,000 friendships.

With `--node BIN` it also opens idle sockets on a release node (`chatrelay bench --idle`) and reports Redis bytes per
open socket (the user's subscription, presence lease and the node's user list).

    swift build -c release --product chatrelay
    Benchmarks/redis-memory/measure.py --node .build/release/chatrelay
"""

import argparse
import os
import shutil
import socket
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    """A minimal RESP client with pipelining: enough to write a few hundred thousand commands quickly."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.file = self.sock.makefile("rb")

    @staticmethod
    def encode(args):
        out = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = arg if isinstance(arg, bytes) else str(arg).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(data), data))
        return b"".join(out)

    def read(self):
        line = self.file.readline()
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            data = self.file.read(size + 2)[:-2]
            return data.decode(errors="replace")
        if kind == b"*":
            return [self.read() for _ in range(int(rest))]
        raise RuntimeError(f"unexpected reply {line!r}")

    def command(self, *args):
        self.sock.sendall(self.encode(args))
        return self.read()

    def pipeline(self, commands, batch=2000):
        for start in range(0, len(commands), batch):
            chunk = commands[start : start + batch]
            self.sock.sendall(b"".join(self.encode(c) for c in chunk))
            for _ in chunk:
                self.read()

    def info(self, section):
        fields = {}
        for line in self.command("INFO", section).splitlines():
            if ":" in line:
                key, value = line.split(":", 1)
                fields[key] = value
        return fields

    def used(self):
        return int(self.info("memory")["used_memory"])

    def cpu(self):
        fields = self.info("cpu")
        return float(fields["used_cpu_sys"]) + float(fields["used_cpu_user"])


class Server:
    def __init__(self, node_bytes):
        self.dir = tempfile.mkdtemp(prefix="chatrelay-redis-memory-")
        self.port = free_port()
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.dir, "--stream-node-max-bytes", str(node_bytes), "--maxmemory-policy", "noeviction"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                self.redis = Redis(self.port)
                self.redis.command("PING")
                break
            except OSError:
                time.sleep(0.05)

    def stop(self):
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


USER = "5d1328295793f14020a979d5"
FRIEND = "5d1328295793f14020a979d6"


def message(friendship, content, cid=None):
    fields = ["from", USER, "to", FRIEND, "type", "text", "content", content]
    if cid:
        fields += ["cid", cid]
    return ["XADD", f"chat:history:{{{friendship}}}", "*"] + fields


def per_message(redis, size, with_cid, count=10000):
    before = redis.used()
    content = "x" * size
    commands = []
    for index in range(count):
        cid = f"c-{index:06d}" if with_cid else None
        commands.append(message("f-per-message", content, cid))
        if with_cid:
            commands.append(["HSET", "chat:cids:{f-per-message}:20430", f"{USER}:{cid}", "1733000000000-0"])
    redis.pipeline(commands)
    bytes_ = (redis.used() - before) / count
    redis.command("DEL", "chat:history:{f-per-message}", "chat:cids:{f-per-message}:20430")
    return bytes_


def per_friendship(redis, messages, with_directory, friendships=1000):
    before = redis.used()
    commands = []
    for index in range(friendships):
        fid = f"f{messages}-{index:06d}"
        for _ in range(messages):
            commands.append(message(fid, "x" * 64))
        if with_directory:
            commands.append(["HSET", f"chat:friendship:{{{fid}}}", "user1", USER, "user2", f"u-{index:06d}", "created", "1733000000000"])
            commands.append(["HSET", f"chat:friends:{{u-{index:06d}}}", USER, fid])
            commands.append(["HSET", f"chat:friends:{{v-{index:06d}}}", f"u-{index:06d}", fid])
    redis.pipeline(commands)
    bytes_ = (redis.used() - before) / friendships
    redis.command("FLUSHALL")
    return bytes_


def per_user(redis, users=10000):
    before = redis.used()
    commands = []
    for index in range(users):
        uid = f"{index:024x}"
        commands.append(["SET", f"chat:username:{{user{index}}}", uid])
        commands.append(["HSET", f"chat:user:{{{uid}}}", "name", f"user{index}", "created", "1733000000000"])
    redis.pipeline(commands)
    bytes_ = (redis.used() - before) / users
    redis.command("FLUSHALL")
    return bytes_


# The store script's storing and trimming steps (Sources/RelayCore/Store/StoreScript.swift), without its cid records
# and frame building, which retention does not change.
STORE = """
if redis.call('EXISTS', KEYS[2]) == 0 then return {'', -1} end
local id = redis.call('XADD', KEYS[1], '*', 'from', ARGV[1], 'to', ARGV[2], 'type', ARGV[3], 'content', ARGV[4])
if ARGV[5] ~= '' then redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', ARGV[5], 'LIMIT', 1000) end
if ARGV[6] ~= '' then
  local oldest = tonumber(string.match(id, '^%d+')) - tonumber(ARGV[6])
  if oldest > 0 then redis.call('XTRIM', KEYS[1], 'MINID', '~', string.format('%d', oldest), 'LIMIT', 1000) end
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
end
redis.call('PUBLISH', ARGV[7], id)
redis.call('PUBLISH', ARGV[8], id)
return {id, 1}
"""


def store_cpu(redis, max_len, max_age_ms, stores=100000, friendships=1000):
    sha = redis.command("SCRIPT", "LOAD", STORE)
    for index in range(friendships):
        redis.command("HSET", f"chat:friendship:{{s-{index}}}", "user1", USER, "user2", FRIEND)
    before = redis.cpu()
    commands = []
    for index in range(stores):
        fid = f"s-{index % friendships}"
        commands.append(["EVALSHA", sha, 2, f"chat:history:{{{fid}}}", f"chat:friendship:{{{fid}}}",
                         USER, FRIEND, "text", "x" * 64, str(max_len) if max_len else "", str(max_age_ms) if max_age_ms else "",
                         "chat:deliver:{a}", "chat:deliver:{b}"])
    started = time.time()
    redis.pipeline(commands)
    elapsed = time.time() - started
    cpu = redis.cpu() - before
    redis.command("FLUSHALL")
    return cpu / stores * 1e6, stores / elapsed


def per_socket(binary, sockets=5000):
    server = Server(1024)
    try:
        port = free_port()
        node = subprocess.Popen([binary, "serve", "--port", str(port), "--redis", f"redis://127.0.0.1:{server.port}/0",
                                 "--auth", "none", "--log-level", "error"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(2)
        before = server.redis.used()
        bench = subprocess.Popen([binary, "bench", "--urls", f"ws://127.0.0.1:{port}", "--idle", str(sockets), "--duration", "12"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        time.sleep(9)
        during = server.redis.used()
        bench.communicate()
        node.terminate()
        node.wait()
        return (during - before) / sockets
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--node", help="a release chatrelay binary, to measure Redis bytes per open socket")
    args = parser.parse_args()
    print(f"{'node bytes':>10}  {'what':<48} {'value':>12}")
    for node_bytes in (4096, 1024, 512):
        server = Server(node_bytes)
        try:
            redis = server.redis
            for size in (16, 64, 256, 1024):
                print(f"{node_bytes:>10}  {f'per message, {size} B content':<48} {per_message(redis, size, False):>10.0f} B")
                print(f"{node_bytes:>10}  {f'per message, {size} B content, with its cid record':<48} {per_message(redis, size, True):>10.0f} B")
            for count in (1, 10, 100, 1000):
                print(f"{node_bytes:>10}  {f'per friendship of {count} messages (stream)':<48} {per_friendship(redis, count, False):>10.0f} B")
                print(f"{node_bytes:>10}  {f'per friendship of {count} messages (with its hashes)':<48} {per_friendship(redis, count, True):>10.0f} B")
            for label, max_len, max_age in (("no retention", 0, 0), ("max-len 200", 200, 0), ("max-age 1 day", 0, 86400000)):
                cpu, rate = store_cpu(redis, max_len, max_age)
                print(f"{node_bytes:>10}  {f'Redis CPU per store, {label}':<48} {cpu:>9.1f} µs  ({rate:,.0f} stores/s pipelined)")
        finally:
            server.stop()
    server = Server(1024)
    try:
        print(f"{'':>10}  {'per user (hash and name)':<48} {per_user(server.redis):>10.0f} B")
    finally:
        server.stop()
    if args.node:
        print(f"{1024:>10}  {'per open socket (5,000 idle users)':<48} {per_socket(args.node):>10.0f} B")


if __name__ == "__main__":
    main()
