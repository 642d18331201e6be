"""A bulk input as ledger rows, and ledger rows as the results file: for either ledger."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final

from .._wire.protocol import encode_request
from .._wire.serialization import get_converter
from ._files import write_replacing
from ._input import read_rows
from ._report import BAD_ROWS_SHOWN, BulkBadRow
from .ledger._sqlite import RowNumbering, bad_row_digest, request_digest

__all__: list[str] = []  # internal: used by the bulk runners

# The keys of a line of the results file, in the order of the ledgers' outcomes.
_RESULT_FIELDS: Final = ("line", "state", "message_id", "error_code", "error_detail")

#: One outcome as the ledgers give it: ``(line, state, message_id, error_code, error_detail)``.
Outcome = tuple[int, str, str | None, str | None, str | None]


def ledger_rows(
    source: Path, bad: list[BulkBadRow]
) -> Iterator[tuple[str, int, str | None, str | None]]:
    """The rows of ``source`` as ``(id, line, body, bad_reason)``; the first bad go to ``bad``.

    The id is the digest of the normalised request plus its occurrence among identical
    rows; a bad row has no body and its text's digest.
    """
    converter = get_converter()
    numbering = RowNumbering()
    for row in read_rows(source):
        if row.request is None:
            if len(bad) < BAD_ROWS_SHOWN:
                bad.append(BulkBadRow(line=row.line, reason=row.error or "invalid"))
            yield numbering.id_for(bad_row_digest(row.raw)), row.line, None, row.error
        else:
            body = encode_request(converter, row.request).decode()
            yield numbering.id_for(request_digest(row.request)), row.line, body, None


def write_results(path: Path, outcomes: Iterable[Outcome]) -> None:
    """One JSON line per row, replacing ``path`` whole."""
    lines = (
        json.dumps(dict(zip(_RESULT_FIELDS, outcome, strict=True)), ensure_ascii=False) + "\n"
        for outcome in outcomes
    )
    write_replacing(path, lines, setting="results_path")
