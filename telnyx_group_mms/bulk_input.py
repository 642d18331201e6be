"""Reading a bulk input file: JSONL or CSV rows, each turned into a request or a reason.

A row that cannot become a valid request is not an error of the file: it comes out as an
:class:`InputRow` with ``error`` set and its line number, so one typo never stops a batch.
Only a file that cannot be read as rows at all (unknown format, unusable CSV header)
raises :class:`InputError`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Final

import attrs

from .errors import RequestValidationError, TelnyxError
from .request import GroupMmsRequest
from .serialization import request_field_for, request_from_wire

__all__ = ["InputError", "check_input", "read_rows"]

# Cells that hold several values, separated by ";".
_LIST_FIELDS: Final = frozenset({"to", "media_urls"})
_BOOLEANS: Final = frozenset({"use_profile_webhooks"})
_TRUE: Final = frozenset({"true", "1", "yes"})
_FALSE: Final = frozenset({"false", "0", "no"})
_JSONL_SUFFIXES: Final = frozenset({".jsonl", ".ndjson", ".json"})
# Kept verbatim; every other cell loses surrounding spaces (spreadsheets add them).
_VERBATIM: Final = frozenset({"text", "subject"})


class InputError(TelnyxError):
    """The input file cannot be read as rows (its format or its CSV header)."""


@attrs.frozen(kw_only=True)
class InputRow:
    """One row of the input.

    Attributes:
        line: The 1-based line of the file where the row starts (a CSV header is line 1).
        request: The request, or ``None`` when the row is bad.
        error: Why the row is bad, or ``None``.
        raw: The row's text, which identifies a bad row in the ledger.
    """

    line: int
    request: GroupMmsRequest | None
    error: str | None
    raw: str


def _open(path: Path) -> Any:
    # Undecodable bytes become lone surrogates, so one bad line is reported, not fatal.
    return path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _JSONL_SUFFIXES:
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    with _open(path) as handle:
        head = handle.read(4096).lstrip()
    return "jsonl" if head.startswith("{") else "csv"


def _csv_columns(header: list[str]) -> list[str]:
    columns = [cell.strip().lower() for cell in header]
    unknown = [c for c in columns if request_field_for(c) is None]
    if unknown:
        raise InputError(f"line 1: unknown CSV column(s) {', '.join(map(repr, unknown))}")
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise InputError(f"line 1: CSV column(s) {', '.join(map(repr, duplicates))} repeated")
    fields = {request_field_for(c) for c in columns}
    if not {"from_", "to"} <= fields:
        raise InputError("line 1: the CSV header needs at least the columns 'from' and 'to'")
    return columns


def check_input(path: str | Path) -> str:
    """Check that ``path`` can be read as rows; return its format (``jsonl`` or ``csv``).

    Raises:
        InputError: The file is missing, unreadable, or its CSV header is unusable.
    """
    path = Path(path)
    try:
        kind = _format(path)
        if kind == "csv":
            with _open(path) as handle:
                header = next(csv.reader(handle), None)
            if header is None:
                raise InputError("the CSV file is empty: it needs a header line")
            _csv_columns(header)
    except OSError as exc:
        raise InputError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from exc
    except csv.Error as exc:
        raise InputError(f"line 1: the CSV header cannot be read: {exc}") from exc
    return kind


def read_rows(path: str | Path) -> Iterator[InputRow]:
    """The rows of a JSONL or CSV file, lazily, with line numbers; blank lines skipped.

    JSONL: one request object per line, in Telnyx's wire form. CSV: a header naming the
    columns (``from,to,text,subject,media_urls``, and optionally ``webhook_url``,
    ``webhook_failover_url``, ``use_profile_webhooks``); several recipients or URLs in a
    cell are separated by ``;``; an empty cell means the field is absent.

    Raises:
        InputError: As :func:`check_input`, when iteration starts.
    """
    path = Path(path)
    if check_input(path) == "jsonl":
        return _jsonl_rows(path)
    return _csv_rows(path)


def _bad(line: int, raw: str, reason: str) -> InputRow:
    return InputRow(line=line, request=None, error=reason, raw=raw)


def _jsonl_rows(path: Path) -> Iterator[InputRow]:
    with _open(path) as handle:
        for line, text in enumerate(handle, start=1):
            raw = text.rstrip("\r\n")
            if not raw.strip():
                continue
            if not _is_utf8(raw):
                yield _bad(line, repr(raw), "the line is not valid UTF-8")
                continue
            try:
                document = json.loads(raw)
            except (ValueError, RecursionError) as exc:  # RecursionError: "[[[[..." too deep
                yield _bad(line, raw, f"not valid JSON: {exc}")
                continue
            if not isinstance(document, dict):
                yield _bad(line, raw, f"not a JSON object but {type(document).__name__}")
                continue
            try:
                request = request_from_wire(document)
            except (RequestValidationError, TypeError) as exc:
                yield _bad(line, raw, str(exc))
                continue
            yield InputRow(line=line, request=request, error=None, raw=raw)


def _csv_rows(path: Path) -> Iterator[InputRow]:
    with _open(path) as handle:
        reader = csv.reader(handle)
        columns = _csv_columns(next(reader))
        consumed = reader.line_num
        while True:
            start = consumed + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                consumed = reader.line_num
                yield _bad(start, f"csv error at {start}", f"the CSV row cannot be read: {exc}")
                continue
            consumed = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # blank, or only separators: what spreadsheets leave at the end
            yield _csv_row(start, columns, cells)


def _csv_row(line: int, columns: list[str], cells: list[str]) -> InputRow:
    raw = "\x1f".join(cells)
    if not _is_utf8(raw):
        return _bad(line, repr(raw), "the row is not valid UTF-8")
    if len(cells) > len(columns):
        return _bad(line, raw, f"has {len(cells)} cells; the header has {len(columns)} columns")
    try:
        request = request_from_wire(_csv_document(zip(columns, cells, strict=False)))
    except (RequestValidationError, TypeError) as exc:
        return _bad(line, raw, str(exc))
    return InputRow(line=line, request=request, error=None, raw=raw)


def _csv_document(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The wire-form object of a CSV row: empty cells absent, lists split on ``;``."""
    document: dict[str, Any] = {}
    for column, cell in pairs:
        value = cell if column in _VERBATIM else cell.strip()
        if not value:
            continue
        if column in _LIST_FIELDS:
            document[column] = [part.strip() for part in value.split(";") if part.strip()]
        elif column in _BOOLEANS:
            document[column] = _csv_bool(column, value)
        else:
            document[column] = value
    return document


def _csv_bool(column: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise RequestValidationError(f"{column}: {value!r} is not true or false", field=column)
