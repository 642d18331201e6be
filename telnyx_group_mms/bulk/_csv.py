"""Reading the CSV form of a bulk input: a header naming the columns, then one row per record.

Rows follow the CSV grammar as spreadsheets write it (RFC 4180): a field in double quotes
may hold commas, line breaks and doubled quotes (``""``), so one row may span lines. What
the grammar alone would allow, a quote left open by mistake taking the rows after it into
one message, is refused, so that no row's text ever takes in another row:

- a quote still open at the end of the file makes the file unreadable
  (:class:`InputError` naming the line where the quote opened): where its rows would
  start cannot be known;
- a row whose quoted field takes in a line that reads as a row of this file on its own (a
  sender in its ``from`` column and recipients in its ``to`` column) is a bad row;
- so are a row over :data:`MAX_ROW_CHARS` and text after a closing quote (``"a"b``).
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Final, NamedTuple

from .._numbers import E164, SHORT_CODE
from .._wire.serialization import request_field_for, request_from_wire
from ..errors import RequestValidationError
from ._lines import (
    MAX_ROW_CHARS,
    ROW_TOO_LONG,
    InputError,
    InputRow,
    Lines,
    bad_row,
    ending_size,
    is_utf8,
    open_text,
)

__all__: list[str] = []  # internal: bulk_input is the public face

#: The most columns a CSV header may have, checked before their names are (a header
#: that can be read has one column per field, eight at most).
MAX_CSV_COLUMNS: Final = 32

# Cells that hold several values, separated by ";".
_LIST_FIELDS: Final = frozenset({"to", "media_urls"})
_BOOLEANS: Final = frozenset({"use_profile_webhooks"})
_TRUE: Final = frozenset({"true", "1", "yes"})
_FALSE: Final = frozenset({"false", "0", "no"})
# Kept verbatim; every other cell loses surrounding spaces (spreadsheets add them).
_VERBATIM: Final = frozenset({"text", "subject"})

# Where a record stands after some of its characters, as the csv module's strict reader
# sees it: the scan below must find the same ends of records as that reader does.
_START, _UNQUOTED, _QUOTED, _CLOSING, _MALFORMED, _END = range(6)
# The next state after: a run of other characters, '"', ',', a line break.
_AFTER: Final = (
    (_UNQUOTED, _QUOTED, _START, _END),  # _START of a field
    (_UNQUOTED, _UNQUOTED, _START, _END),  # a quote inside an unquoted field is a character
    (_QUOTED, _CLOSING, _QUOTED, _QUOTED),  # commas and line breaks are the field's own
    (_MALFORMED, _QUOTED, _START, _END),  # '""' is a quote; text after a closing one is wrong
    (_MALFORMED, _MALFORMED, _MALFORMED, _END),  # the reader drops the rest of the line
    (_END, _END, _END, _END),  # the "\n" of a "\r\n"
)
_TOKENS: Final = re.compile(r'[",\r\n]')
_COLUMN_OF: Final = {'"': 1, ",": 2, "\r": 3, "\n": 3}
# A whole record on one line, its quoted fields closed: the commonest line with quotes,
# matched without a step per character. Possessive: a line that is not one fails fast.
_FIELD: Final = r'(?:"(?:[^"]|"")*+"|[^",\r\n]*+)'
_ONE_LINE_RECORD: Final = re.compile(rf"{_FIELD}(?:,{_FIELD})*+(?:\r\n|\n|\r)")


def _scan(state: int, text: str) -> tuple[int, bool]:
    """The state after ``text``, and whether a quoted field opened in it."""
    if '"' not in text and state != _CLOSING:
        return _scan_unquoted(state, text), False
    if state == _START and _ONE_LINE_RECORD.fullmatch(text):
        return _END, False
    opened = False
    done = 0
    for token in _TOKENS.finditer(text):
        at = token.start()
        if at > done:
            state = _AFTER[state][0]
        after = _AFTER[state][_COLUMN_OF[token.group()]]
        opened = opened or (state == _START and after == _QUOTED)
        state, done = after, at + 1
    if len(text) > done:
        state = _AFTER[state][0]
    return state, opened


def _scan_unquoted(state: int, text: str) -> int:
    """:func:`_scan` of a text without a quote, from a state other than ``_CLOSING``.

    Most lines, and every piece of a huge line without quotes, take this way: its cost
    does not grow with the text, as only its last character matters.
    """
    if not text or state in (_QUOTED, _END):
        return state
    if text[-1] in "\r\n":
        return _END  # a line break only ends a line, and ends the record outside quotes
    if state == _MALFORMED:
        return state
    return _START if text[-1] == "," else _UNQUOTED


class _Record(NamedTuple):
    """The lines of one record of the CSV grammar, or why it cannot be a row."""

    line: int
    lines: list[str]  # with their endings; only the first when `problem` is set
    problem: str | None


class _RowShape:
    """Tells whether a line, read on its own, is a row of this file: sender and recipients."""

    def __init__(self, columns: list[str]) -> None:
        self._sender = columns.index("from")
        self._recipients = columns.index("to")

    def matches(self, text: str) -> bool:
        try:
            cells = next(csv.reader([text]), [])
        except csv.Error:  # only a process-wide field limit set lower than a row's
            return False
        if len(cells) <= max(self._sender, self._recipients):
            return False
        if E164.fullmatch(cells[self._sender].strip()) is None:
            return False
        recipients = [part.strip() for part in cells[self._recipients].split(";")]
        return any(recipients) and all(
            E164.fullmatch(r) or SHORT_CODE.fullmatch(r) for r in recipients if r
        )


def _records(lines: Lines, shape: _RowShape | None) -> Iterator[_Record]:
    """The records of the file, each bounded in size, the rows one takes in reported.

    Raises:
        InputError: The file ends inside a quoted field.
    """
    state = _START
    start = quote_line = size = 0
    kept: list[str] = []
    too_long, swallowed, opener = False, 0, 0
    for line in lines:
        if state == _START:
            start = quote_line = line.number
            size, kept, too_long, swallowed = 0, [], False, 0
        elif not (swallowed or too_long) and shape is not None and shape.matches(line.text):
            swallowed, opener = line.number, quote_line
        state, opened = _scan(state, line.text)
        for piece in line.rest:
            state, reopened = _scan(state, piece)
            opened = opened or reopened
        if opened:
            quote_line = line.number
        size += len(line.text)
        ends = state != _QUOTED
        too_long = too_long or line.too_long
        too_long = too_long or size - (ending_size(line.text) if ends else 0) > MAX_ROW_CHARS
        if not (kept and (too_long or swallowed)):
            kept.append(line.text)  # a bad record keeps only its start: enough to name it
        if not ends:
            continue
        state = _START
        if swallowed:
            problem: str | None = (
                f"a quote opened on line {opener} is closed only on line {line.number}, "
                f"taking in line {swallowed}, which reads as a row of its own: check the quotes"
            )
        else:
            problem = ROW_TOO_LONG if too_long else None
        yield _Record(start, kept, problem)
    if state == _QUOTED:
        raise InputError(
            f"line {quote_line}: a quote opened on this line is never closed, "
            "so the rest of the file would be one field"
        )


def _header(records: Iterator[_Record]) -> list[str]:
    record = next(records, None)
    if record is None:
        raise InputError("the CSV file is empty: it needs a header line")
    if record.problem is not None:
        raise InputError(f"line 1: the CSV header is longer than {MAX_ROW_CHARS:,} characters")
    try:
        cells = next(csv.reader(record.lines, strict=True), [])
    except csv.Error as exc:
        raise InputError(f"line 1: the CSV header cannot be read: {exc}") from exc
    return _columns(cells)


def _columns(header: list[str]) -> list[str]:
    if len(header) > MAX_CSV_COLUMNS:
        raise InputError(
            f"line 1: the CSV header has {len(header):,} columns; "
            f"at most {MAX_CSV_COLUMNS} are allowed"
        )
    columns = [cell.strip().lower() for cell in header]
    unknown = [c for c in columns if request_field_for(c) is None]
    if unknown:
        raise InputError(f"line 1: unknown CSV column(s) {', '.join(map(repr, unknown))}")
    duplicates = sorted(c for c, n in Counter(columns).items() if n > 1)
    if duplicates:
        raise InputError(f"line 1: CSV column(s) {', '.join(map(repr, duplicates))} repeated")
    if not {"from", "to"} <= set(columns):
        raise InputError("line 1: the CSV header needs at least the columns 'from' and 'to'")
    return columns


def csv_columns(path: Path) -> list[str]:
    """The columns of the CSV file at ``path``, from its header.

    Raises:
        InputError: The file is empty, or its header is unusable.
        OSError: The file cannot be read.
    """
    with open_text(path) as handle:
        return _header(_records(Lines(handle), None))


def csv_rows(path: Path) -> Iterator[InputRow]:
    """The rows of the CSV file at ``path`` (see :func:`telnyx_group_mms.bulk._input.read_rows`).

    Raises:
        InputError: The header is unusable, or a quote is never closed.
    """
    with open_text(path) as handle:
        lines = Lines(handle)
        columns = _header(_records(lines, None))
        for record in _records(lines, _RowShape(columns)):
            row = _row(record, columns)
            if row is not None:
                yield row


def _row(record: _Record, columns: list[str]) -> InputRow | None:
    """The row of ``record``; ``None`` for a blank one (or only separators)."""
    if record.problem is not None:
        return bad_row(record.line, "".join(record.lines), record.problem)
    try:
        cells = next(csv.reader(record.lines, strict=True), [])
    except csv.Error as exc:
        raw = "".join(record.lines)
        return bad_row(record.line, raw, f"the CSV row cannot be read: {exc}")
    if not any(cell.strip() for cell in cells):
        return None  # what spreadsheets leave at the end
    return _csv_row(record.line, columns, cells)


def _csv_row(line: int, columns: list[str], cells: list[str]) -> InputRow:
    raw = "\x1f".join(cells)
    if not is_utf8(raw):
        return bad_row(line, repr(raw), "the row is not valid UTF-8")
    if len(cells) > len(columns):
        return bad_row(line, raw, f"has {len(cells)} cells; the header has {len(columns)} columns")
    try:
        request = request_from_wire(_csv_document(zip(columns, cells, strict=False)))
    except (RequestValidationError, TypeError) as exc:
        return bad_row(line, raw, str(exc))
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
