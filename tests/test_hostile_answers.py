"""Answers built to exhaust the client end in an error, with memory and the process intact.

Each send runs in a fresh interpreter against a raw loopback server in this process: a
client that crashes (a segfault in a JSON parser) or balloons must fail the test, not
take the test run down with it, and peak memory is only meaningful for a process of its
own. The dependency floors in ``pyproject.toml`` are what keeps these tests passing.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import textwrap
import zlib
from collections.abc import Iterator

import pytest

from .conftest import FROM, KEY, TO
from .raw_server import RawServer

_MiB = 1024 * 1024

_CLIENT = textwrap.dedent(
    f"""
    import asyncio, json, sys
    import telnyx_group_mms as tgm
    from telnyx_group_mms.client import _SEND_PATH

    def kib(field):
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])

    async def main():
        await _SEND_PATH.get()  # the HTTP stack loaded: the baseline includes it
        before = kib("VmRSS")
        async with tgm.AsyncTelnyx(api_key={KEY!r}, base_url=sys.argv[1]) as client:
            try:
                await client.messages.send_group_mms(from_={FROM!r}, to={TO!r}, text="Hi")
                error = None
            except tgm.APIError as exc:
                error = type(exc).__name__
        print(json.dumps({{"error": error, "before_kib": before, "peak_kib": kib("VmHWM")}}))

    asyncio.run(main())
    """
)


def _send_in_a_fresh_process(server: RawServer) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _CLIENT, server.base_url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    result: dict[str, object] = json.loads(done.stdout)
    return result


def gzip_bomb(expanded: int) -> bytes:
    """A valid gzip stream of ``expanded`` zero bytes (1 GiB packs into about 1 MB)."""
    chunk = bytes(_MiB)
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate; the gzip frame by hand
    # After a full flush the compressor starts afresh, so each MiB packs the same way.
    packed = squeeze.compress(chunk) + squeeze.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(expanded // _MiB):
        crc = zlib.crc32(chunk, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, expanded & 0xFFFFFFFF)
    return header + packed * (expanded // _MiB) + squeeze.flush() + trailer


@pytest.fixture
def raw_server() -> Iterator[RawServer]:
    server = RawServer().start()
    yield server
    server.stop()


def test_a_gzip_bomb_answer_is_refused_with_peak_memory_bounded(raw_server: RawServer) -> None:
    bomb = gzip_bomb(1024 * _MiB)
    assert len(bomb) < 1.1 * _MiB
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
        b"Content-Length: %d\r\n\r\n" % len(bomb)
    )
    raw_server.answer = lambda: [head, bomb]

    result = _send_in_a_fresh_process(raw_server)

    assert result["error"] == "APIResponseValidationError"  # over the 10 MiB cap
    grown_kib = int(result["peak_kib"]) - int(result["before_kib"])  # type: ignore[call-overload]
    # The cap (10 MiB) plus buffers; aiohttp before 3.13.3 inflated each network chunk
    # whole, and peaked here 130 to 250 MiB above the baseline.
    assert grown_kib < 64 * 1024


@pytest.mark.parametrize(
    "body",
    [b"[" * 200_000 + b"]" * 200_000, b'{"data": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"],
    ids=["nested arrays", "nested arrays as the data"],
)
def test_a_2xx_body_nested_200000_deep_is_a_clean_validation_error(
    raw_server: RawServer, body: bytes
) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    raw_server.answer = lambda: [head % len(body), body]

    # orjson before 3.9.15 recursed without limit here, and the process died (exit 139).
    result = _send_in_a_fresh_process(raw_server)

    assert result["error"] == "APIResponseValidationError"
