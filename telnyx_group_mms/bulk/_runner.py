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
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Final

from ..client import AsyncTelnyx
from ..errors import TelnyxError
from ..limits._sender_rates import PerSenderRate
from ..limits._shared import RateLimits
from ..stores._postgres import is_postgres_url
from ._files import check_run_files
from ._input import check_input
from ._report import BulkBadRow, BulkProgress, BulkSummary, preview
from ._rows import ledger_rows, write_results
from ._sending import Sender
from .ledger._group_commit import AsyncLedger
from .ledger._postgres_batch import DEFAULT_LEASE
from .ledger._sqlite import Ledger

__all__ = [
    "DEFAULT_LEASE",
    "DEFAULT_RATE",
    "BulkProgress",
    "BulkSummary",
    "default_batch",
    "default_ledger_path",
    "run_bulk",
]

# Rows read from the ledger per query while sending.
_CHUNK: Final = 256
#: The account-wide rate a bulk run keeps to unless told otherwise, messages per second:
#: Telnyx's default limit for MMS, so a run paces itself instead of meeting 429s.
DEFAULT_RATE: Final = 15.0


def default_batch(input_path: str | Path) -> str:
    """The batch name a PostgreSQL ledger uses by default: the input's file name."""
    return Path(input_path).name


def default_ledger_path(input_path: str | Path) -> Path:
    """``<input>.ledger.sqlite``, beside the input."""
    path = Path(input_path)
    return path.with_name(path.name + ".ledger.sqlite")


async def run_bulk(
    input_path: str | Path,
    *,
    ledger: str | Path | None = None,
    batch: str | None = None,
    lease: float = DEFAULT_LEASE,
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

    With a PostgreSQL ledger (``ledger="postgresql://..."``), any number of runs, on any
    machines, work on one batch together: each row is sent by one of them, and each
    returns the summary of the whole batch once no row is left to send (see
    :mod:`telnyx_group_mms.bulk.ledger._postgres`).

    Args:
        input_path: A JSONL or CSV file (see :func:`telnyx_group_mms.bulk._input.read_rows`).
        ledger: The SQLite ledger's path (by default :func:`default_ledger_path`), or a
            ``postgresql://`` (or ``postgres://``) URL: a batch shared by every run
            given the same URL and ``batch`` (the ``postgres`` extra is needed:
            ``pip install 'telnyx-group-mms[postgres]'``; libpq settings such as
            ``sslmode`` pass through the URL).
        batch: With PostgreSQL, the batch's name; by default the input's file name.
        lease: With PostgreSQL, seconds this run's lease on its rows lasts unless renewed
            (it is renewed while the run lives); when it expires, other runs declare
            the rows it had in flight ``unknown`` and send those it had not started.
        ledger_path: The SQLite ledger, as ``ledger`` (kept for compatibility).
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
        InputError: The input cannot be read as rows.
        BulkPathError: The ledger or results path is unusable or unsafe (checked before
            anything is sent), or the results cannot be written.
        LedgerError: The ledger is in use by another run, or cannot be written; with
            PostgreSQL, other live workers of the batch use another ``retry_unknown``
            (``BatchMismatchError``), or this run's lease expired (``LeaseLostError``).
        BackendUnavailableError: The PostgreSQL ledger cannot be used (nothing is sent
            when this is found on connecting), or its driver is not installed.
        TelnyxError: No API key (unless ``client`` is given or it is a dry run).
        ValueError: ``rate_limits`` is given with ``per_sender_rate``, or with a ``rate``
            other than the default; both ``ledger`` and ``ledger_path``; ``batch``
            without PostgreSQL.
    """
    if rate_limits is not None and (
        per_sender_rate is not None or rate not in (DEFAULT_RATE, None)
    ):
        raise ValueError(
            "give rate_limits, or rate and per_sender_rate (in this process only), not both"
        )
    started = time.monotonic()
    source = Path(input_path)
    if ledger is not None and ledger_path is not None:
        raise ValueError("ledger and ledger_path: give one of them")
    where = ledger if ledger is not None else ledger_path
    check_input(source)
    if is_postgres_url(where):
        assert isinstance(where, str)
        from ._pg_run import run_on_postgres

        results = Path(results_path) if results_path is not None else None
        check_run_files(input_path=source, ledger_path=None, results_path=results)
        return await run_on_postgres(
            source,
            url=where,
            batch=batch if batch is not None else default_batch(source),
            lease=lease,
            results_file=results,
            concurrency=concurrency,
            rate=None if rate_limits is not None else rate,
            per_sender_rate=None if rate_limits is not None else per_sender_rate,
            rate_limits=rate_limits,
            retry_unknown=retry_unknown,
            stop_on_account_error=stop_on_account_error,
            dry_run=dry_run,
            client=client,
            api_key=api_key,
            base_url=base_url,
            progress=progress,
        )
    if batch is not None:
        raise ValueError("batch: only a PostgreSQL ledger holds batches")
    ledger_file = Path(where) if where is not None else default_ledger_path(source)
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
        store = await AsyncLedger.open(ledger_file_or_memory, dry_run=dry_run)
        # Closed first: outcomes still queued are committed even after Ctrl-C.
        closing.push_async_callback(store.aclose)
        closing.push_async_exit(functools.partial(_results_if_cancelled, store, results_file))
        bad_rows = await store.call(lambda db: _register(db, source))
        before = await store.call(Ledger.counts)
        to_send = before.get("pending", 0) + before.get("failed", 0)
        to_send += before.get("unknown", 0) if retry_unknown else 0
        sent_now = 0
        stopped: str | None = None
        would_send = None
        if dry_run:
            would_send = await store.call(functools.partial(preview, retry_unknown=retry_unknown))
        elif to_send:
            assert client is not None
            rows = _sendable(store, retry_unknown=retry_unknown)
            sender = Sender(store, client, rows, total=to_send, progress=progress)
            sent_now, stopped = await sender.run(
                concurrency=concurrency,
                rate=None if rate_limits is not None else rate,
                per_sender_rate=None if rate_limits is not None else per_sender_rate,
                rate_limits=rate_limits,
                stop_on_account_error=stop_on_account_error,
            )
        await store.flush()
        after = await store.call(Ledger.counts)
        if results_file is not None:
            await store.call(lambda db: _write_results(db, results_file))
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
    bad: list[BulkBadRow] = []
    ledger.register(ledger_rows(source, bad))
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
    write_results(path, ledger.outcomes())


async def _sendable(ledger: AsyncLedger, *, retry_unknown: bool) -> AsyncIterator[tuple[str, str]]:
    """This run's rows to send, by line: ``(row_id, body)``."""
    after = 0
    while True:
        query = functools.partial(
            Ledger.sendable, after_line=after, limit=_CHUNK, retry_unknown=retry_unknown
        )
        chunk = await ledger.call(query)
        if not chunk:
            return
        for row_id, _line, body in chunk:
            yield row_id, body
        after = chunk[-1][1]
