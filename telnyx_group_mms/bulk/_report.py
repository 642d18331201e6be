"""What a bulk run tells its operator: progress while it runs, then a summary with the
state of every row, the first bad rows with their reasons, and for a dry run what
would be sent (rows per sender, and the first rows)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Final

import attrs

from .. import _exit_status as exit_status
from .._wire.serialization import request_from_wire
from ..models import GroupMmsRequest
from .ledger._sqlite import Ledger

__all__ = ["BulkBadRow", "BulkPreview", "BulkProgress", "BulkSummary"]

#: Bad rows a summary keeps (with their lines and reasons); the results file has all.
BAD_ROWS_SHOWN: Final = 5
#: Rows a dry run's preview keeps, in input order.
PREVIEW_ROWS: Final = 5
# Rows read from the ledger per query while counting senders.
_CHUNK: Final = 1024


@attrs.frozen(kw_only=True)
class BulkBadRow:
    """A row skipped as invalid.

    Attributes:
        line: Where it starts in the input (a CSV header is line 1).
        reason: Why, naming the JSON key or CSV column as the input wrote it.
    """

    line: int
    reason: str


@attrs.frozen(kw_only=True)
class BulkPreview:
    """What a dry run would send.

    Attributes:
        senders: Rows to send per sending number, the most first.
        first_rows: The first rows to send, in input order: ``(line, request)``.
    """

    senders: tuple[tuple[str, int], ...]
    first_rows: tuple[tuple[int, GroupMmsRequest], ...]


@attrs.frozen(kw_only=True)
class BulkProgress:
    """Where a bulk run is, handed to the ``progress`` callback after each outcome.

    Attributes:
        total: Rows this run sends.
        done: Of those, rows with an outcome.
        sent: Accepted by Telnyx in this run.
        failed: Refused, or failed in a way that certainly sent nothing.
        unknown: Failed in a way that may have sent the message.
        elapsed: Seconds since sending started.
    """

    total: int
    done: int = 0
    sent: int = 0
    failed: int = 0
    unknown: int = 0
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        """Outcomes per second so far."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0


@attrs.frozen(kw_only=True)
class BulkSummary:
    """The state of every row of the input after a run.

    Attributes:
        rows: Rows in the input (blank lines aside).
        sent: Rows sent, in this run or an earlier one.
        sent_before: Of ``sent``, rows an earlier run sent (skipped now).
        failed: Rows Telnyx did not take (resent by the next run).
        unknown: Rows that may or may not have gone out (resent only on request).
        bad: Rows skipped as invalid; see ``bad_rows``, and ``error_detail`` in the
            results.
        pending: Rows not attempted (a dry run, or a run that stopped).
        to_send: Rows this run sent or, in a dry run, would send.
        elapsed: Seconds the run took.
        dry_run: Nothing was sent or recorded.
        ledger_path: The SQLite ledger (``None`` for a dry run without one, or with a
            PostgreSQL ledger).
        results_path: Where the per-row results went, if asked.
        stopped: Why the run stopped before sending every row (Telnyx refused the
            account or API key), or ``None``. The rows not sent keep their state.
        bad_rows: The first few bad rows, with their lines and reasons.
        preview: For a dry run, what would be sent; ``None`` otherwise.
        ledger_url: The PostgreSQL ledger, its password hidden (``None`` with SQLite).
        batch: The batch's name in the PostgreSQL ledger; the counts above are the
            whole batch's, whichever worker sent its rows.
        worker_sent: With PostgreSQL, the rows this worker sent.
        not_recorded: With PostgreSQL, outcomes this worker learnt too late to record:
            its lease had expired and another worker had declared them unknown.
    """

    rows: int
    sent: int
    sent_before: int
    failed: int
    unknown: int
    bad: int
    pending: int
    to_send: int
    elapsed: float
    dry_run: bool
    ledger_path: Path | None
    results_path: Path | None
    stopped: str | None = None
    bad_rows: tuple[BulkBadRow, ...] = ()
    preview: BulkPreview | None = None
    ledger_url: str | None = None
    batch: str | None = None
    worker_sent: int | None = None
    not_recorded: int = 0

    @property
    def exit_code(self) -> int:
        """The command's exit status (see :mod:`telnyx_group_mms._exit_status`).

        3 when some row's outcome is unknown (it may have been sent); otherwise 0 when
        every row is sent (a dry run: when none is bad), else 1.
        """
        if self.unknown:
            return exit_status.OUTCOME_UNKNOWN
        done = self.bad == 0 if self.dry_run else self.sent == self.rows
        return exit_status.OK if done else exit_status.FAILURE


def preview(ledger: Ledger, *, retry_unknown: bool) -> BulkPreview:
    """What this run would send, read from the ledger as the real run would read it."""
    senders: Counter[str] = Counter()
    first: list[tuple[int, GroupMmsRequest]] = []
    after = 0
    while chunk := ledger.sendable(after_line=after, limit=_CHUNK, retry_unknown=retry_unknown):
        for _row_id, line, body in chunk:
            wire = json.loads(body)
            senders[wire["from"]] += 1
            if len(first) < PREVIEW_ROWS:
                first.append((line, request_from_wire(wire)))
        after = chunk[-1][1]
    return BulkPreview(senders=tuple(senders.most_common()), first_rows=tuple(first))
