"""A loopback TCP server that answers each request with exactly the bytes it is told to.

No HTTP library stands between the test and the wire, so it can lie about lengths, stream
without end, or send what no HTTP server would: the client's HTTP layer meets it raw.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable

from telnyx_group_mms._loop_thread import LoopThread

#: The answer to the next requests: chunks written in order, then the connection closes.
Answer = Callable[[], Iterable[bytes]]

# A server streaming "forever" stops here, so a client that reads everything fails a
# test instead of hanging it.
_MAX_BYTES = 200 * 1024 * 1024


class RawServer:
    """Serves on 127.0.0.1 from a thread of its own; every request gets :attr:`answer`."""

    def __init__(self) -> None:
        self.answer: Answer = lambda: ()
        self.requests = 0
        self.bytes_sent = 0  # of the latest answer
        self._portal = LoopThread(name="raw-server", user="raw server", advice="")
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v2"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            await reader.readexactly(length)
            self.requests += 1
            self.bytes_sent = 0
            for chunk in self.answer():
                writer.write(chunk)
                await writer.drain()
                self.bytes_sent += len(chunk)
                if self.bytes_sent > _MAX_BYTES:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the client hung up: what the tests of early refusal expect
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def start(self) -> RawServer:
        self._portal.run(self._start(), timeout=10)
        return self

    def stop(self) -> None:
        try:
            self._portal.run(self._stop(), timeout=10)
        finally:
            self._portal.stop()
