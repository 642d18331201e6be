"""The batch runner: rows from a file, one ledger row per message, sends that survive a restart.

An application above the client: :func:`run_bulk` builds an :class:`~telnyx_group_mms.AsyncTelnyx`
and fans out through it. Input reading, the report and the ledger live in modules of their own.
"""

from .._private_files import BulkPathError
from ._input import InputError
from ._report import BulkBadRow, BulkPreview, BulkProgress, BulkSummary
from ._runner import DEFAULT_LEASE, DEFAULT_RATE, default_batch, default_ledger_path, run_bulk

__all__ = [
    "DEFAULT_LEASE",
    "DEFAULT_RATE",
    "BulkBadRow",
    "BulkPathError",
    "BulkPreview",
    "BulkProgress",
    "BulkSummary",
    "InputError",
    "default_batch",
    "default_ledger_path",
    "run_bulk",
]
