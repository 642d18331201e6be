"""The bulk ledger: one durable row per message, so a resumed run never sends a row twice.

The SQLite ledger lives in :mod:`._sqlite`; its group-commit writer thread in :mod:`._group_commit`.
"""

from ._group_commit import AsyncLedger
from ._sqlite import Ledger, LedgerError, RowState, RowUpdate

__all__ = ["AsyncLedger", "Ledger", "LedgerError", "RowState", "RowUpdate"]
