"""Reading a bulk input file: JSONL or CSV rows, each turned into a request or a reason.

A row that cannot become a valid request is not an error of the file: it comes out as an
:class:`InputRow` with ``error`` set and its line number, so one typo never stops a batch.
Only a file that cannot be read as rows at all (unknown format, unusable CSV header, a
CSV quote never closed) raises :class:`InputError`. Every row is bounded in size
(:data:`MAX_ROW_CHARS`, the same in both formats), and so is the memory reading takes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from .._wire.serialization import request_from_wire
from ..errors import RequestValidationError
from ._csv import MAX_CSV_COLUMNS, csv_columns, csv_rows
from ._lines import (
    MAX_ROW_CHARS,
    ROW_TOO_LONG,
    InputError,
    InputRow,
    Line,
    Lines,
    bad_row,
    is_utf8,
    open_text,
)

__all__ = [
    "MAX_CSV_COLUMNS",
    "MAX_ROW_CHARS",
    "InputError",
    "InputRow",
    "check_input",
    "read_rows",
]

_JSONL_SUFFIXES: Final = frozenset({".jsonl", ".ndjson", ".json"})


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _JSONL_SUFFIXES:
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    with open_text(path) as handle:
        head = handle.read(4096).lstrip()
    return "jsonl" if head.startswith("{") else "csv"


def check_input(path: str | Path) -> str:
    """Check that ``path`` can be read as rows; return its format (``jsonl`` or ``csv``).

    Only the start is read (a CSV file's header); a CSV quote never closed is found by
    :func:`read_rows`, at the end of the file.

    Raises:
        InputError: The file is missing, unreadable, or its CSV header is unusable.
    """
    path = Path(path)
    try:
        kind = _format(path)
        if kind == "csv":
            csv_columns(path)
    except OSError as exc:
        raise InputError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from exc
    return kind


def read_rows(path: str | Path) -> Iterator[InputRow]:
    """The rows of a JSONL or CSV file, lazily, with line numbers; blank lines skipped.

    JSONL: one request object per line, in Telnyx's wire form; a key given twice in an
    object makes the row bad. CSV: a header naming the columns
    (``from,to,text,subject,media_urls``, and optionally ``webhook_url``,
    ``webhook_failover_url``, ``use_profile_webhooks``); several recipients or URLs in a
    cell are separated by ``;``; an empty cell means the field is absent; a cell in
    double quotes may hold commas and line breaks, but one that takes in a line reading
    as a row of its own makes its row bad. A row over :data:`MAX_ROW_CHARS` is a bad row.

    Raises:
        InputError: As :func:`check_input`, when iteration starts; or, for a CSV file
            whose quote is never closed, when iteration reaches the end of the file.
    """
    path = Path(path)
    if check_input(path) == "jsonl":
        return _jsonl_rows(path)
    return csv_rows(path)


class _RepeatedKey(ValueError):
    """A JSON object gives a key twice: which value is meant cannot be known."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _RepeatedKey(f"{key!r} is given more than once in an object")
            seen.add(key)
    return document


def _jsonl_rows(path: Path) -> Iterator[InputRow]:
    with open_text(path) as handle:
        for line in Lines(handle):
            row = _jsonl_row(line)
            if row is not None:
                yield row


def _jsonl_row(line: Line) -> InputRow | None:
    """The row of one line; ``None`` for a blank one."""
    number = line.number
    if line.too_long:
        return bad_row(number, line.text, ROW_TOO_LONG)
    raw = line.text.rstrip("\r\n")
    if not raw.strip():
        return None
    if not is_utf8(raw):
        return bad_row(number, repr(raw), "the line is not valid UTF-8")
    try:
        document = json.loads(raw, object_pairs_hook=_unique_keys)
    except _RepeatedKey as exc:
        return bad_row(number, raw, f"ambiguous: {exc}")
    except (ValueError, RecursionError) as exc:  # RecursionError: "[[[[..." too deep
        return bad_row(number, raw, f"not valid JSON: {exc}")
    if not isinstance(document, dict):
        return bad_row(number, raw, f"not a JSON object but {type(document).__name__}")
    try:
        request = request_from_wire(document)
    except (RequestValidationError, TypeError) as exc:
        return bad_row(number, raw, str(exc))
    return InputRow(line=number, request=request, error=None, raw=raw)
