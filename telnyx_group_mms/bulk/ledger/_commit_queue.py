"""Group commit, for both ledgers: marks awaited, outcomes queued, one write per group.

``in_flight`` marks are awaited until committed (the request must not go out before);
outcomes are queued and ride along with the next commit. Whatever is queued while a
commit runs goes into the next one, so under load one commit (one fsync, one round trip)
covers many rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from ._sqlite import RowUpdate

__all__: list[str] = []  # internal: used by the ledgers

#: Writes one group (``None`` entries are flushes) and returns the row ids of the marks
#: it refused: their senders must not send them.
Apply = Callable[[Sequence[RowUpdate | None]], Awaitable[set[str]]]


class CommitQueue:
    """A writer task committing whatever was queued, group after group."""

    def __init__(
        self,
        apply: Apply,
        *,
        failure: Callable[[Exception], BaseException],
        refused: Callable[[], BaseException],
        name: str,
    ) -> None:
        self._apply = apply
        self._failure_of = failure
        self._refused = refused
        self._queued: list[tuple[RowUpdate | None, asyncio.Future[None] | None]] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._failure: BaseException | None = None
        self._writer = asyncio.create_task(self._write(), name=name)

    async def commit(self, update: RowUpdate | None) -> None:
        """Queue ``update`` (``None``: nothing, a flush); return once it is committed.

        Raises:
            BaseException: What ``failure`` made of a failed write, or ``refused()``
                for a mark the write refused.
        """
        self.raise_failure()
        done = asyncio.get_running_loop().create_future()
        self._queued.append((update, done))
        self._wake.set()
        await done

    def record(self, update: RowUpdate) -> None:
        """Queue an outcome for the next commit."""
        self._queued.append((update, None))
        self._wake.set()

    def raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    async def _write(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queued:
                group, self._queued = self._queued, []
                try:
                    # Shielded: a commit that started must finish, or waiters would
                    # be told nothing about it.
                    refused = await asyncio.shield(self._apply([u for u, _ in group]))
                except Exception as exc:  # noqa: BLE001 - handed to every waiter
                    self._failure = self._failure_of(exc)
                    for _, done in group:
                        if done is not None and not done.done():
                            done.set_exception(self._failure_of(exc))
                    continue
                for update, done in group:
                    if done is None or done.done():
                        continue
                    if update is not None and update.row_id in refused:
                        done.set_exception(self._refused())
                    else:
                        done.set_result(None)
            if self._closing:
                return

    async def aclose(self) -> None:
        """Commit what is queued and stop the writer.

        Raises:
            BaseException: What ``failure`` made of a failed write.
        """
        self._closing = True
        self._wake.set()
        await asyncio.shield(self._writer)
        self.raise_failure()
