"""Fan-out: many sends at bounded concurrency, no sender holding up another.

The engine lives in :mod:`._engine`; the account-wide refusal that stops a batch in
:mod:`._account_refusal`.
"""

from ._account_refusal import BatchStoppedError, is_account_refusal
from ._engine import SendResult

__all__ = ["BatchStoppedError", "SendResult", "is_account_refusal"]
