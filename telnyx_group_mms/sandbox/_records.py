"""What the sandbox keeps of what it saw: recorded requests, and histories bounded in size."""

from __future__ import annotations

import itertools
import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final, Generic, TypeVar

import attrs

from ..models import Message

__all__ = [
    "DEFAULT_HISTORY_BYTES",
    "RECORD_OVERHEAD",
    "History",
    "RecordedHeaders",
    "RecordedRequest",
    "message_size",
    "request_size",
]

T = TypeVar("T")

#: By default each history (requests, messages, webhook attempts) holds this much.
DEFAULT_HISTORY_BYTES: Final = 64 * 1024 * 1024
#: What a record is counted for besides its content: about what the objects that hold
#: it take in memory (measured: a small request and its message take 2.8 KiB together).
RECORD_OVERHEAD: Final = 1024

# Headers whose values are credentials.
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization"})


class _HiddenText(str):
    """A header value that is its text everywhere except in its ``repr``.

    Anything that shows values through ``repr`` (``repr`` of a mapping or a list,
    pytest's explanation of a failed comparison, ``--showlocals``) then shows
    ``'<redacted>'``, while comparing, printing or sending it uses the text.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<redacted>'"


class RecordedHeaders(Mapping[str, str]):
    """The headers of a recorded request, read-only, looked up whatever the case of the name.

    They hold every header as it arrived, ``Authorization`` included, but the ``repr``
    of that value (and so of the mapping, and of the request) is ``'<redacted>'``.
    Compare it, print it or send it and it is the text it was.
    """

    __slots__ = ("_by_name", "_items", "size")

    def __init__(self, headers: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        # Built for the sandbox's hot path: one C-level copy, then only the few names
        # that are credentials are looked at again.
        self._items = dict(headers)
        for name, value in self._items.items():
            if name.lower() in _SECRET_HEADERS:
                self._items[name] = _HiddenText(value)
        self._by_name: dict[str, str] | None = None
        #: Characters in the names and values.
        self.size = sum(map(len, self._items)) + sum(map(len, self._items.values()))

    def __getitem__(self, name: str) -> str:
        try:
            return self._items[name]
        except KeyError:
            return self._lowered()[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._items or name.lower() in self._lowered())

    def _lowered(self) -> dict[str, str]:
        if self._by_name is None:
            self._by_name = {name.lower(): value for name, value in self._items.items()}
        return self._by_name

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return repr(self._items)


@attrs.frozen(kw_only=True)
class RecordedRequest:
    """One request the sandbox received, as it arrived.

    ``headers`` holds them all, ``Authorization`` included; no ``repr`` shows its value
    (see :class:`RecordedHeaders`).
    """

    method: str
    path: str
    headers: RecordedHeaders = attrs.field(converter=RecordedHeaders)
    body: bytes
    arrived_at: float
    """When its body had been read, on the sandbox's monotonic clock (``time.monotonic``
    unless the sandbox was given another): compare arrivals, e.g. to see a pause."""

    def json(self) -> Any:
        """The body parsed as JSON.

        Raises:
            ValueError: The body is not JSON.
        """
        return json.loads(self.body)


class History(Generic[T]):
    """The most recent records, oldest first, within a count and a number of bytes.

    Adding a record drops the oldest ones until both limits hold again; the newest is
    kept even alone over the byte limit (a count limit of 0 keeps nothing). Records are
    added on the sandbox's loop; :meth:`snapshot` may be called from any thread.
    """

    def __init__(
        self, *, max_count: int | None, max_bytes: int | None, size: Callable[[T], int]
    ) -> None:
        self._max_count = max_count
        self._max_bytes = max_bytes
        self._size = size
        # Two deques rather than one of pairs, so that snapshot() is one C-level copy,
        # which no other thread can interleave with.
        self._items: deque[T] = deque()
        self._sizes: deque[int] = deque()
        self.bytes = 0

    def append(self, item: T) -> None:
        """Keep ``item``, dropping the oldest records beyond the limits."""
        size = self._size(item) + RECORD_OVERHEAD
        self._items.append(item)
        self._sizes.append(size)
        self.bytes += size
        while self._items and self._over_limits():
            self._items.popleft()
            self.bytes -= self._sizes.popleft()

    def _over_limits(self) -> bool:
        count = len(self._items)
        if self._max_count is not None and count > self._max_count:
            return True
        return self._max_bytes is not None and self.bytes > self._max_bytes and count > 1

    def clear(self) -> None:
        """Forget every record."""
        self._items.clear()
        self._sizes.clear()
        self.bytes = 0

    def snapshot(self) -> list[T]:
        """The records, oldest first."""
        return list(self._items)

    def page(self, offset: int, limit: int) -> list[T]:
        """At most ``limit`` records from the ``offset``-th oldest on."""
        return list(itertools.islice(self._items, offset, offset + limit))

    def __len__(self) -> int:
        return len(self._items)


def request_size(request: RecordedRequest) -> int:
    """What a recorded request counts for in its history, overhead aside."""
    return len(request.body) + request.headers.size


def message_size(message: Message) -> int:
    """What a message counts for in its history, overhead aside: its texts and URLs."""
    urls = [m.url for m in message.media] + [message.webhook_url, message.webhook_failover_url]
    return len(message.text or "") + len(message.subject or "") + sum(len(u or "") for u in urls)
