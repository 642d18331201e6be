"""Group commit for the bulk ledger: the SQLite work on a thread of its own.

``in_flight`` marks are awaited until committed (the request must not go out before);
outcomes are queued and ride along with the next commit. Whatever is queued while a
commit runs goes into the next one, so under load one fsync covers many rows, and the
event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ._sqlite import Ledger, LedgerError, RowState, RowUpdate

__all__: list[str] = []  # internal: used by the bulk runner

T = TypeVar("T")


class AsyncLedger:
    """A :class:`Ledger` on its own thread, with group commit."""

    def __init__(self, ledger: Ledger, executor: concurrent.futures.ThreadPoolExecutor) -> None:
        self.ledger = ledger
        self._executor = executor
        self._queued: list[tuple[RowUpdate | None, asyncio.Future[None] | None]] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._failure: BaseException | None = None
        self._writer = asyncio.create_task(self._write(), name="bulk-ledger-writer")

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
        await self._commit(RowUpdate(row_id, RowState.IN_FLIGHT))

    async def flush(self) -> None:
        """Return once everything queued so far is committed."""
        await self._commit(None)

    async def _commit(self, update: RowUpdate | None) -> None:
        self._raise_failure()
        done = asyncio.get_running_loop().create_future()
        self._queued.append((update, done))
        self._wake.set()
        await done

    def record(self, update: RowUpdate) -> None:
        """Queue an outcome for the next commit."""
        self._queued.append((update, None))
        self._wake.set()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise LedgerError(f"the ledger cannot be written: {self._failure}")

    async def _write(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queued:
                batch, self._queued = self._queued, []
                updates = [update for update, _ in batch]
                try:
                    # Shielded: a commit that started must finish, or waiters would
                    # be told nothing about it.
                    await asyncio.shield(
                        loop.run_in_executor(self._executor, self.ledger.apply, updates)
                    )
                except Exception as exc:  # noqa: BLE001 - handed to every waiter
                    self._failure = exc
                    for _, done in batch:
                        if done is not None and not done.done():
                            done.set_exception(LedgerError(f"the ledger cannot be written: {exc}"))
                    continue
                for _, done in batch:
                    if done is not None and not done.done():
                        done.set_result(None)
            if self._closing:
                return

    async def aclose(self) -> None:
        """Commit what is queued, close the ledger and its thread.

        Raises:
            LedgerError: An outcome could not be written.
        """
        self._closing = True
        self._wake.set()
        try:
            await asyncio.shield(self._writer)
        finally:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._executor, self.ledger.close)
            self._executor.shutdown(wait=True)
        self._raise_failure()
