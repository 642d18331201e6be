"""Idempotency keys in PostgreSQL: for every process on every host that uses the database.

A claim is one transaction (``SELECT ... FOR UPDATE`` on the key's row, after an insert
that loses to any concurrent one), committed before the POST. Time is the server's,
so the hosts' clocks need not agree. A record names its holder by its database session
(backend pid and start): a holder whose process died has lost its session, so the next
claim knows at once that the outcome is unknown, rather than after the deadline.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final, TypeVar

from ._keys import (
    DEFAULT_RETENTION,
    Claim,
    ClaimKind,
    KeyRecord,
    KeyStatus,
    check_retention,
    decide_claim,
    effective_state,
    status_of,
)
from ._keys_sql import HOLDER_GONE, MARKED_NOT_SENT, SCHEMA_VERSION, Statements, record_from_row
from ._postgres import PostgresSession, ensure_schema, parse_url, redact
from ._states import SendState

if TYPE_CHECKING:
    from psycopg import AsyncConnection

__all__ = ["PostgresIdempotencyStore"]

T = TypeVar("T")

_TABLE: Final = "telnyx_group_mms_idempotency_keys"
_SQL: Final = Statements(table=_TABLE, placeholder="%s", lock_row=" FOR UPDATE")
_PRUNE_EVERY: Final = 60.0
_NOW: Final = "SELECT extract(epoch FROM clock_timestamp())::float8"
_ALIVE: Final = (
    "SELECT EXISTS (SELECT 1 FROM pg_stat_activity"
    " WHERE pid::text || ':' || backend_start::text = %s)"
)
_SETTING: Final = "idempotency_store"


class PostgresIdempotencyStore:
    """Idempotency keys recorded in PostgreSQL, shared by every process and host using it.

    Needs the ``postgres`` extra (``pip install 'telnyx-group-mms[postgres]'``). The
    table is created on first use, with its schema version recorded. The URL goes to
    libpq as it is, so ``sslmode`` and the other connection settings pass through; no
    message or log shows its password.

    Args:
        url: A ``postgresql://`` (or ``postgres://``) URL.
        retention: Seconds a record is kept after its last change (24 hours by default);
            older records are pruned as the store is used.

    Raises:
        BackendUnavailableError: The URL is malformed.
        ValueError: ``retention`` is not a positive number.
    """

    def __init__(self, url: str, *, retention: float = DEFAULT_RETENTION) -> None:
        self._target = parse_url(url, setting=_SETTING)
        self.retention = check_retention(retention)
        self._holder = ""
        self._session = PostgresSession(self._target, setting=_SETTING, prepare=self._prepare)
        self._pruned = 0.0

    def __repr__(self) -> str:
        return f"PostgresIdempotencyStore({redact(self._target.url)!r})"

    # -- the IdempotencyStore interface ------------------------------------------------

    async def claim(self, *, scope: str, key: str, digest: str, owner: str, hold: float) -> Claim:
        async def work(db: AsyncConnection[Any]) -> Claim:
            async with db.transaction():
                now = await self._now(db)
                if now - self._pruned > _PRUNE_EVERY:
                    self._pruned = now
                    await db.execute(_SQL.prune, (now - self.retention, now))
                taken = await db.execute(
                    _SQL.take_new, (scope, key, digest, owner, self._holder, now + hold, now)
                )
                if taken.rowcount == 1:
                    return Claim(kind=ClaimKind.CLAIMED)
                # The record exists: FOR UPDATE locks it, so the decision is this claim's alone.
                record = await self._select(db, scope, key)
                alive = await self._alive(db, record)
                claim, write = decide_claim(
                    record, digest=digest, now=now, retention=self.retention, holder_alive=alive
                )
                if write is SendState.IN_FLIGHT:
                    args = (scope, key, digest, owner, self._holder, now + hold, now)
                    await db.execute(_SQL.take, args)
                elif write is SendState.UNKNOWN and record is not None:
                    args2 = ("unknown", None, HOLDER_GONE, now, scope, key, record.owner)
                    await db.execute(_SQL.overwrite, args2)
            return claim

        return await self._run(work)

    async def settle(
        self,
        *,
        scope: str,
        key: str,
        owner: str,
        state: SendState,
        message: str | None = None,
        error: str | None = None,
    ) -> None:
        async def work(db: AsyncConnection[Any]) -> None:
            now = await self._now(db)
            args = (state.value, message, error, now, scope, key, owner)
            await db.execute(_SQL.settle, args)

        await self._run(work)

    async def status(self, *, scope: str, key: str) -> KeyStatus | None:
        async def work(db: AsyncConnection[Any]) -> KeyStatus | None:
            record = await self._select(db, scope, key)
            alive = await self._alive(db, record)
            return status_of(record, now=await self._now(db), holder_alive=alive)

        return await self._run(work)

    async def resolve(self, *, scope: str, key: str, message: str) -> bool:
        return await self._settle_unknown(scope, key, SendState.SENT, message)

    async def mark_not_sent(self, *, scope: str, key: str) -> bool:
        return await self._settle_unknown(scope, key, SendState.FAILED, None)

    async def aclose(self) -> None:
        await self._session.aclose()

    def forget(self) -> None:
        """In a forked child: drop the parent's connection without closing it.

        Closing it here would end the parent's database session, on the socket both
        processes share; it is kept, unused, for the life of the child.
        """
        self._session.forget()

    # -- inside one transaction ---------------------------------------------------------

    async def _settle_unknown(
        self, scope: str, key: str, state: SendState, message: str | None
    ) -> bool:
        async def work(db: AsyncConnection[Any]) -> bool:
            async with db.transaction():
                now = await self._now(db)
                record = await self._select(db, scope, key)
                if record is None:
                    return False
                alive = await self._alive(db, record)
                if effective_state(record, now=now, holder_alive=alive) is not SendState.UNKNOWN:
                    return False
                error = MARKED_NOT_SENT if state is SendState.FAILED else None
                args = (state.value, message, error, now, scope, key, record.owner)
                await db.execute(_SQL.overwrite, args)
                return True

        return await self._run(work)

    async def _now(self, db: AsyncConnection[Any]) -> float:
        row = await (await db.execute(_NOW)).fetchone()
        assert row is not None
        return float(row[0])

    async def _select(self, db: AsyncConnection[Any], scope: str, key: str) -> KeyRecord | None:
        return record_from_row(await (await db.execute(_SQL.select, (scope, key))).fetchone())

    async def _alive(self, db: AsyncConnection[Any], record: KeyRecord | None) -> bool | None:
        if record is None or record.state is not SendState.IN_FLIGHT:
            return None
        if record.holder == self._holder:
            return True
        row = await (await db.execute(_ALIVE, (record.holder,))).fetchone()
        return bool(row and row[0])

    # -- the connection -----------------------------------------------------------------

    async def _run(self, work: Callable[[AsyncConnection[Any]], Awaitable[T]]) -> T:
        # One connection per store, one statement sequence at a time: each call is a
        # round trip or three, never held across a POST.
        return await self._session.run(work)

    async def _prepare(self, db: AsyncConnection[Any]) -> None:
        await ensure_schema(
            db,
            component="idempotency_keys",
            version=SCHEMA_VERSION,
            ddl=(_SQL.create, _SQL.index),
            where=self._target.where,
        )
        row = await (
            await db.execute(
                "SELECT pid::text || ':' || backend_start::text FROM pg_stat_activity"
                " WHERE pid = pg_backend_pid()"
            )
        ).fetchone()
        self._holder = str(row[0]) if row else ""
