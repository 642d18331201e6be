"""The bulk ledger in PostgreSQL: one batch shared by any number of workers on any machines.

The ledger is also the batch's work queue. A worker joins the batch (registering the rows
it brings, once), claims rows in small groups with ``FOR UPDATE SKIP LOCKED``, commits each
row ``in_flight`` right before its POST and records its outcome afterwards. Marks are
awaited (the request must not go out before); outcomes are queued; both ride in group
commits, one transaction for whatever queued up meanwhile.

Each worker holds a lease on the server's clock and renews it while alive. When a lease
expires, any worker reaps it: the rows it had in flight become ``unknown`` (they may have
gone out), those it had claimed but not started go back to be claimed. Every outcome is
fenced by the row's holder and attempt counter, so a worker that comes back after its
lease expired (a long pause, a partition) writes nothing over what others decided, and
it starts no new send: a mark needs a live lease.

While the server is unreachable (a restart), the group commits and the lease renewal
keep trying for as long as the lease lasts; then the run fails, its rows in flight left
for the others (or the next run) to reap.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Final

from ...errors import BackendUnavailableError
from . import _postgres_sql as sql
from ._commit_queue import CommitQueue
from ._postgres_batch import (
    DEFAULT_LEASE,
    BatchConnection,
    BatchMismatchError,
    Joined,
    LeaseLostError,
    Row,
    one,
    take,
)
from ._sqlite import LedgerError, RowState, RowUpdate

if TYPE_CHECKING:
    from psycopg import AsyncConnection

__all__: list[str] = []  # internal: used by the bulk runner

_REGISTER_CHUNK: Final = 5000
_LOST: Final = (
    "the worker sending this row stopped renewing its lease before recording an outcome: "
    "Telnyx may or may not have accepted it; check before resending (--retry-unknown "
    "sends it again)"
)
_INTERRUPTED: Final = (
    "the run stopped while this row was in flight: Telnyx may or may not have accepted it; "
    "check before resending (--retry-unknown sends it again)"
)


class PostgresLedger(BatchConnection):
    """One worker of a batch in PostgreSQL; see the module's text.

    :meth:`join` the batch; from then on the lease is renewed until :meth:`aclose`.

    Raises:
        BackendUnavailableError: The URL is malformed.
        ValueError: ``batch`` is empty or ``lease`` is not positive.
    """

    def __init__(self, url: str, *, batch: str, lease: float = DEFAULT_LEASE) -> None:
        super().__init__(url, batch=batch, lease=lease)
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.retry_unknown = False
        #: Outcomes not written because another worker had decided for the row first.
        self.fenced = 0
        #: The batch counts this worker among its workers (it may have sent rows).
        self.worker_joined = False
        self._attempts: dict[str, int] = {}
        # The last line claimed: the next claim starts after it, never re-reading the
        # index entries of rows already taken (dead until a vacuum).
        self._after = 0
        self._queue: CommitQueue | None = None
        self._closing = False
        self._lost = False
        self._renewer: asyncio.Task[None] | None = None

    # -- joining ----------------------------------------------------------------------

    async def join(
        self,
        rows: Callable[[], Iterator[Row]],
        *,
        digest: str,
        retry_unknown: bool,
        dry_run: bool = False,
    ) -> Joined:
        """Join the batch as a worker with a lease, registering ``rows`` if the batch lacks them.

        ``rows()`` reads the input again, only if its rows must be written (read off the
        event loop, a group at a time, so the input is never held whole); ``digest`` says
        whether the batch has them already.

        With no other live worker, this worker starts a new generation of the batch (as a
        new run of a SQLite ledger): the batch becomes the rows of its input. With live
        workers, it joins their generation; rows of its input the batch does not have are
        added. A dry run rolls everything back and takes no lease.

        Raises:
            BatchMismatchError: Live workers run the batch with another ``retry_unknown``,
                or from an input this one neither extends nor is part of.
            BackendUnavailableError: The server failed.
        """
        self.retry_unknown = retry_unknown

        async def work(db: AsyncConnection[Any]) -> Joined:
            async with db.transaction(force_rollback=dry_run):
                return await self._join(db, rows, digest=digest)

        joined = await self._once(work)
        if not dry_run:
            self.worker_joined = True
            self._queue = CommitQueue(
                self._apply,
                failure=_as_ledger_error,
                refused=self._refused,
                name="bulk-pg-ledger-writer",
            )
            self._renewer = asyncio.create_task(self._renew(), name="bulk-pg-ledger-lease")
        return joined

    async def _join(
        self, db: AsyncConnection[Any], rows: Callable[[], Iterator[Row]], *, digest: str
    ) -> Joined:
        args = self._args(retry=self.retry_unknown, why=_LOST)
        await db.execute(sql.ADD_BATCH, args)
        found = await (await db.execute(sql.LOCK_BATCH, args)).fetchone()
        assert found is not None
        generation, known_digest, _ = found
        await db.execute(sql.REAP, {**args, "gen": generation})
        live, other_setting = await one(db, sql.LIVE_OTHERS, args)
        if other_setting:
            flag = "without" if self.retry_unknown else "with"
            raise BatchMismatchError(
                f"batch {self.batch!r} is being sent by {other_setting} live worker(s) "
                f"{flag} --retry-unknown; every worker of a batch must use the same setting"
            )
        started = not live
        registered = started or digest != known_digest
        if started:
            generation = (await one(db, sql.NEW_GENERATION, {**args, "digest": digest}))[0]
        self.generation = int(generation)
        if registered and not started:
            await self._check_append(db, rows)
        if registered:
            source = rows()
            while chunk := await asyncio.to_thread(take, source, _REGISTER_CHUNK):
                await db.execute(
                    sql.REGISTER,
                    self._args(
                        ids=[r[0] for r in chunk],
                        lines=[r[1] for r in chunk],
                        bodies=[r[2] for r in chunk],
                        reasons=[r[3] for r in chunk],
                    ),
                )
        await db.execute(
            sql.ADD_WORKER,
            self._args(
                host=socket.gethostname(),
                pid=os.getpid(),
                retry=self.retry_unknown,
                lease=self.lease,
            ),
        )
        to_send = (await one(db, sql.CLAIMABLE_COUNT, self._args(retry=self.retry_unknown)))[0]
        counts = await self._counts(db)
        return Joined(
            generation=self.generation,
            started=started,
            registered=registered,
            to_send=int(to_send),
            sent_before=counts.get("sent", 0),
            counts=counts,
        )

    async def _check_append(
        self, db: AsyncConnection[Any], rows: Callable[[], Iterator[Row]]
    ) -> None:
        """Refuse an input that would change, not extend, a batch that live workers send.

        An appended file (every row of the batch, and more) adds its new rows; an older
        copy (some of the batch's rows, none new) adds nothing. Anything else, another
        file most likely, would mix two batches into one.
        """
        source, rows_in, known = rows(), 0, 0
        while chunk := await asyncio.to_thread(take, source, _REGISTER_CHUNK):
            rows_in += len(chunk)
            ids = [r[0] for r in chunk]
            known += (await one(db, sql.KNOWN_ROWS, self._args(ids=ids)))[0]
        in_batch = sum((await self._counts(db)).values())
        new, missing = rows_in - known, in_batch - known
        if new and missing:
            raise BatchMismatchError(
                f"batch {self.batch!r} is being sent by live workers from another input: "
                f"this one has {new} row(s) the batch lacks and lacks {missing} of its "
                "rows; a worker may add rows to a live batch (an appended file), not "
                "replace them: wait for the batch to finish, or give another --batch"
            )

    # -- claiming, marking, recording ------------------------------------------------------

    async def claim(self, limit: int) -> list[tuple[str, int, str]]:
        """Claim up to ``limit`` rows to send: ``(id, line, body)``, by line.

        Raises:
            LeaseLostError: This worker's lease expired; it must stop.
        """

        async def work(db: AsyncConnection[Any]) -> list[tuple[str, int, str, int]]:
            args = self._args(retry=self.retry_unknown, n=limit, after=self._after)
            found = await (await db.execute(sql.CLAIM, args)).fetchall()
            if not found and self._after:
                # Rows before the cursor: given back by a worker that left or died.
                found = await (await db.execute(sql.CLAIM, {**args, "after": 0})).fetchall()
            if not found and not (await one(db, sql.LEASE_LIVE, self._args()))[0]:
                self._lost = True
            return list(found)

        self._check_lease()
        claimed = await self._patiently(work)
        self._check_lease()
        if claimed:
            self._after = max(line for _, line, _, _ in claimed)
        # The attempt the send of each row will be: fences its mark and its outcome.
        for row_id, _, _, attempts in claimed:
            self._attempts[row_id] = int(attempts) + 1
        return sorted(((row_id, line, body) for row_id, line, body, _ in claimed), key=_line)

    async def more_to_do(self, poll: float) -> bool:
        """After a claim found nothing: whether the batch may still give this worker rows.

        Reaps expired workers first (giving back their claims). While rows are held by
        live others, waits ``poll`` seconds and says yes: they may give rows back.

        Returns:
            False once no row is left to claim and no other worker holds one.
        """

        async def work(db: AsyncConnection[Any]) -> tuple[int, int]:
            async with db.transaction():
                await db.execute(sql.REAP, self._args(why=_LOST))
                held = (await one(db, sql.HELD_BY_OTHERS, self._args()))[0]
                args = self._args(retry=self.retry_unknown)
                return int(held), int((await one(db, sql.CLAIMABLE_COUNT, args))[0])

        self._check_lease()
        held, claimable = await self._patiently(work)
        if claimable:
            return True
        if held:
            await asyncio.sleep(poll)
        return held > 0

    def _check_lease(self) -> None:
        if self._queue is not None:
            self._queue.raise_failure()
        if self._lost:
            raise self._refused()

    async def mark_in_flight(self, row_id: str) -> None:
        """Commit ``row_id`` as ``in_flight``; return once it is durable.

        Raises:
            LeaseLostError: The row is no longer this worker's: it must not be sent.
        """
        self._check_lease()
        assert self._queue is not None, "join the batch first"
        await self._queue.commit(RowUpdate(row_id, RowState.IN_FLIGHT))

    def record(self, update: RowUpdate) -> None:
        """Queue an outcome; the next group commit writes it (if still this worker's)."""
        assert self._queue is not None, "join the batch first"
        self._queue.record(update)

    async def flush(self) -> None:
        """Return once everything queued so far is committed."""
        assert self._queue is not None, "join the batch first"
        await self._queue.commit(None)

    def _refused(self) -> LeaseLostError:
        self._lost = True
        return LeaseLostError(
            f"this worker's lease on batch {self.batch!r} expired (it was paused or cut "
            f"off for more than {self.lease:g} s): other workers took over its rows; "
            "its rows in flight are unknown to the batch"
        )

    async def _apply(self, group: Sequence[RowUpdate | None]) -> set[str]:
        marks = {u.row_id for u in group if u is not None and u.state is RowState.IN_FLIGHT}
        marked = await asyncio.shield(self._patiently(self._applier(group)))
        return marks - marked

    def _applier(
        self, group: Sequence[RowUpdate | None]
    ) -> Callable[[AsyncConnection[Any]], Awaitable[set[str]]]:
        marks = [u.row_id for u in group if u is not None and u.state is RowState.IN_FLIGHT]
        outcomes = [u for u in group if u is not None and u.state is not RowState.IN_FLIGHT]
        attempts = self._attempts

        async def work(db: AsyncConnection[Any]) -> set[str]:
            async with db.transaction():
                if outcomes:
                    found = await db.execute(
                        sql.RECORD,
                        self._args(
                            ids=[u.row_id for u in outcomes],
                            attempts=[attempts.get(u.row_id, 0) for u in outcomes],
                            states=[u.state.value for u in outcomes],
                            message_ids=[u.message_id for u in outcomes],
                            codes=[u.error_code for u in outcomes],
                            details=[u.error_detail for u in outcomes],
                        ),
                    )
                    written = {row[0] for row in await found.fetchall()}
                if marks:
                    found = await db.execute(
                        sql.MARK, self._args(ids=marks, attempts=[attempts[m] for m in marks])
                    )
                    marked = {row[0] for row in await found.fetchall()}
                else:
                    marked = set()
            if outcomes:
                self.fenced += len(outcomes) - len(written)
                for update in outcomes:
                    attempts.pop(update.row_id, None)
            return marked

        return work

    async def _renew(self) -> None:
        async def work(db: AsyncConnection[Any]) -> bool:
            return await (await db.execute(sql.RENEW, self._args())).fetchone() is not None

        renewed = time.monotonic()
        while not self._closing:
            await asyncio.sleep(self.lease / 3)
            try:
                if not await self._session.run(work, consequence="the lease was not renewed"):
                    self._lost = True
                    return
                renewed = time.monotonic()
            except BackendUnavailableError:
                if time.monotonic() - renewed > self.lease:
                    self._lost = True
                    return

    # -- leaving ------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Commit what is queued, give back unstarted claims, end the lease, disconnect.

        Rows still in flight (an interruption) become ``unknown``.

        Raises:
            BackendUnavailableError: What was queued could not be written.
        """
        self._closing = True
        queue, self._queue = self._queue, None
        try:
            if self._renewer is not None:
                self._renewer.cancel()
            if queue is not None:
                try:
                    await queue.aclose()
                finally:

                    async def leave(db: AsyncConnection[Any]) -> None:
                        async with db.transaction():
                            for statement in sql.LEAVE:
                                await db.execute(statement, self._args(why=_INTERRUPTED))

                    # Best effort: rows this fails to give back are reaped once the
                    # lease expires.
                    with contextlib.suppress(BackendUnavailableError):
                        await asyncio.shield(self._patiently(leave))
        finally:
            await super().aclose()


def _as_ledger_error(exc: Exception) -> BaseException:
    if isinstance(exc, LedgerError | BackendUnavailableError):
        return exc
    return LedgerError(f"the ledger cannot be written: {exc}")


def _line(row: tuple[str, int, str]) -> int:
    return row[1]
