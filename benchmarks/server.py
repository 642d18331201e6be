"""A canned loopback HTTP/1.1 server for the benchmarks, cheap enough never to be the bottleneck.

It answers ``POST /v2/messages/group_mms`` with one realistic message and nothing else: a
raw asyncio protocol (no framework, no routing, no per-request objects), on uvloop when
it is installed, in one or more processes sharing the port with ``SO_REUSEPORT``.

Run ``python benchmarks/server.py [--workers N]``; it prints one JSON line
``{"port": ..., "pids": [...], "loop": ...}`` once every worker listens, and serves until
its standard input closes (so it never outlives the harness). :class:`Server` does all
that from the harness.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
from typing import Any

from payload import PATH, WIRE_RESPONSE

_OK = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: application/json\r\n"
    b"x-request-id: 6a1f0c3e-2f1d-4d55-9a55-1c8d2f3b7e10\r\n"
    b"Content-Length: " + str(len(WIRE_RESPONSE)).encode() + b"\r\n\r\n" + WIRE_RESPONSE
)
_NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
_BAD = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
_ROUTE = b"POST " + PATH.encode() + b" "


class CannedHttp(asyncio.Protocol):
    """Parses just enough HTTP/1.1 (request line, Content-Length) to answer each request."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._transport: Any = None  # uvloop's transports are not asyncio.Transport subclasses

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        transport = self._transport
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).lower()
            length = 0
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = head.find(b"\r\n", at + 2)
                try:
                    length = int(head[at + 17 : stop if stop >= 0 else None])
                except ValueError:
                    transport.write(_BAD)
                    transport.close()
                    return
            elif b"\r\ntransfer-encoding:" in head:
                transport.write(_BAD)  # no client under test streams its body
                transport.close()
                return
            total = end + 4 + length
            if len(buf) < total:
                return
            routed = buf.startswith(_ROUTE)
            del buf[:total]
            transport.write(_OK if routed else _NOT_FOUND)
            if b"\r\nconnection: close" in head:
                transport.close()
                return


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "SO_REUSEPORT"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _serve(sock: socket.socket, ready: Any = None) -> None:
    loop = _new_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(CannedHttp, sock=sock, backlog=1024))
    if ready is not None:
        ready.set()
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.close()


def _worker(port: int, ready: Any) -> None:
    _serve(_listen(port), ready)


class Server:
    """The canned server in its own process; it exits when its standard input closes."""

    def __init__(self, workers: int) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, __file__, "--workers", str(workers)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        info = json.loads(self._proc.stdout.readline())
        self.port: int = info["port"]
        self.pids: list[int] = info["pids"]
        self.loop: str = info["loop"]
        self.workers = workers

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v2"

    def stop(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=1, help="server processes (SO_REUSEPORT)")
    args = parser.parse_args()

    first = _listen(0)
    port = first.getsockname()[1]
    ctx = multiprocessing.get_context("fork")
    others = []
    for _ in range(args.workers - 1):
        ready = ctx.Event()
        proc = ctx.Process(target=_worker, args=(port, ready), daemon=True)
        proc.start()
        ready.wait(10)
        others.append(proc)

    loop_name = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    print(
        json.dumps(
            {"port": port, "pids": [os.getpid(), *(p.pid for p in others)], "loop": loop_name}
        ),
        flush=True,
    )

    def watch_stdin() -> None:
        sys.stdin.read()  # returns when the harness closes the pipe or dies
        for proc in others:
            proc.terminate()
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    _serve(first)


if __name__ == "__main__":
    main()
