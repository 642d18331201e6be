"""The bulk ledger: one durable row per message, so a resumed run never sends a row twice.

The SQLite ledger lives in :mod:`._sqlite`, its group-commit writer thread in
:mod:`._group_commit`; the PostgreSQL ledger, a batch shared by many workers, in
:mod:`._postgres` (its tables in :mod:`._postgres_sql`, reading a batch in
:mod:`._postgres_batch`). Both commit through :mod:`._commit_queue`.
"""

from ._group_commit import AsyncLedger
from ._postgres_batch import BatchMismatchError, LeaseLostError
from ._sqlite import Ledger, LedgerError, RowState, RowUpdate

__all__ = [
    "AsyncLedger",
    "BatchMismatchError",
    "LeaseLostError",
    "Ledger",
    "LedgerError",
    "RowState",
    "RowUpdate",
]
