"""Remember recent webhook event ids, so that a retried (or replayed) webhook is handled once."""

from __future__ import annotations

import threading
from collections import OrderedDict

from ._models import WebhookEvent

__all__ = ["EventDeduplicator"]


class EventDeduplicator:
    """Remembers recent event ids, so a webhook Telnyx retried is handled once.

    In memory and bounded: past ``max_size`` ids the least recently seen is forgotten.
    Safe to share between threads.

    >>> dedupe = EventDeduplicator()
    >>> if dedupe.first_time(event):  # doctest: +SKIP
    ...     handle(event)
    """

    def __init__(self, *, max_size: int = 10_000) -> None:
        if max_size < 1:
            raise ValueError(f"max_size must be at least 1, not {max_size!r}")
        self.max_size = max_size
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, event: WebhookEvent | str) -> bool:
        """Record an event (or event id); True if it had not been seen before."""
        event_id = _event_id(event)
        with self._lock:
            if event_id in self._ids:
                self._ids.move_to_end(event_id)
                return False
            self._ids[event_id] = None
            if len(self._ids) > self.max_size:
                self._ids.popitem(last=False)
            return True

    def forget(self, event: WebhookEvent | str) -> None:
        """Forget an event, so its next delivery counts as the first (after a failure)."""
        with self._lock:
            self._ids.pop(_event_id(event), None)

    def __contains__(self, event: object) -> bool:
        if not isinstance(event, WebhookEvent | str):
            return False
        with self._lock:
            return _event_id(event) in self._ids

    def __len__(self) -> int:
        return len(self._ids)


def _event_id(event: WebhookEvent | str) -> str:
    return event if isinstance(event, str) else event.id
