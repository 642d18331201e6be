"""The bulk ledger: one SQLite row per input row, so a batch survives any crash and never
texts the same group twice.

A row's state moves ``pending -> in_flight -> sent | failed | unknown``. It is committed
as ``in_flight`` before its request is sent and again when the outcome is known, so
whatever moment the process dies at, the ledger says for every row either "never sent",
"sent" (with the message id), "failed" (Telnyx did not take it) or "in flight", which the
next run turns into ``unknown``: Telnyx may or may not have accepted it, and only an
explicit ``--retry-unknown`` sends it again.

Durability: WAL journal with ``synchronous=FULL``, so every commit is fsync'ed. With
``NORMAL`` a WAL commit survives the death of the process (SIGKILL) but not of the
machine: a power cut could forget an ``in_flight`` mark whose request did go out, and the
next run would send that row again. One fsync per commit is affordable because the
writer commits in groups (:class:`telnyx_group_mms.bulk.ledger._group_commit.AsyncLedger`).
"""

from __future__ import annotations

import enum
import hashlib
import os
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

from ..._private_files import (
    SQLITE_COMPANIONS,
    BulkPathError,
    check_directory,
    check_existing,
    ensure_private,
    open_private,
)
from ..._wire.digest import request_digest as request_digest
from ...errors import TelnyxError
from .._files import LOCK_SUFFIX

if sys.platform != "win32":  # pragma: no branch
    import fcntl

__all__: list[str] = []  # internal: used by the bulk runner

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
    id TEXT PRIMARY KEY,          -- digest of the normalised request, ':', occurrence
    line INTEGER NOT NULL,        -- where the row was in the input of its last run
    body TEXT,                    -- the JSON body sent; NULL for a bad row
    state TEXT NOT NULL
        CHECK (state IN ('pending', 'in_flight', 'sent', 'failed', 'unknown')),
    message_id TEXT,
    error_code TEXT,
    error_detail TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,  -- times committed in_flight
    run INTEGER NOT NULL,         -- the last run whose input held the row
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS rows_by_run ON rows (run, line);
"""

_INTERRUPTED: Final = (
    "the run stopped while this row was in flight: Telnyx may or may not have accepted it; "
    "check before resending (--retry-unknown sends it again)"
)


class RowState(enum.StrEnum):
    """Where a ledger row is in its life."""

    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"


class LedgerError(TelnyxError):
    """The ledger cannot be opened (in use by another run, or not a ledger)."""


def bad_row_digest(raw: str) -> str:
    """A digest of a bad row's text; such rows are recorded but never sent."""
    return "bad-" + hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


class RowNumbering:
    """Row ids: a digest plus the occurrence number among identical rows of the input.

    Ten identical rows are ten messages, and stay ten distinct rows across runs.
    """

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def id_for(self, digest: str) -> str:
        """The id of the next row with this digest."""
        occurrence = self._seen.get(digest, 0) + 1
        self._seen[digest] = occurrence
        return f"{digest}:{occurrence}"


class Ledger:
    """The SQLite ledger of one bulk input; use it from one thread.

    Opening takes an exclusive lock (a ``.lock`` file beside it) for as long as it is
    open, starts a new run, and turns rows left ``in_flight`` by a crash into ``unknown``.
    A dry run works in one transaction that is rolled back, so it changes nothing.

    The ledger, its lock and SQLite's files beside it are refused if any is a symbolic
    link, another user's file or writable by others (see :mod:`.bulk_files`); new ones are
    created readable by their owner only.

    Raises:
        BulkPathError: One of the ledger's files is unsafe or cannot be created.
        LedgerError: Another run holds the ledger, or the file is not a ledger.
    """

    def __init__(self, path: Path | None, *, dry_run: bool = False) -> None:
        self.path = path
        self.dry_run = dry_run
        self._lock: int | None = None
        identity: tuple[int, int] | None = None
        if path is not None:
            # Before a lock is made beside it.
            check_directory(path, setting="ledger_path")
            check_existing(path, setting="ledger_path")
            self._lock = _lock(path)
            try:
                identity = _create_private(path)
            except BaseException:
                self.close()
                raise
        try:
            self._db = sqlite3.connect(
                ":memory:" if path is None else path, isolation_level=None, timeout=10
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            if path is not None and identity is not None:
                _check_opened(path, identity)
            self._db.execute("BEGIN IMMEDIATE")
            self.run = self._start_run()
            if not dry_run:
                self._db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            self.close()
            raise LedgerError(f"{path} is not a usable ledger: {exc}") from exc
        except BulkPathError:
            self.close()
            raise

    def _start_run(self) -> int:
        db = self._db
        found = db.execute("SELECT value FROM meta WHERE key = 'runs'").fetchone()
        run = int(found[0]) + 1 if found else 1
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('runs', ?)", (str(run),))
        db.execute(
            "UPDATE rows SET state = 'unknown', error_code = 'interrupted', error_detail = ?,"
            " updated_at = ? WHERE state = 'in_flight'",
            (_INTERRUPTED, time.time()),
        )
        return run

    def close(self) -> None:
        """Roll back a dry run, close the database, release the lock. Idempotent."""
        db = getattr(self, "_db", None)
        if db is not None:
            if db.in_transaction:
                db.execute("ROLLBACK")
            db.close()
            del self._db
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db, commit=not self.dry_run)

    def register(self, rows: Iterator[tuple[str, int, str | None, str | None]]) -> None:
        """Record the rows of this run's input: ``(id, line, body, bad_reason)``.

        New rows start ``pending``; known ones keep their state. A bad row (no body) is
        ``failed`` with its reason.
        """
        now = time.time()
        with self._transaction() as db:
            for row_id, line, body, reason in rows:
                if body is not None:
                    db.execute(
                        "INSERT INTO rows (id, line, body, state, run, updated_at)"
                        " VALUES (?, ?, ?, 'pending', ?, ?)"
                        " ON CONFLICT (id) DO UPDATE SET line = excluded.line,"
                        " run = excluded.run,"
                        # Webhook settings are not part of the id: a resend uses the
                        # latest; a sent row keeps the body that went out.
                        " body = CASE state WHEN 'sent' THEN body ELSE excluded.body END",
                        (row_id, line, body, self.run, now),
                    )
                else:
                    db.execute(
                        "INSERT INTO rows (id, line, state, error_code, error_detail, run,"
                        " updated_at) VALUES (?, ?, 'failed', 'invalid_row', ?, ?, ?)"
                        " ON CONFLICT (id) DO UPDATE SET line = excluded.line,"
                        " run = excluded.run, error_detail = excluded.error_detail",
                        (row_id, line, reason, self.run, now),
                    )

    def sendable(
        self, *, after_line: int, limit: int, retry_unknown: bool
    ) -> list[tuple[str, int, str]]:
        """The next rows of this run to send, by line: ``(id, line, body)``."""
        states = ("pending", "failed", "unknown" if retry_unknown else "pending")
        return self._db.execute(
            "SELECT id, line, body FROM rows WHERE run = ? AND line > ? AND body IS NOT NULL"
            " AND state IN (?, ?, ?) ORDER BY line LIMIT ?",
            (self.run, after_line, *states, limit),
        ).fetchall()

    def apply(self, updates: Sequence[RowUpdate | None]) -> None:
        """Commit a group of state changes in one transaction (one fsync); skip ``None``."""
        now = time.time()
        with self._transaction() as db:
            for update in updates:
                if update is None:
                    continue
                if update.state is RowState.IN_FLIGHT:
                    db.execute(
                        "UPDATE rows SET state = 'in_flight', attempts = attempts + 1,"
                        " updated_at = ? WHERE id = ?",
                        (now, update.row_id),
                    )
                else:
                    db.execute(
                        "UPDATE rows SET state = ?, message_id = ?, error_code = ?,"
                        " error_detail = ?, updated_at = ? WHERE id = ?",
                        (
                            update.state.value,
                            update.message_id,
                            update.error_code,
                            update.error_detail,
                            now,
                            update.row_id,
                        ),
                    )

    def counts(self) -> dict[str, int]:
        """This run's rows by state; bad rows are counted under ``"bad"``."""
        found = self._db.execute(
            "SELECT CASE WHEN body IS NULL THEN 'bad' ELSE state END, count(*)"
            " FROM rows WHERE run = ? GROUP BY 1",
            (self.run,),
        ).fetchall()
        return {state: count for state, count in found}

    def outcomes(self) -> Iterator[tuple[int, str, str | None, str | None, str | None]]:
        """This run's rows by line: ``(line, state, message_id, error_code, error_detail)``."""
        yield from self._db.execute(
            "SELECT line, state, message_id, error_code, error_detail FROM rows"
            " WHERE run = ? ORDER BY line",
            (self.run,),
        )


class RowUpdate:
    """One state change for :meth:`Ledger.apply`."""

    __slots__ = ("error_code", "error_detail", "message_id", "row_id", "state")

    def __init__(
        self,
        row_id: str,
        state: RowState,
        *,
        message_id: str | None = None,
        error_code: str | None = None,
        error_detail: str | None = None,
    ) -> None:
        self.row_id = row_id
        self.state = state
        self.message_id = message_id
        self.error_code = error_code
        self.error_detail = error_detail


class _Transaction:
    def __init__(self, db: sqlite3.Connection, *, commit: bool) -> None:
        self._db = db
        self._commit = commit

    def __enter__(self) -> sqlite3.Connection:
        if self._commit:
            self._db.execute("BEGIN IMMEDIATE")
        return self._db

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if not self._commit:
            return  # a dry run stays in its one transaction, rolled back on close
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _create_private(path: Path) -> tuple[int, int]:
    """Make sure the ledger's files are this user's alone; the database file's identity.

    The database file is created (0600) if new, and SQLite gives the -wal and -shm files
    it creates the same mode; but files already there beside it must not be planted ones.
    """
    for suffix in SQLITE_COMPANIONS:
        check_existing(Path(f"{path}{suffix}"), setting="ledger_path")
    info = ensure_private(path, setting="ledger_path")
    return info.st_dev, info.st_ino


def _check_opened(path: Path, identity: tuple[int, int]) -> None:
    # SQLite opens the file by name, after the checks: make sure that what it opened is
    # what was checked. (Its -wal and -shm it opens itself, never through a link, and
    # gives them the database file's mode, even when they were there already.)
    info = check_existing(path, setting="ledger_path")
    if info is None or (info.st_dev, info.st_ino) != identity:
        raise BulkPathError(
            f"{str(path)!r} was replaced while the ledger was being opened", setting="ledger_path"
        )


def _lock(path: Path) -> int:
    handle = open_private(Path(f"{path}{LOCK_SUFFIX}"), setting="ledger_path")
    if sys.platform != "win32":
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(handle)
            raise LedgerError(
                f"the ledger {str(path)!r} is in use by another run; wait for it to finish"
            ) from exc
    return handle
