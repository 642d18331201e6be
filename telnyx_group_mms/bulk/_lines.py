"""The rows of a bulk input file, and the lines they are read from, each of bounded size.

Shared by the JSONL and CSV readers: the row (:class:`InputRow`), the error of a file
that cannot be read as rows (:class:`InputError`), the one limit on a row's size, and a
line reader that never holds more than that limit of any line, however long the line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Final, NamedTuple, TextIO

import attrs

from ..errors import TelnyxError
from ..models import GroupMmsRequest

__all__: list[str] = []  # internal: bulk_input is the public face

#: The most characters a row may hold, the same in both formats: a JSONL line, or a CSV
#: row with all its lines (the line breaks inside a quoted field count, the one that
#: ends the row does not). Far beyond any message; a longer row is a bad row, read in
#: pieces and never held whole.
MAX_ROW_CHARS: Final = 65_536

#: The reason given for a row over :data:`MAX_ROW_CHARS`.
ROW_TOO_LONG: Final = f"the row is longer than {MAX_ROW_CHARS:,} characters, the limit for a row"

# A line's text with its ending ("\r\n" at most) fits in one read of this size.
_LINE_READ: Final = MAX_ROW_CHARS + 2
# The rest of a line over the limit is read, and dropped, in pieces of this size.
_PIECE: Final = 1 << 20
_ENDINGS: Final = ("\n", "\r")
# The rest of a line within the limit: nothing (an exhausted iterator stays exhausted).
_NO_REST: Final[Iterator[str]] = iter(())


class InputError(TelnyxError):
    """The input file cannot be read as rows (its format, its CSV header, or its quoting)."""


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


def bad_row(line: int, raw: str, reason: str) -> InputRow:
    """A row that cannot become a request, and why."""
    return InputRow(line=line, request=None, error=reason, raw=raw)


def open_text(path: Path) -> TextIO:
    """``path`` as text, every line ending (``\\n``, ``\\r\\n``, ``\\r``) kept as written."""
    # Undecodable bytes become lone surrogates, so one bad line is reported, not fatal.
    return path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")


def is_utf8(text: str) -> bool:
    """Whether ``text`` holds no lone surrogate (left by an undecodable byte)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def ending_size(text: str) -> int:
    """The length of the line ending ``text`` ends with: 2 (``\r\n``), 1 or 0."""
    if text.endswith("\n"):
        return 2 if text.endswith("\r\n") else 1
    return 1 if text.endswith("\r") else 0


class Line(NamedTuple):
    """One physical line of the file.

    Attributes:
        number: Its 1-based line number.
        text: The line with its ending; for a line over the limit, only its start (a
            little over :data:`MAX_ROW_CHARS` characters).
        too_long: The line holds more than :data:`MAX_ROW_CHARS` characters.
        rest: For a line over the limit, the rest of it in pieces, read on demand (the
            last piece carries the ending); left unread, it is skipped.
    """

    number: int
    text: str
    too_long: bool
    rest: Iterator[str]


class Lines:
    """The lines of a text file, one at a time, none held longer than the limit.

    Memory stays bounded whatever the file holds: a line longer than
    :data:`MAX_ROW_CHARS` (a 2 GB file without a line break) comes with only its start;
    the rest is read in pieces when asked for, and dropped otherwise.
    """

    def __init__(self, handle: TextIO) -> None:
        self._handle = handle
        self._number = 0
        self._rest = _NO_REST

    def __iter__(self) -> Iterator[Line]:
        return self

    def __next__(self) -> Line:
        for _ in self._rest:  # what the caller left of a long line
            pass
        chunk = self._read(_LINE_READ)
        if not chunk:
            raise StopIteration
        self._number += 1
        if len(chunk) < _LINE_READ or chunk.endswith(_ENDINGS):
            too_long = len(chunk) - ending_size(chunk) > MAX_ROW_CHARS
            return Line(self._number, chunk, too_long, _NO_REST)
        self._rest = self._pieces()
        return Line(self._number, chunk, True, self._rest)

    def _pieces(self) -> Iterator[str]:
        while piece := self._read(_PIECE):
            yield piece
            if piece.endswith(_ENDINGS):
                return

    def _read(self, size: int) -> str:
        chunk = self._handle.readline(size)
        if len(chunk) == size and chunk.endswith("\r"):
            # The size may have cut a "\r\n" in two: its "\n" belongs to this line.
            mark = self._handle.tell()
            if self._handle.read(1) == "\n":
                return chunk + "\n"
            self._handle.seek(mark)
        return chunk
