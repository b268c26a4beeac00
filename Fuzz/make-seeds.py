#!/usr/bin/env python3
"""Writes the seed inputs of each fuzz target into Corpus/TARGET (kept in the repository; scripts/fuzz.sh grows a
working copy of them). Run from Fuzz/: python3 make-seeds.py"""
import json
import os
import struct

MASK = bytes([0x11, 0x22, 0x33, 0x44])


def frame(opcode, payload, fin=True, masked=True, rsv=0):
    head = bytes([(0x80 if fin else 0) | rsv | opcode])
    n = len(payload)
    m = 0x80 if masked else 0
    if n < 126:
        head += bytes([m | n])
    elif n <= 0xFFFF:
        head += bytes([m | 126]) + struct.pack(">H", n)
    else:
        head += bytes([m | 127]) + struct.pack(">Q", n)
    if not masked:
        return head + payload
    return head + MASK + bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))


def write(target, name, data):
    os.makedirs(f"Corpus/{target}", exist_ok=True)
    with open(f"Corpus/{target}/{name}", "wb") as f:
        f.write(data)


# websocket-reader: the first byte picks the read size.
ws = {
    "text": frame(1, b'{"op":"ping"}'),
    "fragmented": frame(1, b'{"op":', fin=False) + frame(9, b"mid") + frame(0, b'"ping"}'),
    "ping-pong": frame(9, b"x" * 125) + frame(10, b""),
    "close": frame(8, struct.pack(">H", 1000) + b"bye"),
    "close-bad-code": frame(8, struct.pack(">H", 1005)),
    "binary": frame(2, bytes(range(256))),
    "bad-utf8": frame(1, b"\xc3\x28 \xed\xa0\x80"),
    "len16": frame(1, b"a" * 300),
    "over-limit": frame(1, b"a" * 5000),
    "unmasked": frame(1, b"hi", masked=False),
    "fragmented-control": frame(9, b"p", fin=False),
    "reserved-bits": frame(1, b"hi", rsv=0x40),
    "many-small": b"".join(frame(1, b'{"op":"ping"}') for _ in range(20)),
}
for index, (name, data) in enumerate(ws.items()):
    write("websocket-reader", name, bytes([index * 19 % 256]) + data)

# client-request: a text frame's JSON.
requests = {
    "send": {"friend": "f1", "from": "alice", "to": "bob", "content": "hello", "type": "text", "cid": "c1"},
    "send-emoji": {"friend": "f1", "content": "\U0001F600", "type": "emoji"},
    "history": {"op": "history", "friend": "f1", "before": "1732700000000-0", "limit": 50, "rid": 7},
    "sync": {"op": "sync", "cursors": {"f1": "1-0", "f2": "0-0"}, "since": "5"},
    "ping": {"op": "ping", "cid": "p"},
    "typing": {"op": "typing", "friend": "f1"},
    "read": {"op": "read", "friend": "f1", "id": "1732700000000-3"},
    "wrong-types": {"friend": 1, "content": ["x"], "cid": "c"},
    "unknown-op": {"op": "dance", "cid": "x"},
}
for name, body in requests.items():
    write("client-request", name, json.dumps(body).encode())
write("client-request", "escapes", b'{"friend":"f1","content":"\\u0000\\ud83d\\ude00\\n\\"","cid":"\\u00e9"}')
write("client-request", "huge-number", b'{"op":"history","friend":"f1","limit":1e999,"before":"18446744073709551616-0"}')
write("client-request", "nested", b"[" * 64 + b"]" * 64)
write("client-request", "not-json", b"hello")

# request-head: the first byte picks the read size (times 64, plus 1).
upgrade = (b"GET /ws/alice HTTP/1.1\r\nHost: 127.0.0.1:4000\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:4000\r\n\r\n")
heads = {
    "upgrade": upgrade,
    "get": b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    "keep-alive-two": b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\n",
    "post": b"POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"name\":\"alice\"}",
    "chunked": b"POST /api/users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "bare-lf": b"GET /healthz HTTP/1.1\nHost: x\n\n",
    "partial": b"GET /ws/alice HTTP/1.1\r\nHost: x\r\nX-Trickle: 1\r\n",
    "big-header": b"GET / HTTP/1.1\r\nX-Padding: " + b"p" * 20000 + b"\r\n\r\n",
    "tls-hello": bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03]) + bytes(32),
    "http10": b"GET / HTTP/1.0\r\n\r\n",
}
for index, (name, data) in enumerate(heads.items()):
    write("request-head", name, bytes([index * 37 % 256]) + data)
