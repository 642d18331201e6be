"""The receiver's memory stays bounded under hostile bodies: a gzip bomb (1 MB that expands
to 1 GiB) and a 100 MB body, sent to a receiver on a default app and on one whose
``client_max_size`` would take them, measured as the receiver process's peak RSS."""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from .webhook_support import Signer, body_of, envelope

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024
# What a receiver that buffered these bodies would add is 100 MiB or more; reading at most
# the body limit adds a few MiB.
MAX_GROWTH = 32 * MiB


def gzip_bomb(expanded: int = 1024 * MiB) -> bytes:
    """A valid gzip stream of ``expanded`` zero bytes, about 1 MB long, made in a blink.

    After a full flush the compressor starts afresh, so every MiB of zeros compresses to
    the same block: the block is made once and repeated."""
    zeros = bytes(MiB)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(expanded // MiB):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = struct.pack("<II", crc, expanded & 0xFFFFFFFF)
    return header + block * (expanded // MiB) + deflate.flush() + trailer


def test_the_bomb_is_what_it_claims() -> None:
    bomb = gzip_bomb(64 * MiB)
    assert len(bomb) < 100_000
    decompressor = zlib.decompressobj(31)
    assert len(decompressor.decompress(bomb)) == 64 * MiB
    assert decompressor.eof


class ReceiverProcess:
    def __init__(self, public_key: str, client_max_size: int | None) -> None:
        args = [public_key] + ([] if client_max_size is None else [str(client_max_size)])
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.webhook_receiver_process", *args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.port = int(self._line()["port"])

    def _line(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, "the receiver process ended early"
        return dict(json.loads(line))

    def peak_rss(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        return int(self._line()["peak_rss"])

    def close(self) -> int:
        """Stop the receiver; its peak RSS over its whole life."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        if self.process.stdin.closed:
            return 0
        self.process.stdin.close()
        try:
            return int(self._line()["peak_rss"])
        finally:
            self.process.wait(timeout=60)
            self.process.stdout.close()


@pytest.fixture
def signer() -> Signer:
    return Signer()


@pytest.fixture
def receiver_factory(signer: Signer) -> Iterator[Any]:
    started: list[ReceiverProcess] = []

    def start(client_max_size: int | None) -> ReceiverProcess:
        receiver = ReceiverProcess(signer.public_key, client_max_size)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.close()


async def raw_post(
    port: int, headers: dict[str, str], chunks: Sequence[bytes], *, chunked: bool
) -> int:
    """POST the chunks, framed as chunked or by Content-Length; the answer's status.

    The body is written while the answer is awaited: a receiver may answer (and close)
    before taking it all."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    framing = (
        {"Transfer-Encoding": "chunked"}
        if chunked
        else {"Content-Length": str(sum(map(len, chunks)))}
    )
    head = ["POST /hooks HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    head += [f"{name}: {value}" for name, value in (headers | framing).items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode())

    async def send() -> None:
        try:
            for chunk in chunks:
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
                await writer.drain()
            if chunked:
                writer.write(b"0\r\n\r\n")
                await writer.drain()
        except ConnectionError:
            pass  # the receiver stopped listening once it had answered

    sending = asyncio.create_task(send())
    try:
        async with asyncio.timeout(120):  # a stuck receiver fails the test, never hangs it
            status_line = await reader.readline()
            await sending
    finally:
        sending.cancel()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return int(status_line.split()[1])


def pieces(data: bytes, size: int = 64 * 1024) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


HUNDRED_MB = [bytes(MiB)] * 100


@pytest.mark.parametrize(
    ("client_max_size", "signed", "body", "encoding", "chunked", "status"),
    [
        (None, False, "bomb", "gzip", False, 400),
        (None, True, "bomb", "gzip", True, 413),
        (1024 * MiB, False, "100MB", None, True, 400),
        (1024 * MiB, True, "100MB", None, True, 413),
        (1024 * MiB, True, "bomb", "gzip", True, 413),
    ],
    ids=[
        "unsigned-bomb-default-app",
        "signed-looking-bomb-default-app",
        "unsigned-100MB-large-client-max-size",
        "signed-looking-100MB-large-client-max-size",
        "signed-looking-bomb-large-client-max-size",
    ],
)
async def test_a_hostile_body_leaves_the_receivers_memory_bounded(
    receiver_factory: Any,
    signer: Signer,
    client_max_size: int | None,
    signed: bool,
    body: str,
    encoding: str | None,
    chunked: bool,
    status: int,
) -> None:
    receiver = receiver_factory(client_max_size)
    # A real webhook first, so that what verifying one costs is in the baseline.
    webhook = body_of(envelope())
    fresh = signer.headers(webhook, timestamp=int(time.time()))
    assert await raw_post(receiver.port, fresh, [webhook], chunked=False) == 200
    baseline = receiver.peak_rss()

    # Headers that pass every check made before the body (the signature cannot match).
    headers = fresh if signed else {}
    if encoding is not None:
        headers = headers | {"Content-Encoding": encoding}
    chunks = pieces(gzip_bomb()) if body == "bomb" else HUNDRED_MB
    assert await raw_post(receiver.port, headers, chunks, chunked=chunked) == status

    growth = receiver.close() - baseline
    assert growth < MAX_GROWTH, f"peak RSS grew by {growth / MiB:.0f} MiB"
