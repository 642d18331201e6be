"""CSV quoting in bulk input: a quoted field may span lines, but never take in other rows."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from telnyx_group_mms.bulk._input import InputError, InputRow, check_input, read_rows

from .conftest import FROM, TO

HEADER = "from,to,text\n"


def rows_of(path: Path, text: str) -> list[InputRow]:
    path.write_text(text, encoding="utf-8", newline="")
    return list(read_rows(path))


def rows_or_refusal(path: Path, text: str) -> list[InputRow] | InputError:
    try:
        return rows_of(path, text)
    except InputError as exc:
        return exc


def numbered_rows(count: int, *, first: int = 0) -> str:
    return "".join(f"{FROM},{TO[1]},row {n}\n" for n in range(first, first + count))


def test_a_quote_left_open_to_the_end_of_the_file_makes_the_file_unreadable(
    tmp_path: Path,
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(f'{HEADER}{FROM},{TO[0]},"Dinner at 8, bring a dish\n{numbered_rows(50)}')
    check_input(path)  # the header is fine: the file fails once it is read to its end
    with pytest.raises(InputError) as info:
        list(read_rows(path))
    message = str(info.value)
    assert message.startswith("line 2: a quote opened on this line is never closed")
    assert "\n" not in message


def test_the_error_names_the_line_where_the_open_quote_started(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        f'{HEADER}{FROM},{TO[0]},"two\nlines"\n'  # lines 2-3, closed
        f'{FROM},{TO[0]},"still open\n'  # line 4
        "and more text\n"
    )
    with pytest.raises(InputError, match=r"^line 4: a quote opened on this line"):
        list(read_rows(path))


def test_a_header_whose_quote_is_never_closed_makes_the_file_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(f'from,to,"text\n{numbered_rows(3)}')
    with pytest.raises(InputError, match=r"^line 1: a quote opened on this line"):
        check_input(path)


def test_a_quoted_field_that_takes_in_rows_is_a_bad_row_and_the_rows_after_it_are_read(
    tmp_path: Path,
) -> None:
    rows = rows_of(
        tmp_path / "in.csv",
        f'{HEADER}{FROM},{TO[0]},"Dinner at 8, bring a dish\n'  # line 2: the quote opens
        + numbered_rows(3)  # lines 3-5: taken in
        + f'{FROM},{TO[1]},"a quoted text"\n'  # line 6: its first quote closes line 2's
        + numbered_rows(2, first=10),  # lines 7-8
    )
    assert [(r.line, r.request is None) for r in rows] == [(2, True), (7, False), (8, False)]
    assert rows[0].error == (
        "a quote opened on line 2 is closed only on line 6, taking in line 3, "
        "which reads as a row of its own: check the quotes"
    )
    assert [r.request.text for r in rows[1:] if r.request] == ["row 10", "row 11"]


def test_a_line_taken_in_reads_as_a_row_by_its_from_and_to_columns(tmp_path: Path) -> None:
    # The columns are in another order, and the row taken in has a short code recipient.
    rows = rows_of(
        tmp_path / "in.csv",
        f'text,to,from\n"open,{TO[0]},{FROM}\nhi,{TO[1]};12345,{FROM}\nx",{TO[0]},{FROM}\n',
    )
    assert len(rows) == 1
    assert "taking in line 3" in (rows[0].error or "")


@pytest.mark.parametrize(
    "continuation",
    [
        "bring a dish",
        f"call {FROM} or {TO[0]}",
        f"{FROM} is the number to call",
        f"{FROM},not a number",
        f"someone,{TO[0]}",
    ],
)
def test_a_quoted_text_over_lines_that_do_not_read_as_rows_is_one_row(
    tmp_path: Path, continuation: str
) -> None:
    rows = rows_of(tmp_path / "in.csv", f'{HEADER}{FROM},{TO[0]},"Dinner,\n{continuation}"\n')
    assert [(r.line, r.error) for r in rows] == [(2, None)]
    assert rows[0].request is not None
    assert rows[0].request.text == f"Dinner,\n{continuation}"


def test_text_after_a_closing_quote_is_a_bad_row_not_run_together(tmp_path: Path) -> None:
    rows = rows_of(tmp_path / "in.csv", f'{HEADER}{FROM},{TO[0]},"Dinner" at 8\n{numbered_rows(1)}')
    assert rows[0].request is None
    assert rows[0].error == "the CSV row cannot be read: ',' expected after '\"'"
    assert rows[1].error is None


def test_line_breaks_inside_a_quoted_field_are_kept_as_written(tmp_path: Path) -> None:
    rows = rows_of(
        tmp_path / "in.csv",
        f'{HEADER}{FROM},{TO[0]},"one\r\ntwo\rthree\nfour ""quoted"""\r\n{FROM},{TO[0]},next\r\n',
    )
    assert [r.line for r in rows] == [2, 6]
    assert rows[0].request is not None
    assert rows[0].request.text == 'one\r\ntwo\rthree\nfour "quoted"'


# Texts with every character that matters to CSV quoting, and markers that tell rows apart.
_texts = st.text(alphabet=st.sampled_from('ab ,;"\r\n'), min_size=0, max_size=12)


@settings(max_examples=300)
@given(texts=st.lists(_texts, min_size=1, max_size=8), data=st.data())
def test_no_row_ever_takes_in_another_row_whatever_quote_is_dropped(
    texts: list[str], data: st.DataObject
) -> None:
    out = io.StringIO(newline="")
    writer = csv.writer(out)  # "\r\n" ends a row: a text with either character is quoted
    writer.writerow(["from", "to", "text"])
    marked = [f"<{n}>{text}" for n, text in enumerate(texts)]
    for text in marked:
        writer.writerow([FROM, TO[0], text])
    written = out.getvalue()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.csv"
        # As written, every row comes back exactly: the reader keeps to the CSV grammar.
        assert [r.request.text for r in rows_of(path, written) if r.request] == marked
        quotes = [at for at, char in enumerate(written) if char == '"']
        if not quotes:
            return
        dropped = data.draw(st.sampled_from(quotes))
        rows = rows_or_refusal(path, written[:dropped] + written[dropped + 1 :])
    if isinstance(rows, InputError):
        assert "is never closed" in str(rows)
        return
    for row in rows:
        if row.request is not None:
            text = row.request.text or ""
            assert sum(f"<{n}>" in text for n in range(len(texts))) <= 1, text


def csv_module_records(text: str) -> dict[int, list[str] | None]:
    """The records the csv module's strict reader finds, by start line (``None``: an error)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: dict[int, list[str] | None] = {}
    while True:
        start = reader.line_num + 1
        try:
            records[start] = next(reader)
        except StopIteration:
            return records
        except csv.Error:
            records[start] = None


@settings(max_examples=300)
@given(tails=st.lists(st.text(alphabet=st.sampled_from('ab ,"\r\n'), max_size=10), max_size=8))
def test_rows_start_and_end_where_the_csv_modules_strict_reader_says(tails: list[str]) -> None:
    text = HEADER + "".join(f"{FROM},{TO[0]},{tail}\n" for tail in tails)
    expected = csv_module_records(text)
    with tempfile.TemporaryDirectory() as folder:
        rows = rows_or_refusal(Path(folder) / "in.csv", text)
    if isinstance(rows, InputError):
        assert "is never closed" in str(rows)
        assert list(expected.values())[-1] is None  # csv: "unexpected end of data"
        return
    starts = {n for n, cells in expected.items() if cells is None or any(c.strip() for c in cells)}
    assert [r.line for r in rows] == sorted(starts - {1})
    for row in rows:
        cells = expected[row.line]
        if row.request is not None:
            assert cells is not None
            assert row.request.text == cells[2]
        elif row.error and row.error.startswith("the CSV row cannot be read"):
            assert cells is None
