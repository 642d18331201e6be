"""Idempotency keys in a SQLite file: for every process of one machine.

Each claim is one ``BEGIN IMMEDIATE`` transaction, committed with ``synchronous=FULL``
before the POST, so the record survives a crash of the process or of the machine.
sqlite3 blocks, so every call runs in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final, TypeVar

from .._private_files import (
    SQLITE_COMPANIONS,
    BulkPathError,
    check_directory,
    check_existing,
    ensure_private,
)
from ..errors import BackendUnavailableError
from ._keys import (
    DEFAULT_RETENTION,
    Claim,
    KeyRecord,
    KeyStatus,
    check_retention,
    decide_claim,
    effective_state,
    status_of,
)
from ._keys_sql import HOLDER_GONE, MARKED_NOT_SENT, SCHEMA_VERSION, Statements, record_from_row
from ._states import SendState

__all__ = ["SqliteIdempotencyStore"]

T = TypeVar("T")

_SQL: Final = Statements(table="idempotency_keys", placeholder="?", lock_row="")
_PRUNE_EVERY: Final = 60.0
_SETTING: Final = "idempotency_store"
# Connections a forked child inherited: never used, never closed (see forget).
_INHERITED: list[Any] = []


def _start_time(pid: int) -> str | None:
    """A process's start time (Linux ``/proc``), or None if it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None if Path("/proc/self/stat").exists() else ""
    fields = stat.rpartition(")")[2].split()
    return None if fields[0] in ("Z", "X") else fields[19]


def holder_token() -> str:
    """This process, as a record names its holder: host, pid and start time."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_time(pid) or ''}"


def holder_alive(holder: str) -> bool | None:
    """Whether the process a record names still runs; None if it is on another host."""
    host, _, rest = holder.partition(":")
    pid_text, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return None
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    now_started = _start_time(pid)
    if now_started is None:
        return False
    return not started or not now_started or now_started == started


class SqliteIdempotencyStore:
    """Idempotency keys recorded in a SQLite file, shared by the processes of one machine.

    Args:
        path: The file; created (readable by its owner only) if missing, in a directory
            that must exist.
        retention: Seconds a record is kept after its last change (24 hours by default);
            older records are pruned as the store is used, no cron job needed.

    Raises:
        ValueError: ``retention`` is not a positive number.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, retention: float = DEFAULT_RETENTION
    ) -> None:
        self.path = Path(path)
        self.retention = check_retention(retention)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pruned = 0.0

    def __repr__(self) -> str:
        return f"SqliteIdempotencyStore({str(self.path)!r})"

    # -- the IdempotencyStore interface ------------------------------------------------

    async def claim(self, *, scope: str, key: str, digest: str, owner: str, hold: float) -> Claim:
        return await self._run(lambda db: self._claim(db, scope, key, digest, owner, hold))

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
        args = (state.value, message, error, time.time(), scope, key, owner)
        await self._run(lambda db: db.execute(_SQL.settle, args))

    async def status(self, *, scope: str, key: str) -> KeyStatus | None:
        def read(db: sqlite3.Connection) -> KeyStatus | None:
            record = record_from_row(db.execute(_SQL.select, (scope, key)).fetchone())
            alive = holder_alive(record.holder) if record is not None else None
            return status_of(record, now=time.time(), holder_alive=alive)

        return await self._run(read)

    async def resolve(self, *, scope: str, key: str, message: str) -> bool:
        return await self._run(
            lambda db: self._settle_unknown(db, scope, key, SendState.SENT, message)
        )

    async def mark_not_sent(self, *, scope: str, key: str) -> bool:
        return await self._run(
            lambda db: self._settle_unknown(db, scope, key, SendState.FAILED, None)
        )

    async def aclose(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def forget(self) -> None:
        """In a forked child: drop the parent's connection without closing it.

        Closing it here would release the parent's file locks (POSIX locks belong to the
        process); it is kept, unused, for the life of the child.
        """
        if self._conn is not None:
            _INHERITED.append(self._conn)
            self._conn = None
        self._lock = threading.Lock()

    # -- inside one transaction ---------------------------------------------------------

    def _claim(
        self, db: sqlite3.Connection, scope: str, key: str, digest: str, owner: str, hold: float
    ) -> Claim:
        with self._transaction(db):
            now = time.time()
            record = record_from_row(db.execute(_SQL.select, (scope, key)).fetchone())
            alive = holder_alive(record.holder) if record and _in_flight(record) else None
            claim, write = decide_claim(
                record, digest=digest, now=now, retention=self.retention, holder_alive=alive
            )
            if write is SendState.IN_FLIGHT:
                db.execute(_SQL.take, (scope, key, digest, owner, holder_token(), now + hold, now))
            elif write is SendState.UNKNOWN and record is not None:
                db.execute(
                    _SQL.overwrite,
                    ("unknown", None, HOLDER_GONE, now, scope, key, record.owner),
                )
            if now - self._pruned > _PRUNE_EVERY:
                self._pruned = now
                db.execute(_SQL.prune, (now - self.retention, now))
        return claim

    def _settle_unknown(
        self, db: sqlite3.Connection, scope: str, key: str, state: SendState, message: str | None
    ) -> bool:
        with self._transaction(db):
            now = time.time()
            record = record_from_row(db.execute(_SQL.select, (scope, key)).fetchone())
            if record is None:
                return False
            alive = holder_alive(record.holder) if _in_flight(record) else None
            if effective_state(record, now=now, holder_alive=alive) is not SendState.UNKNOWN:
                return False
            error = MARKED_NOT_SENT if state is SendState.FAILED else None
            db.execute(_SQL.overwrite, (state.value, message, error, now, scope, key, record.owner))
            return True

    @contextlib.contextmanager
    def _transaction(self, db: sqlite3.Connection) -> Iterator[None]:
        # IMMEDIATE takes the write lock at once: two processes claiming one key queue
        # here rather than both reading "absent".
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # -- the connection -----------------------------------------------------------------

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.to_thread(self._locked, work)

    def _locked(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            try:
                return work(self._connection())
            except sqlite3.Error as exc:
                self._drop()
                raise self._unusable(f"{type(exc).__name__}: {exc}") from None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        try:
            # The file holds numbers and texts: private, and never a planted file or link.
            check_directory(self.path, setting=_SETTING)
            ensure_private(self.path, setting=_SETTING)
            for suffix in SQLITE_COMPANIONS:
                check_existing(Path(f"{self.path}{suffix}"), setting=_SETTING)
        except BulkPathError as exc:
            raise self._unusable(exc.problem) from None
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        try:
            _use_wal(db)
            db.execute("PRAGMA synchronous=FULL")
            with self._transaction(db):
                db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
                row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                if row is not None and int(row[0]) > SCHEMA_VERSION:
                    raise self._unusable(
                        f"its schema is version {row[0]}, newer than this release's "
                        f"{SCHEMA_VERSION}; upgrade telnyx-group-mms"
                    )
                db.execute(_SQL.create)
                db.execute(_SQL.index)
                db.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
        except BaseException:
            db.close()
            raise
        self._conn = db
        return db

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None

    def _unusable(self, why: str) -> BackendUnavailableError:
        return BackendUnavailableError(
            f"{_SETTING}: cannot use the SQLite file {str(self.path)!r}: {why}; nothing was sent",
            backend="sqlite",
            where=str(self.path),
        )


def _use_wal(db: sqlite3.Connection, *, within: float = 30.0) -> None:
    """Put the file in WAL mode (kept in the file: later connections find it set).

    Switching needs the file to itself, and SQLite answers "database is locked" at once,
    without waiting, when other processes open the new file at the same moment: try
    again until one of them has switched it.
    """
    give_up = time.monotonic() + within
    while True:
        try:
            row = db.execute("PRAGMA journal_mode").fetchone()
            if row is not None and str(row[0]).lower() == "wal":
                return
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > give_up:
                raise
            time.sleep(0.01)


def _in_flight(record: KeyRecord) -> bool:
    return record.state is SendState.IN_FLIGHT
