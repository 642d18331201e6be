"""The SQLite ledger on a thread of its own, with group commit (:mod:`._commit_queue`).

Under load one fsync covers many rows, and the event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from ._commit_queue import CommitQueue
from ._sqlite import Ledger, LedgerError, RowState, RowUpdate

__all__: list[str] = []  # internal: used by the bulk runner

T = TypeVar("T")


class AsyncLedger:
    """A :class:`Ledger` on its own thread, with group commit."""

    def __init__(self, ledger: Ledger, executor: concurrent.futures.ThreadPoolExecutor) -> None:
        self.ledger = ledger
        self._executor = executor
        self._queue = CommitQueue(
            self._apply, failure=_cannot_write, refused=_no_refusal, name="bulk-ledger-writer"
        )

    @classmethod
    async def open(cls, path: Path | None, *, dry_run: bool = False) -> AsyncLedger:
        """Open the ledger at ``path`` (``None``: in memory) on a thread of its own.

        Raises:
            LedgerError: Another run holds it, or the file is not a ledger.
        """
        executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="telnyx-ledger")
        loop = asyncio.get_running_loop()
        try:
            ledger = await loop.run_in_executor(executor, lambda: Ledger(path, dry_run=dry_run))
        except BaseException:
            executor.shutdown(wait=True)
            raise
        return cls(ledger, executor)

    async def call(self, fn: Callable[[Ledger], T]) -> T:
        """Run ``fn(ledger)`` on the ledger's thread."""
        ledger = self.ledger
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, ledger)

    async def mark_in_flight(self, row_id: str) -> None:
        """Commit ``row_id`` as ``in_flight``; return once it is durable."""
        await self._queue.commit(RowUpdate(row_id, RowState.IN_FLIGHT))

    async def flush(self) -> None:
        """Return once everything queued so far is committed."""
        await self._queue.commit(None)

    def record(self, update: RowUpdate) -> None:
        """Queue an outcome for the next commit."""
        self._queue.record(update)

    async def _apply(self, updates: Sequence[RowUpdate | None]) -> set[str]:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self.ledger.apply, updates)
        return set()  # one run holds the file: no mark is ever refused

    async def aclose(self) -> None:
        """Commit what is queued, close the ledger and its thread.

        Raises:
            LedgerError: An outcome could not be written.
        """
        try:
            await self._queue.aclose()
        finally:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._executor, self.ledger.close)
            self._executor.shutdown(wait=True)


def _cannot_write(exc: Exception) -> LedgerError:
    return LedgerError(f"the ledger cannot be written: {exc}")


def _no_refusal() -> LedgerError:
    raise AssertionError("the SQLite ledger refuses no mark")
