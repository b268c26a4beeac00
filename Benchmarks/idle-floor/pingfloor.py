"""The least a relay can spend on idle sockets: the floor to hold ChatRelay's idle CPU against.

It accepts WebSocket upgrades on one port, then pings every socket once per 10 s period, a tenth of them every
second as ChatRelay's heartbeat wheel does, and reads and drops whatever comes back (the pongs). No JSON, no
Redis, no objects per socket beyond the socket: one `send` per ping and one `recv` per pong, as for any relay.
Its kernel time is what the heartbeat costs any relay on the machine; its own time is a lower bound for the rest.

    python3 Benchmarks/idle-floor/pingfloor.py 16501 &
    chatrelay bench --urls ws://127.0.0.1:16501 --idle 10000 --duration 42 --server-pid "$(pgrep -f pingfloor.py)"

Then the same `chatrelay bench` line against one `chatrelay serve --heartbeat 10` node, in turns with this one
(see docs/benchmarks.md). It never answers a close frame; the bench drops such connections after 3 s.
"""

import base64
import hashlib
import select
import socket
import sys
import time

PERIOD = 10.0
SLOTS = 10
PING = b"\x89\x00"
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def upgrade_response(request: bytes) -> bytes:
    key = next(line.split(b":", 1)[1].strip() for line in request.split(b"\r\n") if line.lower().startswith(b"sec-websocket-key:"))
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
    return b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"


def main(port: int) -> None:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(4096)
    server.setblocking(False)
    poller = select.epoll()
    poller.register(server.fileno(), select.EPOLLIN)
    sockets = {}  # fd -> socket
    requests = {}  # fd -> upgrade request read so far, until upgraded
    wheel = [[] for _ in range(SLOTS)]
    next_slot = 0
    hand = 0
    deadline = time.monotonic() + PERIOD / SLOTS
    while True:
        for fd, _ in poller.poll(max(0.0, deadline - time.monotonic()), 4096):
            if fd == server.fileno():
                while True:
                    try:
                        client, _ = server.accept()
                    except BlockingIOError:
                        break
                    client.setblocking(False)
                    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    sockets[client.fileno()] = client
                    requests[client.fileno()] = b""
                    poller.register(client.fileno(), select.EPOLLIN)
                continue
            client = sockets.get(fd)
            if client is None:
                continue
            try:
                data = client.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                poller.unregister(fd)
                client.close()
                sockets.pop(fd, None)
                requests.pop(fd, None)
                continue
            if fd in requests:
                request = requests[fd] + data
                if b"\r\n\r\n" not in request:
                    requests[fd] = request
                    continue
                del requests[fd]
                client.send(upgrade_response(request))
                wheel[next_slot].append(client)
                next_slot = (next_slot + 1) % SLOTS
        if time.monotonic() >= deadline:
            deadline += PERIOD / SLOTS
            wheel[hand] = [client for client in wheel[hand] if client.fileno() >= 0]
            for client in wheel[hand]:
                try:
                    client.send(PING)
                except OSError:
                    pass
            hand = (hand + 1) % SLOTS


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 16501)
