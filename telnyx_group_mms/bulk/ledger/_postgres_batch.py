"""A batch of the PostgreSQL bulk ledger, read: its counts, its rows' outcomes, its workers.

:class:`BatchConnection` holds the one connection to the batch's database (the schema is
created on first use, versioned in the stores' meta table). The worker that sends rows,
:class:`~telnyx_group_mms.bulk.ledger._postgres.PostgresLedger`, builds on it; the
``status`` command uses it alone, and sends nothing.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, Final, TypeVar

import attrs

from ...errors import BackendUnavailableError
from ...stores._postgres import PostgresSession, ensure_schema, parse_url
from . import _postgres_sql as sql
from ._sqlite import LedgerError

if TYPE_CHECKING:
    from psycopg import AsyncConnection

__all__: list[str] = []  # internal: used by the PostgreSQL ledger and the status command

T = TypeVar("T")

#: The default lease of a worker, seconds.
DEFAULT_LEASE: Final = 30.0
SETTING: Final = "ledger"
_OUTCOMES_PAGE: Final = 5000


@attrs.frozen(kw_only=True)
class WorkerInfo:
    """A live worker of a batch.

    Attributes:
        id: ``host:pid:random``.
        host: The machine it runs on.
        pid: Its process id there.
        lease_left: Seconds until its lease expires, unless renewed.
        sent: Rows it sent in the batch's current generation.
    """

    id: str
    host: str
    pid: int
    lease_left: float
    sent: int


@attrs.frozen(kw_only=True)
class BatchStatus:
    """A batch's rows by state (bad rows under ``"bad"``) and its live workers."""

    counts: dict[str, int]
    workers: tuple[WorkerInfo, ...]


#: A row as the input gives it: ``(id, line, body, bad_reason)``.
Row = tuple[str, int, str | None, str | None]


class LeaseLostError(LedgerError):
    """This worker's lease expired: others took over its rows, so it stops sending."""


class BatchMismatchError(LedgerError):
    """This worker's settings differ from those of the live workers of its batch."""


@attrs.frozen(kw_only=True)
class Joined:
    """What joining a batch found.

    Attributes:
        generation: The batch's generation this worker works on.
        started: This worker started the generation (no other worker was live).
        registered: The rows of its input were written (new or changed input).
        to_send: Rows of the batch that may be claimed, at joining.
        sent_before: Rows of the batch sent already, at joining.
        counts: The batch's rows by state, at joining (bad rows under ``"bad"``).
    """

    generation: int
    started: bool
    registered: bool
    to_send: int
    sent_before: int
    counts: dict[str, int]


class BatchConnection:
    """The connection to one batch of a PostgreSQL ledger.

    Raises:
        BackendUnavailableError: The URL is malformed.
        ValueError: ``batch`` is empty or ``lease`` is not positive.
    """

    def __init__(self, url: str, *, batch: str, lease: float = DEFAULT_LEASE) -> None:
        if not batch:
            raise ValueError("batch: a batch needs a name")
        if lease <= 0:
            raise ValueError(f"lease: must be a positive number of seconds, got {lease!r}")
        self.target = parse_url(url, setting=SETTING)
        self.batch = batch
        self.lease = float(lease)
        self.worker = ""
        self.generation = 0
        self._session = PostgresSession(self.target, setting=SETTING, prepare=self._prepare)

    async def _prepare(self, db: AsyncConnection[Any]) -> None:
        await ensure_schema(
            db,
            component="bulk_ledger",
            version=sql.SCHEMA_VERSION,
            ddl=sql.DDL,
            where=self.target.where,
        )

    def _args(self, **more: object) -> dict[str, object]:
        return {"batch": self.batch, "me": self.worker, "gen": self.generation, **more}

    async def _once(self, work: Callable[[AsyncConnection[Any]], Awaitable[T]]) -> T:
        return await self._session.run(work, consequence="nothing was sent")

    async def _patiently(self, work: Callable[[AsyncConnection[Any]], Awaitable[T]]) -> T:
        """``work``, tried again while the server is unreachable, for as long as the lease."""
        deadline = time.monotonic() + self.lease
        delay = 0.05
        while True:
            try:
                return await self._session.run(work, consequence="the batch stopped")
            except BackendUnavailableError:
                if self._session.is_open or time.monotonic() + delay > deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(2 * delay, 1.0)

    async def connect(self) -> None:
        """Reach the server and create the schema if need be (nothing else is written).

        Raises:
            BackendUnavailableError: The server, database or credentials are unusable.
        """

        async def work(db: AsyncConnection[Any]) -> None:
            await db.execute("SELECT 1")

        await self._once(work)

    async def _counts(self, db: AsyncConnection[Any]) -> dict[str, int]:
        found = await (await db.execute(sql.COUNTS, self._args())).fetchall()
        return {state: int(count) for state, count in found}

    async def counts(self) -> dict[str, int]:
        """The batch's rows (of this generation) by state; bad rows under ``"bad"``."""
        return await self._patiently(self._counts)

    async def outcome_pages(
        self,
    ) -> AsyncGenerator[list[tuple[int, str, str | None, str | None, str | None]], None]:
        """The batch's rows by line, a page at a time: ``(line, state, message_id,
        error_code, error_detail)``."""
        after: tuple[int, str] = (0, "")
        while True:
            args = self._args(line=after[0], id=after[1], n=_OUTCOMES_PAGE)

            async def page(db: AsyncConnection[Any], args: dict[str, object] = args) -> list[Any]:
                return await (await db.execute(sql.OUTCOMES, args)).fetchall()

            found = await self._patiently(page)
            if found:
                yield [
                    (line, state, mid, code, detail) for line, state, mid, code, detail, _ in found
                ]
            if len(found) < _OUTCOMES_PAGE:
                return
            after = (found[-1][0], found[-1][5])

    async def outcomes(
        self,
    ) -> AsyncIterator[tuple[int, str, str | None, str | None, str | None]]:
        """The batch's rows by line, one at a time (see :meth:`outcome_pages`)."""
        async for page in self.outcome_pages():
            for outcome in page:
                yield outcome

    async def status(self) -> BatchStatus | None:
        """The batch's counts and live workers, or ``None`` if there is no such batch.

        Raises:
            BackendUnavailableError: The server, database or credentials are unusable.
        """

        async def work(db: AsyncConnection[Any]) -> BatchStatus | None:
            found = await (await db.execute(sql.BATCH, self._args())).fetchone()
            if found is None:
                return None
            self.generation = int(found[0])
            workers = await (await db.execute(sql.WORKERS_OF, self._args())).fetchall()
            return BatchStatus(
                counts=await self._counts(db),
                workers=tuple(
                    WorkerInfo(id=w, host=h, pid=p, lease_left=float(left), sent=int(n))
                    for w, h, p, left, n in workers
                ),
            )

        return await self._once(work)

    async def aclose(self) -> None:
        """Disconnect."""
        await self._session.aclose()


async def one(db: AsyncConnection[Any], statement: str, args: dict[str, object]) -> Any:
    """The one row ``statement`` returns."""
    row = await (await db.execute(statement, args)).fetchone()
    assert row is not None
    return row


def take(rows: Iterator[Row], count: int) -> list[Row]:
    """The next ``count`` rows (fewer at the end)."""
    return list(itertools.islice(rows, count))
