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

from .._wire.protocol import encode_request
from .._wire.serialization import get_converter, request_from_wire
from ..client import AsyncTelnyx
from ..errors import APIStatusError, TelnyxError
from ..fanout._account_refusal import BatchStoppedError
from ..fanout._engine import SendResult
from ..limits._sender_rates import PerSenderRate
from ..limits._shared import RateLimits
from ..models import GroupMmsRequest
from ._files import check_run_files, write_replacing
from ._input import check_input, read_rows
from ._report import BAD_ROWS_SHOWN, BulkBadRow, BulkProgress, BulkSummary, preview
from .ledger._group_commit import AsyncLedger
from .ledger._sqlite import (
    Ledger,
    RowNumbering,
    RowState,
    RowUpdate,
    bad_row_digest,
    request_digest,
)

__all__ = ["DEFAULT_RATE", "BulkProgress", "BulkSummary", "default_ledger_path", "run_bulk"]

# Rows read from the ledger per query while sending.
_CHUNK: Final = 256
#: The account-wide rate a bulk run keeps to unless told otherwise, messages per second:
#: Telnyx's default limit for MMS, so a run paces itself instead of meeting 429s.
DEFAULT_RATE: Final = 15.0
# The keys of a line of the results file, in the order of Ledger.outcomes().
_RESULT_FIELDS: Final = ("line", "state", "message_id", "error_code", "error_detail")


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
    rate: float | None = DEFAULT_RATE,
    per_sender_rate: PerSenderRate | None = None,
    retry_unknown: bool = False,
    stop_on_account_error: bool = True,
    dry_run: bool = False,
    client: AsyncTelnyx | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    progress: Callable[[BulkProgress], None] | None = None,
    rate_limits: RateLimits | None = None,
) -> BulkSummary:
    """Send every row of ``input_path`` not sent yet; record each outcome in the ledger.

    A coroutine: from sync code, ``asyncio.run(run_bulk(...))``.

    Rows already ``sent`` are skipped; ``failed`` ones are sent again; ``unknown`` ones
    (left in flight by a crash, or failed in a way that may have sent them) only with
    ``retry_unknown``. Editing or appending rows and running again sends only what is
    new. Interrupting the run (Ctrl-C, cancellation) leaves the ledger consistent, and
    still writes the results (rows not attempted are ``pending``, rows cut off while
    being sent ``in_flight``). A refusal of the account or key stops the run after the
    requests in flight (see ``stop_on_account_error``).

    The ledger and the results may not be the input or each other, and are refused if
    they are symbolic links, another user's files or writable by others; both are
    created readable by their owner only.

    Args:
        input_path: A JSONL or CSV file (see :func:`telnyx_group_mms.bulk._input.read_rows`).
        ledger_path: The SQLite ledger; defaults to :func:`default_ledger_path`.
        results_path: Write one JSON line per row: ``line``, ``state``, ``message_id``,
            ``error_code``, ``error_detail`` (replacing the file whole once the run ends).
        concurrency: Requests in flight at most.
        rate: Account-wide messages per second; by default :data:`DEFAULT_RATE`
            (15, Telnyx's default for MMS), as the ``bulk`` command; ``None``: no limit.
        per_sender_rate: Messages per second per sending number: one rate, a
            :class:`SenderRates` (by kind of number), or a ``(from_) -> rate`` callable;
            ``None``: no limit.
        retry_unknown: Also send rows whose earlier outcome is unknown.
        stop_on_account_error: Stop at the first refusal of the account or key (a 401
            or 403, or a Telnyx code meaning the same), after the requests in flight:
            the rows not sent stay as they were (``pending``, or ``failed`` from an
            earlier run), and ``stopped`` in the summary says why.
        dry_run: Read and check everything, send nothing, change nothing.
        client: The client to send with; by default one is made from ``api_key`` and
            ``base_url`` (or the environment: ``TELNYX_API_KEY``, ``TELNYX_BASE_URL``)
            with a pool of ``concurrency``.
        api_key: The key of the client made when ``client`` is not given.
        base_url: The API root of that client.
        progress: Called after each outcome (on the event loop: keep it quick).
        rate_limits: Instead of ``rate`` and ``per_sender_rate``: a :class:`RateLimits`,
            shared with every process and host using its Redis when it has a
            ``redis_url`` (a batch split across machines keeps one account rate). A row
            that Redis being down stops is recorded ``failed``: it was not sent.

    Raises:
        ValueError: ``rate_limits`` is given with ``per_sender_rate``, or with a ``rate``
            other than the default.
        InputError: The input cannot be read as rows.
        BulkPathError: The ledger or results path is unusable or unsafe (checked before
            anything is sent), or the results cannot be written.
        LedgerError: The ledger is in use by another run, or cannot be written.
        TelnyxError: No API key (unless ``client`` is given or it is a dry run).
    """
    if rate_limits is not None and (
        per_sender_rate is not None or rate not in (DEFAULT_RATE, None)
    ):
        raise ValueError(
            "give rate_limits, or rate and per_sender_rate (in this process only), not both"
        )
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
            client = AsyncTelnyx(
                api_key=api_key, base_url=base_url, max_connections=max(100, concurrency)
            )
            closing.push_async_callback(client.aclose)
        ledger = await AsyncLedger.open(ledger_file_or_memory, dry_run=dry_run)
        # Closed first: outcomes still queued are committed even after Ctrl-C.
        closing.push_async_callback(ledger.aclose)
        closing.push_async_exit(functools.partial(_results_if_cancelled, ledger, results_file))
        bad_rows = await ledger.call(lambda store: _register(store, source))
        before = await ledger.call(Ledger.counts)
        to_send = before.get("pending", 0) + before.get("failed", 0)
        to_send += before.get("unknown", 0) if retry_unknown else 0
        sent_now = 0
        stopped: str | None = None
        would_send = None
        if dry_run:
            would_send = await ledger.call(functools.partial(preview, retry_unknown=retry_unknown))
        elif to_send:
            assert client is not None
            sender = _Sender(ledger, client, total=to_send, progress=progress)
            sent_now, stopped = await sender.run(
                concurrency=concurrency,
                rate=None if rate_limits is not None else rate,
                per_sender_rate=None if rate_limits is not None else per_sender_rate,
                rate_limits=rate_limits,
                retry_unknown=retry_unknown,
                stop_on_account_error=stop_on_account_error,
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
        stopped=stopped,
        bad_rows=bad_rows,
        preview=would_send,
    )


def _register(ledger: Ledger, source: Path) -> tuple[BulkBadRow, ...]:
    """Phase one, on the ledger's thread: record every row of the input.

    Returns:
        The first bad rows, to show without a results file.
    """
    converter = get_converter()
    numbering = RowNumbering()
    bad: list[BulkBadRow] = []

    def rows() -> Iterator[tuple[str, int, str | None, str | None]]:
        for row in read_rows(source):
            if row.request is None:
                if len(bad) < BAD_ROWS_SHOWN:
                    bad.append(BulkBadRow(line=row.line, reason=row.error or "invalid"))
                yield numbering.id_for(bad_row_digest(row.raw)), row.line, None, row.error
            else:
                body = encode_request(converter, row.request).decode()
                yield numbering.id_for(request_digest(row.request)), row.line, body, None

    ledger.register(rows())
    return tuple(bad)


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
        self._sent = self._failed = self._unknown = 0

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
        rate_limits: RateLimits | None,
        retry_unknown: bool,
        stop_on_account_error: bool,
    ) -> tuple[int, str | None]:
        """Send; return how many rows Telnyx accepted, and why it stopped early, if it did."""
        started = time.monotonic()
        if self._progress is not None:
            self._progress(self._state)
        results = self._client.messages.send_many(
            self._requests(retry_unknown=retry_unknown),
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
        self._ledger.record(_update_for(self._row_ids.pop(result.index), result))
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
