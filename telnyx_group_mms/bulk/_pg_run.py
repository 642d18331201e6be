"""A bulk run on a batch of a PostgreSQL ledger: one of any number of workers.

The worker joins the batch (its input's rows registered once), then claims rows in small
groups and sends them until none is left to claim and no other live worker holds one;
the summary and the results are then the whole batch's.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

from ..client import AsyncTelnyx
from ..errors import BackendUnavailableError, TelnyxError
from ..limits._sender_rates import PerSenderRate
from ..limits._shared import RateLimits
from ..stores._postgres import redact
from ._report import BulkBadRow, BulkProgress, BulkSummary
from ._rows import Outcome, ledger_rows, write_results
from ._sending import Sender
from .ledger._postgres import PostgresLedger
from .ledger._sqlite import LedgerError

__all__: list[str] = []  # internal: used by run_bulk


def read_input(source: Path) -> tuple[str, tuple[BulkBadRow, ...]]:
    """The digest that says whether a batch has the input's rows, and its first bad rows."""
    bad: list[BulkBadRow] = []
    digest = hashlib.sha256()
    for row_id, line, body, reason in ledger_rows(source, bad):
        digest.update(f"{row_id}\0{line}\0{body}\0{reason}\n".encode("utf-8", "surrogatepass"))
    return digest.hexdigest(), tuple(bad)


async def _claimed(ledger: PostgresLedger, *, chunk: int) -> AsyncIterator[tuple[str, str]]:
    poll = min(1.0, ledger.lease / 4)
    while True:
        claimed = await ledger.claim(chunk)
        if not claimed:
            if await ledger.more_to_do(poll):
                continue
            return
        for row_id, _line, body in claimed:
            yield row_id, body


async def _write_results(ledger: PostgresLedger, path: Path) -> None:
    """The results file, written off the loop while the loop reads the rows page by page.

    The batch may be larger than a worker's memory: no more than a page is held.
    """
    loop = asyncio.get_running_loop()
    pages = ledger.outcome_pages()

    async def next_page() -> list[Outcome] | None:
        return await anext(pages, None)

    def outcomes() -> Iterator[Outcome]:
        while (page := asyncio.run_coroutine_threadsafe(next_page(), loop).result()) is not None:
            yield from page

    try:
        await asyncio.to_thread(write_results, path, outcomes())
    finally:
        await pages.aclose()


async def run_on_postgres(
    source: Path,
    *,
    url: str,
    batch: str,
    lease: float,
    results_file: Path | None,
    concurrency: int,
    rate: float | None,
    per_sender_rate: PerSenderRate | None,
    rate_limits: RateLimits | None,
    retry_unknown: bool,
    stop_on_account_error: bool,
    dry_run: bool,
    client: AsyncTelnyx | None,
    api_key: str | None,
    base_url: str | None,
    progress: Callable[[BulkProgress], None] | None,
) -> BulkSummary:
    """:func:`run_bulk` with ``ledger`` a PostgreSQL URL (its checks already made)."""
    started = time.monotonic()
    ledger = PostgresLedger(url, batch=batch, lease=lease)
    try:
        async with contextlib.AsyncExitStack() as closing:
            closing.push_async_callback(ledger.aclose)
            # Before anything else: a wrong URL or an unreachable server sends nothing.
            await ledger.connect()
            digest, bad_rows = await asyncio.to_thread(read_input, source)
            if client is None and not dry_run:
                client = AsyncTelnyx(
                    api_key=api_key, base_url=base_url, max_connections=max(100, concurrency)
                )
                closing.push_async_callback(client.aclose)
            joined = await ledger.join(
                functools.partial(ledger_rows, source, []),
                digest=digest,
                retry_unknown=retry_unknown,
                dry_run=dry_run,
            )
            sent_now = 0
            stopped: str | None = None
            if dry_run:
                after = joined.counts
            else:
                if results_file is not None:
                    closing.push_async_exit(_results_if_cancelled(ledger, results_file))
                assert client is not None
                chunk = min(max(concurrency, 8), 100)
                sender = Sender(
                    ledger,
                    client,
                    _claimed(ledger, chunk=chunk),
                    total=joined.to_send,
                    progress=progress,
                )
                sent_now, stopped = await sender.run(
                    concurrency=concurrency,
                    rate=rate,
                    per_sender_rate=per_sender_rate,
                    rate_limits=rate_limits,
                    stop_on_account_error=stop_on_account_error,
                )
                await ledger.flush()
                after = await ledger.counts()
                if results_file is not None:
                    await _write_results(ledger, results_file)
    except BackendUnavailableError as exc:
        if not ledger.worker_joined:
            raise  # found on connecting or joining: nothing was sent
        raise LedgerError(
            f"{exc}; rows this worker had in flight become unknown when its lease expires; "
            "run the same command again to resume the batch"
        ) from exc
    return BulkSummary(
        rows=sum(after.values()),
        sent=after.get("sent", 0),
        sent_before=joined.sent_before,
        failed=after.get("failed", 0),
        unknown=after.get("unknown", 0),
        bad=after.get("bad", 0),
        pending=after.get("pending", 0),
        to_send=joined.to_send,
        elapsed=time.monotonic() - started,
        dry_run=dry_run,
        ledger_path=None,
        results_path=results_file,
        stopped=stopped,
        bad_rows=bad_rows,
        ledger_url=redact(ledger.target.url),
        batch=ledger.batch,
        worker_sent=None if dry_run else sent_now,
        not_recorded=ledger.fenced,
    )


def _results_if_cancelled(ledger: PostgresLedger, path: Path) -> Callable[..., Awaitable[bool]]:
    """On the way out of an interrupted run, write the results (as the SQLite runner does)."""

    async def on_exit(exc_type: type[BaseException] | None, *_: object) -> bool:
        if exc_type is not None and issubclass(exc_type, asyncio.CancelledError):
            with contextlib.suppress(TelnyxError):
                await ledger.flush()
                await _write_results(ledger, path)
        return False

    return on_exit
