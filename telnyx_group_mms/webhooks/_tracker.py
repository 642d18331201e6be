"""Follow every recipient of a message to a final status, from webhooks that arrive in any order.

Telnyx reports each recipient of a group MMS separately (``message.sent``, then
``message.finalized``), retries webhooks, and does not promise their order. The tracker
keeps, per message id, each recipient's most advanced status:

- statuses are ranked ``queued`` < ``sending`` < ``sent`` < final (``delivered``,
  ``delivery_failed``, ``sending_failed``, ``delivery_unconfirmed``, ``expired``); a
  report of a lower rank than the one held is ignored, so a late ``sent`` never undoes a
  ``delivered``, and a final status never becomes a non-final one;
- a status this package does not know ranks with ``sent``;
- between two reports of the same rank (two different final statuses, say, which Telnyx
  should not send but a replayed or corrected event could), the one that occurred later
  wins, and one with an ``occurred_at`` wins over one without. So whenever the events'
  times differ, the outcome does not depend on the order in which they arrived; between
  two reports of the same time (or both without one), the status already held stays.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from datetime import datetime

from ..models import FINAL_STATUSES, Direction, Message, RecipientStatus
from ._models import WebhookEvent, WebhookEventType

__all__ = ["DeliveryTracker"]

_FINAL_RANK = 3
_RANKS: dict[str, int] = {
    RecipientStatus.QUEUED: 0,
    RecipientStatus.SENDING: 1,
    RecipientStatus.SENT: 2,
    **dict.fromkeys(FINAL_STATUSES, _FINAL_RANK),
}
_UNKNOWN_RANK = _RANKS[RecipientStatus.SENT]
_TRACKED_EVENTS = frozenset({WebhookEventType.MESSAGE_SENT, WebhookEventType.MESSAGE_FINALIZED})


class _Report:
    __slots__ = ("occurred_at", "rank", "status")

    def __init__(self, status: RecipientStatus | str, occurred_at: datetime | None) -> None:
        self.status = status
        self.rank = _RANKS.get(status, _UNKNOWN_RANK)
        self.occurred_at = occurred_at

    def supersedes(self, held: _Report) -> bool:
        if self.rank != held.rank:
            return self.rank > held.rank
        return self.status != held.status and self.later_than(held)

    def later_than(self, held: _Report) -> bool:
        if self.occurred_at is None:
            return False
        return held.occurred_at is None or self.occurred_at > held.occurred_at


class _MessageState:
    __slots__ = ("final", "final_event", "recipients", "waiters")

    def __init__(self) -> None:
        self.recipients: dict[str, _Report] = {}
        self.final = False
        self.final_event: asyncio.Event | None = None
        self.waiters = 0


class DeliveryTracker:
    """Each recipient's latest delivery status per message, fed by webhook events.

    Feed it every event (:meth:`feed`); events other than outbound ``message.sent`` and
    ``message.finalized`` are ignored. A group MMS webhook may name only the recipient it
    reports on, so call :meth:`expect` with the send response: the tracker then knows every
    recipient and does not call a message final while one of them has not reported.

    Not thread-safe: use one tracker from one thread (one event loop). Memory is bounded:
    past ``max_messages`` the least recently updated message is forgotten, unless a
    :meth:`wait_final` is waiting for it.
    """

    def __init__(self, *, max_messages: int = 100_000) -> None:
        if max_messages < 1:
            raise ValueError(f"max_messages must be at least 1, not {max_messages!r}")
        self.max_messages = max_messages
        self._messages: OrderedDict[str, _MessageState] = OrderedDict()

    def expect(self, message: Message) -> None:
        """Learn a message's recipients (and their statuses) from its send response."""
        if message.id is not None:
            self._record(message.id, message, None)

    def feed(self, event: WebhookEvent) -> bool:
        """Take in one webhook event.

        Returns:
            True if it changed a recipient's status (False for a duplicate, a stale
            report, or an event the tracker does not follow).
        """
        message = event.payload
        if (
            event.event_type not in _TRACKED_EVENTS
            or not isinstance(message, Message)
            or message.id is None
            or message.direction == Direction.INBOUND
        ):
            return False
        return self._record(message.id, message, event.occurred_at)

    def status(self, message_id: str) -> dict[str, RecipientStatus | str]:
        """Each known recipient's latest status (empty for a message never heard of)."""
        state = self._messages.get(message_id)
        if state is None:
            return {}
        return {number: report.status for number, report in state.recipients.items()}

    def is_final(self, message_id: str) -> bool:
        """True when every known recipient of the message has a final status."""
        state = self._messages.get(message_id)
        return state is not None and state.final

    def forget(self, message_id: str) -> None:
        """Drop what is known about a message (once it is final and handled, say)."""
        self._messages.pop(message_id, None)

    def __len__(self) -> int:
        return len(self._messages)

    async def wait_final(
        self,
        message_id: str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a plain deadline, asyncio.timeout inside
    ) -> dict[str, RecipientStatus | str]:
        """Wait until every known recipient of a message has a final status.

        Args:
            message_id: The message's id.
            timeout: Seconds to wait at most; None waits for ever.

        Returns:
            Each recipient's final status.

        Raises:
            TimeoutError: The message was not final within ``timeout``.
        """
        state = self._state(message_id)
        if not state.final:
            if state.final_event is None:
                state.final_event = asyncio.Event()
            state.waiters += 1
            try:
                async with asyncio.timeout(timeout):
                    await state.final_event.wait()
            finally:
                state.waiters -= 1
        return self.status(message_id)

    def _record(self, message_id: str, message: Message, occurred_at: datetime | None) -> bool:
        state = self._state(message_id)
        changed = False
        for recipient in message.to:
            if recipient.phone_number is None or recipient.status is None:
                continue
            report = _Report(recipient.status, occurred_at)
            held = state.recipients.get(recipient.phone_number)
            if held is None or report.supersedes(held):
                state.recipients[recipient.phone_number] = report
                changed = True
            elif report.status == held.status and report.later_than(held):
                # The same status reported again: remember the latest time it was
                # reported, so that a tie with another status is settled by time alone.
                held.occurred_at = report.occurred_at
        if changed:
            self._settle(state)
        return changed

    def _settle(self, state: _MessageState) -> None:
        state.final = bool(state.recipients) and all(
            r.rank == _FINAL_RANK for r in state.recipients.values()
        )
        if state.final_event is not None:
            # A recipient first heard of after the message was final makes it open again.
            if state.final:
                state.final_event.set()
            else:
                state.final_event.clear()

    def _state(self, message_id: str) -> _MessageState:
        state = self._messages.get(message_id)
        if state is not None:
            self._messages.move_to_end(message_id)
            return state
        state = self._messages[message_id] = _MessageState()
        if len(self._messages) > self.max_messages:
            self._evict()
        return state

    def _evict(self) -> None:
        for message_id, state in self._messages.items():
            if not state.waiters:
                del self._messages[message_id]
                return
