"""The limits of bulk input: one size for a row in both formats, and a cap on CSV columns."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from telnyx_group_mms.bulk._input import (
    MAX_CSV_COLUMNS,
    MAX_ROW_CHARS,
    InputError,
    InputRow,
    check_input,
    read_rows,
)

from .conftest import FROM, TO

TOO_LONG = "the row is longer than 65,536 characters, the limit for a row"
NEXT = "the row after"


def row_of_length(kind: str, length: int) -> str:
    """A valid row of ``kind`` (``csv`` or ``jsonl``) of exactly ``length`` characters."""
    if kind == "csv":
        start, end = f"{FROM},{TO[0]},", ""
    else:
        start, end = f'{{"from": "{FROM}", "to": ["{TO[0]}"], "text": "', '"}'
    return start + "x" * (length - len(start) - len(end)) + end


def next_row(kind: str) -> str:
    if kind == "csv":
        return f"{FROM},{TO[1]},{NEXT}"
    return json.dumps({"from": FROM, "to": [TO[1]], "text": NEXT})


def read(path: Path, kind: str, *rows: str, ending: str = "\n") -> list[InputRow]:
    head = "from,to,text" + ending if kind == "csv" else ""
    path.write_text(head + "".join(row + ending for row in rows), newline="")
    return list(read_rows(path))


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_a_row_of_the_limit_is_read_and_one_character_more_is_a_bad_row(
    tmp_path: Path, kind: str, ending: str
) -> None:
    path = tmp_path / f"in.{kind}"
    first = 2 if kind == "csv" else 1
    at_limit = read(path, kind, row_of_length(kind, MAX_ROW_CHARS), next_row(kind), ending=ending)
    assert [(r.line, r.error) for r in at_limit] == [(first, None), (first + 1, None)]
    over = read(path, kind, row_of_length(kind, MAX_ROW_CHARS + 1), next_row(kind), ending=ending)
    assert [(r.line, r.error) for r in over] == [(first, TOO_LONG), (first + 1, None)]
    assert over[1].request is not None and over[1].request.text == NEXT


def test_a_300_kb_text_is_refused_for_the_same_reason_in_csv_and_jsonl(tmp_path: Path) -> None:
    field_limit = csv.field_size_limit()
    reasons = {
        kind: [r.error for r in read(tmp_path / f"in.{kind}", kind, row_of_length(kind, 300_000))]
        for kind in ("csv", "jsonl")
    }
    assert reasons == {"csv": [TOO_LONG], "jsonl": [TOO_LONG]}
    assert csv.field_size_limit() == field_limit  # the process-wide setting is never touched


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize(
    "length",
    [
        MAX_ROW_CHARS + 1,  # with "\r\n", the first read ends between "\r" and "\n"
        MAX_ROW_CHARS + 2 + (1 << 20) - 1,  # ... and here, the first piece of the rest
        3 * (1 << 20),
    ],
)
@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_the_row_after_a_line_over_the_limit_keeps_its_line_number(
    tmp_path: Path, kind: str, length: int, ending: str
) -> None:
    path = tmp_path / f"in.{kind}"
    rows = read(path, kind, row_of_length(kind, length), next_row(kind), ending=ending)
    first = 2 if kind == "csv" else 1
    assert [(r.line, r.error) for r in rows] == [(first, TOO_LONG), (first + 1, None)]


def test_a_csv_row_over_lines_longer_than_the_limit_is_a_bad_row(tmp_path: Path) -> None:
    lines = ["a line of a long quoted text"] * (MAX_ROW_CHARS // 20)
    rows = read(
        tmp_path / "in.csv", "csv", f'{FROM},{TO[0]},"' + "\n".join(lines) + '"', next_row("csv")
    )
    assert [(r.line, r.error) for r in rows] == [(2, TOO_LONG), (2 + len(lines), None)]


def test_a_csv_header_longer_than_the_limit_makes_the_file_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(",".join(f"c{n}" for n in range(40_000)) + "\n")  # 120 KB
    with pytest.raises(InputError) as info:
        check_input(path)
    assert str(info.value) == "line 1: the CSV header is longer than 65,536 characters"


def test_a_csv_header_of_more_columns_than_the_cap_is_refused_by_their_count(
    tmp_path: Path,
) -> None:
    path = tmp_path / "in.csv"
    path.write_text("from,to," + ",".join(["text"] * 12_000) + "\n")
    with pytest.raises(InputError) as info:
        check_input(path)
    assert str(info.value) == (
        f"line 1: the CSV header has 12,002 columns; at most {MAX_CSV_COLUMNS} are allowed"
    )


def test_a_csv_header_at_the_column_cap_is_checked_name_by_name(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("from,to," + ",".join(["text"] * (MAX_CSV_COLUMNS - 2)) + "\n")
    with pytest.raises(InputError, match=r"^line 1: CSV column\(s\) 'text' repeated$"):
        check_input(path)


_PIECES = 3 << 20  # a line over the limit is read in pieces of 1 MiB after its start
_PREFIX = f"{FROM},{TO[0]},"


@pytest.mark.parametrize(
    ("line", "lines"),
    [
        # Its start ends with a comma; the next piece opens a quote closed on the next line.
        (_PREFIX + "a" * (MAX_ROW_CHARS + 1 - len(_PREFIX)) + ',"' + "b" * _PIECES + '\nc"', 2),
        # A quote opened at its start is closed only on the next line.
        (_PREFIX + '"' + "a" * _PIECES + '\nstill the text"', 2),
        # A quote closed at the very end of its start, then more cells.
        (_PREFIX + '"' + "a" * (MAX_ROW_CHARS - len(_PREFIX)) + '",' + "b" * _PIECES, 1),
        # Text after a closing quote: the rest of the line goes with it.
        (_PREFIX + '"x"y' + "a" * _PIECES, 1),
    ],
)
def test_the_quotes_of_a_csv_line_over_the_limit_are_followed_through_all_of_it(
    tmp_path: Path, line: str, lines: int
) -> None:
    rows = read(tmp_path / "in.csv", "csv", line, next_row("csv"))
    assert [(r.line, r.error) for r in rows] == [(2, TOO_LONG), (2 + lines, None)]
