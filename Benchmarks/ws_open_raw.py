#!/usr/bin/env python3
"""The server's share of opening an RPC connection, without a client library's own overhead.

A plain socket does what hypha-rpc's WebsocketRPCConnection.open() does on the wire: TCP connect, the HTTP
upgrade to a WebSocket (no extensions offered), the JSON auth frame of an anonymous client, and the wait for
`connection_info`. Prints JSON with the median of each step in µs.

    ws_open_raw.py --port 9520 [--count 200]
"""
import argparse
import base64
import json
import os
import socket
import statistics
import struct
import time


def masked_text_frame(payload: bytes) -> bytes:
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    n = len(body)
    header = bytes([0x81, 0x80 | n]) if n < 126 else bytes([0x81, 0x80 | 126]) + struct.pack(">H", n)
    return header + mask + body


def read_until(sock, marker: bytes, limit=1 << 16) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(4096)
        if not chunk or len(data) > limit:
            raise RuntimeError(f"connection closed or too much data before {marker!r}: {data[:200]!r}")
        data += chunk
    return data


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=200)
    args = ap.parse_args()
    steps = {"connect_us": [], "upgrade_us": [], "auth_us": [], "total_us": []}
    for i in range(args.count + 10):
        key = base64.b64encode(os.urandom(16))
        request = (b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
        auth = json.dumps({"client_id": f"raw-{i}", "workspace": None, "token": None,
                           "reconnection_token": None}).encode()
        t0 = time.perf_counter()
        sock = socket.create_connection(("127.0.0.1", args.port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        t1 = time.perf_counter()
        sock.sendall(request)
        head = read_until(sock, b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"upgrade refused: {head[:200]!r}")
        t2 = time.perf_counter()
        sock.sendall(masked_text_frame(auth))
        read_until(sock, b"connection_info")
        t3 = time.perf_counter()
        sock.close()
        if i >= 10:  # the first few warm the server up
            for name, value in (("connect_us", t1 - t0), ("upgrade_us", t2 - t1), ("auth_us", t3 - t2),
                                ("total_us", t3 - t0)):
                steps[name].append(value * 1e6)
        time.sleep(0.002)
    print(json.dumps({name: statistics.median(values) for name, values in steps.items()} | {"count": args.count}))


if __name__ == "__main__":
    main()
