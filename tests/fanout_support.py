"""Helpers shared by the fan-out and bulk tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import telnyx_group_mms as tgm

from .conftest import FROM, TO
from .scripted_server import Reply


def make_requests(n: int, *, sender: str = FROM, start: int = 0) -> Iterator[tgm.GroupMmsRequest]:
    """``n`` requests whose texts (``row 0``, ``row 1``, ...) tell them apart at the server."""
    for i in range(start, start + n):
        yield tgm.GroupMmsRequest(from_=sender, to=TO, text=f"row {i}")


class CountingSource:
    """Wraps an iterable and counts how many items were pulled from it."""

    def __init__(self, items: Iterator[tgm.GroupMmsRequest]) -> None:
        self._items = items
        self.pulled = 0

    def __iter__(self) -> Iterator[tgm.GroupMmsRequest]:
        for item in self._items:
            self.pulled += 1
            yield item


def rate_limited(retry_after: float | None) -> Reply:
    """A 429 as Telnyx sends it (code 10011)."""
    headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
    body = {"errors": [{"code": "10011", "title": "Too many requests", "detail": "slow down"}]}
    return Reply(status=429, body=body, headers=headers)


async def eventually(check: Callable[[], Any], *, within: float = 10.0) -> None:
    """Wait until ``check()`` is true (a condition, not a duration, is what is tested)."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def wait_until(check: Callable[[], Any], *, within: float = 10.0) -> None:
    """The sync twin of :func:`eventually`."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


async def collect(results: AsyncIterator[tgm.SendResult], into: list[tgm.SendResult]) -> None:
    """Append every result to ``into``, so that those before an error are kept."""
    async for result in results:
        into.append(result)
