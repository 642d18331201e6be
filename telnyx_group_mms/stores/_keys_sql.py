"""The idempotency-key table, written once for both SQL stores.

Statements use ``{p}`` for a parameter; each store formats them with its driver's
placeholder (``?`` for sqlite3, ``%s`` for psycopg).
"""

from __future__ import annotations

from typing import Any, Final

from ._keys import KeyRecord
from ._states import SendState

__all__: list[str] = []  # internal: the SQL stores' shared statements

SCHEMA_VERSION: Final = 1
COLUMNS: Final = "state, digest, owner, holder, deadline, updated, message, error"
# A dead holder's note, kept on the record (``status(key).error``).
HOLDER_GONE: Final = "its sender stopped before recording an outcome"
MARKED_NOT_SENT: Final = "marked not sent"


class Statements:
    """The statements of one store, for its table name and placeholder."""

    def __init__(self, *, table: str, placeholder: str, lock_row: str) -> None:
        def sql(text: str) -> str:
            return text.format(t=table, p=placeholder, cols=COLUMNS, lock=lock_row)

        self.create = sql(
            "CREATE TABLE IF NOT EXISTS {t} ("
            " scope TEXT NOT NULL, key TEXT NOT NULL, digest TEXT NOT NULL,"
            " state TEXT NOT NULL CHECK (state IN ('in_flight', 'sent', 'failed', 'unknown')),"
            " owner TEXT NOT NULL, holder TEXT NOT NULL,"
            " deadline DOUBLE PRECISION NOT NULL, updated DOUBLE PRECISION NOT NULL,"
            " message TEXT, error TEXT, PRIMARY KEY (scope, key))"
        )
        self.index = sql("CREATE INDEX IF NOT EXISTS {t}_updated ON {t} (updated)")
        self.select = sql("SELECT {cols} FROM {t} WHERE scope = {p} AND key = {p}{lock}")
        # Claiming: a fresh record for this send, whatever stood there before.
        self.take = sql(
            "INSERT INTO {t} (scope, key, digest, state, owner, holder, deadline, updated)"
            " VALUES ({p}, {p}, {p}, 'in_flight', {p}, {p}, {p}, {p})"
            " ON CONFLICT (scope, key) DO UPDATE SET digest = excluded.digest,"
            " state = 'in_flight', owner = excluded.owner, holder = excluded.holder,"
            " deadline = excluded.deadline, updated = excluded.updated,"
            " message = NULL, error = NULL"
        )
        # A fresh key, taken only if no record exists: the one statement of a first use.
        # A concurrent insert of the same key waits here for the first to commit, then
        # inserts nothing, so exactly one claimant wins.
        self.take_new = sql(
            "INSERT INTO {t} (scope, key, digest, state, owner, holder, deadline, updated)"
            " VALUES ({p}, {p}, {p}, 'in_flight', {p}, {p}, {p}, {p})"
            " ON CONFLICT (scope, key) DO NOTHING"
        )
        # Fenced by the owner: a send whose record another decision replaced writes nothing.
        # Its own UNKNOWN record (it overran its deadline) it may still settle: it knows.
        self.settle = sql(
            "UPDATE {t} SET state = {p}, message = {p}, error = {p}, updated = {p}"
            " WHERE scope = {p} AND key = {p} AND owner = {p}"
            " AND state IN ('in_flight', 'unknown')"
        )
        # The caller settles an unknown key; `owner` fences against a concurrent change.
        self.overwrite = sql(
            "UPDATE {t} SET state = {p}, message = {p}, error = {p}, updated = {p}"
            " WHERE scope = {p} AND key = {p} AND owner = {p}"
        )
        self.prune = sql(
            "DELETE FROM {t} WHERE updated < {p} AND (state <> 'in_flight' OR deadline < {p})"
        )


def record_from_row(row: tuple[Any, ...] | None) -> KeyRecord | None:
    if row is None:
        return None
    state, digest, owner, holder, deadline, updated, message, error = row
    return KeyRecord(
        state=SendState(state),
        digest=digest,
        owner=owner,
        holder=holder,
        deadline=float(deadline),
        updated=float(updated),
        message=message,
        error=error,
    )
