"""Phase two of a bulk run, for either ledger: the rows to send, through ``send_many``.

Each row is committed ``in_flight`` by the ledger right before its POST (``before_send``),
and its outcome is handed back to the ledger as soon as it is known.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Protocol

import attrs

from .._wire.serialization import request_from_wire
from ..client import AsyncTelnyx
from ..errors import APIStatusError
from ..fanout._account_refusal import BatchStoppedError
from ..fanout._engine import SendResult
from ..limits._sender_rates import PerSenderRate
from ..limits._shared import RateLimits
from ..models import GroupMmsRequest
from ._report import BulkProgress
from .ledger._sqlite import RowState, RowUpdate

__all__: list[str] = []  # internal: used by the bulk runners


class RowLedger(Protocol):
    """What the sender needs of a ledger."""

    async def mark_in_flight(self, row_id: str) -> None: ...

    def record(self, update: RowUpdate) -> None: ...


def update_for(row_id: str, result: SendResult) -> RowUpdate:
    """The ledger's record of ``result``."""
    if result.message is not None:
        return RowUpdate(row_id, RowState.SENT, message_id=result.message.id)
    error = result.error
    code = error.code if isinstance(error, APIStatusError) else None
    return RowUpdate(
        row_id,
        RowState.UNKNOWN if result.outcome_unknown else RowState.FAILED,
        error_code=code or type(error).__name__,
        error_detail=str(error),
    )


class Sender:
    """Send ``rows`` (``(row_id, JSON body)``, as the ledger hands them out)."""

    def __init__(
        self,
        ledger: RowLedger,
        client: AsyncTelnyx,
        rows: AsyncIterator[tuple[str, str]],
        *,
        total: int,
        progress: Callable[[BulkProgress], None] | None,
    ) -> None:
        self._ledger = ledger
        self._client = client
        self._rows = rows
        self._progress = progress
        self._state = BulkProgress(total=total)
        # Row ids of the requests pulled into the fan-out and not finished yet.
        self._row_ids: dict[int, str] = {}
        self._sent = self._failed = self._unknown = 0

    async def _requests(self) -> AsyncIterator[GroupMmsRequest]:
        index = 0
        async for row_id, body in self._rows:
            self._row_ids[index] = row_id
            index += 1
            yield request_from_wire(json.loads(body))

    async def _before_send(self, index: int, request: GroupMmsRequest) -> None:
        await self._ledger.mark_in_flight(self._row_ids[index])

    async def run(
        self,
        *,
        concurrency: int,
        rate: float | None,
        per_sender_rate: PerSenderRate | None,
        rate_limits: RateLimits | None,
        stop_on_account_error: bool,
    ) -> tuple[int, str | None]:
        """Send; return how many rows Telnyx accepted, and why it stopped early, if it did."""
        started = time.monotonic()
        if self._progress is not None:
            self._progress(self._state)
        results = self._client.messages.send_many(
            self._requests(),
            concurrency=concurrency,
            rate_limit=rate,
            per_sender_rate=per_sender_rate,
            before_send=self._before_send,
            stop_on_account_error=stop_on_account_error,
            rate_limits=rate_limits,
        )
        stopped: str | None = None
        async with contextlib.aclosing(results):
            try:
                async for result in results:
                    self._record(result, started)
            except BatchStoppedError as stop:
                # The rows not sent were never marked in flight: they keep their state.
                stopped = f"Telnyx refused the account or API key: {stop.refusal}"
        return self._sent, stopped

    def _record(self, result: SendResult, started: float) -> None:
        self._ledger.record(update_for(self._row_ids.pop(result.index), result))
        if result.ok:
            self._sent += 1
        elif result.outcome_unknown:
            self._unknown += 1
        else:
            self._failed += 1
        if self._progress is not None:
            self._state = attrs.evolve(
                self._state,
                done=self._sent + self._failed + self._unknown,
                sent=self._sent,
                failed=self._failed,
                unknown=self._unknown,
                elapsed=time.monotonic() - started,
            )
            self._progress(self._state)
