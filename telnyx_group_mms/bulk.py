"""The bulk runner: send every row of a JSONL or CSV file exactly once, across crashes.

The ``bulk`` command is a thin shell around :func:`run_bulk`. A run has two phases:
every row of the input is first recorded in the ledger (bad rows as ``failed`` with
their reason), then the rows still to send stream from the ledger through
:meth:`AsyncMessages.send_many`, each committed ``in_flight`` right before its POST.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Final

import attrs

from .bulk_files import check_run_files, write_replacing
from .bulk_input import check_input, read_rows
from .client import AsyncTelnyx
from .errors import APIStatusError, TelnyxError
from .fanout import SendResult
from .ledger import (
    Ledger,
    RowNumbering,
    RowState,
    RowUpdate,
    bad_row_digest,
    request_digest,
)
from .ledger_writer import AsyncLedger
from .protocol import encode_request
from .request import GroupMmsRequest
from .sender_rates import PerSenderRate
from .serialization import get_converter, request_from_wire

__all__ = ["BulkProgress", "BulkSummary", "default_ledger_path", "run_bulk"]

# Rows read from the ledger per query while sending.
_CHUNK: Final = 256
# The keys of a line of the results file, in the order of Ledger.outcomes().
_RESULT_FIELDS: Final = ("line", "state", "message_id", "error_code", "error_detail")


@attrs.frozen(kw_only=True)
class BulkProgress:
    """Where a bulk run is, handed to the ``progress`` callback after each outcome.

    Attributes:
        total: Rows this run sends.
        done: Of those, rows with an outcome.
        sent: Accepted by Telnyx in this run.
        failed: Refused, or failed in a way that certainly sent nothing.
        unknown: Failed in a way that may have sent the message.
        elapsed: Seconds since sending started.
    """

    total: int
    done: int = 0
    sent: int = 0
    failed: int = 0
    unknown: int = 0
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        """Outcomes per second so far."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0


@attrs.frozen(kw_only=True)
class BulkSummary:
    """The state of every row of the input after a run.

    Attributes:
        rows: Rows in the input (blank lines aside).
        sent: Rows sent, in this run or an earlier one.
        sent_before: Of ``sent``, rows an earlier run sent (skipped now).
        failed: Rows Telnyx did not take (resent by the next run).
        unknown: Rows that may or may not have gone out (resent only on request).
        bad: Rows skipped as invalid; see ``error_detail`` in the results.
        pending: Rows not attempted (a dry run).
        to_send: Rows this run sent or, in a dry run, would send.
        elapsed: Seconds the run took.
        dry_run: Nothing was sent or recorded.
        ledger_path: The ledger (``None`` for a dry run without one).
        results_path: Where the per-row results went, if asked.
    """

    rows: int
    sent: int
    sent_before: int
    failed: int
    unknown: int
    bad: int
    pending: int
    to_send: int
    elapsed: float
    dry_run: bool
    ledger_path: Path | None
    results_path: Path | None

    @property
    def exit_code(self) -> int:
        """0 when every row is sent (a dry run: none is bad or unknown), else 1."""
        if self.dry_run:
            return 0 if self.bad == 0 and self.unknown == 0 else 1
        return 0 if self.sent == self.rows else 1


def default_ledger_path(input_path: str | Path) -> Path:
    """``<input>.ledger.sqlite``, beside the input."""
    path = Path(input_path)
    return path.with_name(path.name + ".ledger.sqlite")


async def run_bulk(
    input_path: str | Path,
    *,
    ledger_path: str | Path | None = None,
    results_path: str | Path | None = None,
    concurrency: int = 32,
    rate: float | None = None,
    per_sender_rate: PerSenderRate | None = None,
    retry_unknown: bool = False,
    dry_run: bool = False,
    client: AsyncTelnyx | None = None,
    progress: Callable[[BulkProgress], None] | None = None,
) -> BulkSummary:
    """Send every row of ``input_path`` not sent yet; record each outcome in the ledger.

    A coroutine: from sync code, ``asyncio.run(run_bulk(...))``.

    Rows already ``sent`` are skipped; ``failed`` ones are sent again; ``unknown`` ones
    (left in flight by a crash, or failed in a way that may have sent them) only with
    ``retry_unknown``. Editing or appending rows and running again sends only what is
    new. Interrupting the run (Ctrl-C, cancellation) leaves the ledger consistent, and
    still writes the results (rows not attempted are ``pending``, rows cut off while
    being sent ``in_flight``).

    The ledger and the results may not be the input or each other, and are refused if
    they are symbolic links, another user's files or writable by others; both are
    created readable by their owner only.

    Args:
        input_path: A JSONL or CSV file (see :func:`telnyx_group_mms.bulk_input.read_rows`).
        ledger_path: The SQLite ledger; defaults to :func:`default_ledger_path`.
        results_path: Write one JSON line per row: ``line``, ``state``, ``message_id``,
            ``error_code``, ``error_detail`` (replacing the file whole once the run ends).
        concurrency: Requests in flight at most.
        rate: Account-wide messages per second (``None``: no limit).
        per_sender_rate: Messages per second per sending number: one rate, a
            :class:`SenderRates` (by kind of number), or a ``(from_) -> rate`` callable;
            ``None``: no limit.
        retry_unknown: Also send rows whose earlier outcome is unknown.
        dry_run: Read and check everything, send nothing, change nothing.
        client: The client to send with; by default one is made from the environment
            (``TELNYX_API_KEY``, ``TELNYX_BASE_URL``) with a pool of ``concurrency``.
        progress: Called after each outcome (on the event loop: keep it quick).

    Raises:
        InputError: The input cannot be read as rows.
        BulkPathError: The ledger or results path is unusable or unsafe (checked before
            anything is sent), or the results cannot be written.
        LedgerError: The ledger is in use by another run, or cannot be written.
        TelnyxError: No API key (unless ``client`` is given or it is a dry run).
    """
    started = time.monotonic()
    source = Path(input_path)
    check_input(source)
    ledger_file = Path(ledger_path) if ledger_path is not None else default_ledger_path(source)
    results_file = Path(results_path) if results_path is not None else None
    check_run_files(input_path=source, ledger_path=ledger_file, results_path=results_file)
    if dry_run and not ledger_file.exists():
        ledger_file_or_memory: Path | None = None
    else:
        ledger_file_or_memory = ledger_file
    async with contextlib.AsyncExitStack() as closing:
        if client is None and not dry_run:
            client = AsyncTelnyx(max_connections=max(100, concurrency))
            closing.push_async_callback(client.aclose)
        ledger = await AsyncLedger.open(ledger_file_or_memory, dry_run=dry_run)
        # Closed first: outcomes still queued are committed even after Ctrl-C.
        closing.push_async_callback(ledger.aclose)
        closing.push_async_exit(functools.partial(_results_if_cancelled, ledger, results_file))
        await ledger.call(lambda store: _register(store, source))
        before = await ledger.call(Ledger.counts)
        to_send = before.get("pending", 0) + before.get("failed", 0)
        to_send += before.get("unknown", 0) if retry_unknown else 0
        sent_now = 0
        if not dry_run and to_send:
            assert client is not None
            sender = _Sender(ledger, client, total=to_send, progress=progress)
            sent_now = await sender.run(
                concurrency=concurrency,
                rate=rate,
                per_sender_rate=per_sender_rate,
                retry_unknown=retry_unknown,
            )
        await ledger.flush()
        after = await ledger.call(Ledger.counts)
        if results_file is not None:
            await ledger.call(lambda store: _write_results(store, results_file))
    bad = after.get("bad", 0)
    return BulkSummary(
        rows=sum(after.values()),
        sent=after.get("sent", 0),
        sent_before=after.get("sent", 0) - sent_now,
        failed=after.get("failed", 0),
        unknown=after.get("unknown", 0),
        bad=bad,
        pending=after.get("pending", 0),
        to_send=to_send,
        elapsed=time.monotonic() - started,
        dry_run=dry_run,
        ledger_path=ledger_file_or_memory,
        results_path=results_file,
    )


def _register(ledger: Ledger, source: Path) -> None:
    """Phase one, on the ledger's thread: record every row of the input."""
    converter = get_converter()
    numbering = RowNumbering()

    def rows() -> Iterator[tuple[str, int, str | None, str | None]]:
        for row in read_rows(source):
            if row.request is None:
                yield numbering.id_for(bad_row_digest(row.raw)), row.line, None, row.error
            else:
                body = encode_request(converter, row.request).decode()
                yield numbering.id_for(request_digest(row.request)), row.line, body, None

    ledger.register(rows())


async def _results_if_cancelled(
    ledger: AsyncLedger,
    path: Path | None,
    exc_type: type[BaseException] | None,
    exc: BaseException | None,
    tb: object,
) -> bool:
    """On the way out of an interrupted run (Ctrl-C, a cancelled task), write the results.

    The ledger is consistent then, so they say where every row stands. A failure here
    must not hide the interruption: the results are simply not written.
    """
    if path is not None and exc_type is not None and issubclass(exc_type, asyncio.CancelledError):
        with contextlib.suppress(TelnyxError):
            await ledger.flush()
            await ledger.call(lambda store: _write_results(store, path))
    return False


def _write_results(ledger: Ledger, path: Path) -> None:
    lines = (
        json.dumps(dict(zip(_RESULT_FIELDS, outcome, strict=True)), ensure_ascii=False) + "\n"
        for outcome in ledger.outcomes()
    )
    write_replacing(path, lines, setting="results_path")


def _update_for(row_id: str, result: SendResult) -> RowUpdate:
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


class _Sender:
    """Phase two: stream the rows to send from the ledger through ``send_many``."""

    def __init__(
        self,
        ledger: AsyncLedger,
        client: AsyncTelnyx,
        *,
        total: int,
        progress: Callable[[BulkProgress], None] | None,
    ) -> None:
        self._ledger = ledger
        self._client = client
        self._progress = progress
        self._state = BulkProgress(total=total)
        # Row ids of the requests pulled into the fan-out and not finished yet.
        self._row_ids: dict[int, str] = {}

    async def _requests(self, *, retry_unknown: bool) -> AsyncIterator[GroupMmsRequest]:
        after, index = 0, 0
        while True:
            query = functools.partial(
                Ledger.sendable, after_line=after, limit=_CHUNK, retry_unknown=retry_unknown
            )
            chunk = await self._ledger.call(query)
            if not chunk:
                return
            for row_id, _line, body in chunk:
                self._row_ids[index] = row_id
                index += 1
                yield request_from_wire(json.loads(body))
            after = chunk[-1][1]

    async def _before_send(self, index: int, request: GroupMmsRequest) -> None:
        await self._ledger.mark_in_flight(self._row_ids[index])

    async def run(
        self,
        *,
        concurrency: int,
        rate: float | None,
        per_sender_rate: PerSenderRate | None,
        retry_unknown: bool,
    ) -> int:
        """Send; return how many rows Telnyx accepted."""
        started = time.monotonic()
        report = self._progress
        if report is not None:
            report(self._state)
        results = self._client.messages.send_many(
            self._requests(retry_unknown=retry_unknown),
            concurrency=concurrency,
            rate_limit=rate,
            per_sender_rate=per_sender_rate,
            before_send=self._before_send,
        )
        sent = failed = unknown = 0
        async with contextlib.aclosing(results):
            async for result in results:
                self._ledger.record(_update_for(self._row_ids.pop(result.index), result))
                if result.ok:
                    sent += 1
                elif result.outcome_unknown:
                    unknown += 1
                else:
                    failed += 1
                if report is not None:
                    self._state = attrs.evolve(
                        self._state,
                        done=sent + failed + unknown,
                        sent=sent,
                        failed=failed,
                        unknown=unknown,
                        elapsed=time.monotonic() - started,
                    )
                    report(self._state)
        return sent
