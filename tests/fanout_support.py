"""Helpers shared by the fan-out and bulk tests."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import telnyx_group_mms as tgm
from telnyx_group_mms.sandbox import Sandbox

from .conftest import FROM, TO


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


def posts_per_text(sandbox: Sandbox) -> Counter[str | None]:
    """How many POSTs of each text the sandbox received (the texts tell the rows apart)."""
    return Counter(seen.json().get("text") for seen in sandbox.requests)


def accepted_per_text(sandbox: Sandbox) -> Counter[str | None]:
    """How many times the sandbox took in a message of each text."""
    return Counter(message.text for message in sandbox.messages)


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
