"""Reading bulk input: JSONL and CSV rows, line numbers, and bad rows that do not stop a batch."""

from __future__ import annotations

from pathlib import Path

import pytest

from telnyx_group_mms.bulk._input import InputError, InputRow, check_input, read_rows

from .conftest import FROM, TO


def rows_of(path: Path, text: str | bytes) -> list[InputRow]:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return list(read_rows(path))


def test_csv_rows_carry_the_file_line_where_they_start(tmp_path: Path) -> None:
    rows = rows_of(
        tmp_path / "in.csv",
        "from,to,text\n"  # line 1
        f"{FROM},{TO[0]},one\n"  # line 2
        "\n"  # line 3: blank, skipped
        f'{FROM},{TO[0]},"two\nlines"\n'  # lines 4-5
        f"{FROM},nobody,bad\n"  # line 6
        ",,\n"  # line 7: separators only, skipped
        f"{FROM},{TO[1]},three\n",  # line 8
    )
    assert [r.line for r in rows] == [2, 4, 6, 8]
    assert [r.error is None for r in rows] == [True, True, False, True]
    assert rows[1].request is not None and rows[1].request.text == "two\nlines"


def test_a_csv_cell_holds_several_values_separated_by_semicolons(tmp_path: Path) -> None:
    (row,) = rows_of(
        tmp_path / "in.csv",
        "from,to,text,media_urls\n"
        f"{FROM}, {TO[0]} ; {TO[1]} ;,hi,https://a.example/1.png;https://a.example/2.png\n",
    )
    assert row.request is not None
    assert tuple(row.request.to) == tuple(TO)
    assert row.request.media_urls == ("https://a.example/1.png", "https://a.example/2.png")


def test_an_empty_csv_cell_means_the_field_is_absent(tmp_path: Path) -> None:
    (row,) = rows_of(
        tmp_path / "in.csv",
        f"from,to,text,subject,media_urls,use_profile_webhooks\n{FROM},{TO[0]},hi,,,\n",
    )
    assert row.request is not None
    assert row.request.subject is None
    assert row.request.media_urls is None
    assert row.request.use_profile_webhooks is None


def test_text_is_kept_verbatim_and_booleans_are_read(tmp_path: Path) -> None:
    (row,) = rows_of(
        tmp_path / "in.csv",
        f"from,to,text,use_profile_webhooks\n{FROM},{TO[0]},  spaced  ,FALSE\n",
    )
    assert row.request is not None
    assert row.request.text == "  spaced  "
    assert row.request.use_profile_webhooks is False


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        (f"{FROM},,hi", "to: is required"),
        (f"{FROM},{TO[0]},", "text"),
        (f"+1,{TO[0]},hi", "from: '+1' is not a +E.164"),
        (f"{FROM},{TO[0]},hi,extra", "has 4 cells; the header has 3"),
        (f"{FROM},{TO[0]};{TO[0]},hi", "appears more than once"),
    ],
)
def test_a_bad_csv_row_is_reported_with_its_reason(tmp_path: Path, cells: str, reason: str) -> None:
    rows = rows_of(tmp_path / "in.csv", f"from,to,text\n{FROM},{TO[0]},ok\n{cells}\n")
    assert rows[0].error is None
    assert rows[1].line == 3
    assert rows[1].request is None
    assert reason in (rows[1].error or "")


def test_a_bad_boolean_cell_is_a_bad_row(tmp_path: Path) -> None:
    (row,) = rows_of(
        tmp_path / "in.csv", f"from,to,text,use_profile_webhooks\n{FROM},{TO[0]},hi,maybe\n"
    )
    assert row.error == "use_profile_webhooks: 'maybe' is not true or false"


def test_invalid_utf8_makes_one_bad_row_not_a_failed_file(tmp_path: Path) -> None:
    rows = rows_of(
        tmp_path / "in.csv",
        f"from,to,text\n{FROM},{TO[0]},caf\xe9\n".encode("latin-1")
        + f"{FROM},{TO[0]},fine\n".encode(),
    )
    assert rows[0].error == "the row is not valid UTF-8"
    assert rows[1].error is None


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("from,to,txt", "unknown CSV column(s) 'txt'"),
        ("from,text", "needs at least the columns 'from' and 'to'"),
        ("from,to,to", "'to' repeated"),
    ],
)
def test_an_unusable_csv_header_fails_the_whole_file(
    tmp_path: Path, header: str, problem: str
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(f"{header}\n{FROM},{TO[0]},hi\n")
    with pytest.raises(InputError, match="line 1") as info:
        check_input(path)
    assert problem in str(info.value)


def test_a_byte_order_mark_and_header_case_are_tolerated(tmp_path: Path) -> None:
    (row,) = rows_of(tmp_path / "in.csv", f"\ufeffFrom, To ,TEXT\n{FROM},{TO[0]},hi\n")
    assert row.error is None


def test_jsonl_rows_use_the_wire_form_and_report_bad_lines(tmp_path: Path) -> None:
    rows = rows_of(
        tmp_path / "in.jsonl",
        f'{{"from": "{FROM}", "to": ["{TO[0]}"], "text": "one"}}\n'  # line 1
        "\n"  # line 2: blank
        "{not json\n"  # line 3
        "[1, 2]\n"  # line 4
        f'{{"from": "{FROM}", "to": ["{TO[0]}"], "text": "x", "media_url": "y"}}\n'  # line 5
        f'{{"from": "{FROM}", "text": "no recipients"}}\n'  # line 6
        f'{{"from": "{FROM}", "to": "{TO[0]}", "text": "to is a string"}}\n'  # line 7
        f'{{"from": "{FROM}", "to": ["{TO[1]}"], "text": "two", "subject": null}}\n',  # line 8
    )
    assert [(r.line, r.error is None) for r in rows] == [
        (1, True),
        (3, False),
        (4, False),
        (5, False),
        (6, False),
        (7, False),
        (8, True),
    ]
    reasons = [r.error or "" for r in rows]
    assert "not valid JSON" in reasons[1]
    assert "not a JSON object" in reasons[2]
    assert "media_url: not a field" in reasons[3]
    assert "to: is required" in reasons[4]
    assert "must be a list" in reasons[5]
    assert rows[0].request is not None and rows[0].request.from_ == FROM


def test_jsonl_lines_that_would_fail_at_send_time_are_bad_rows_not_a_failed_batch(
    tmp_path: Path,
) -> None:
    rows = rows_of(
        tmp_path / "in.jsonl",
        "[" * 30_000 + "]" * 30_000 + "\n"  # deeper than a JSON parser can follow
        f'{{"from": "{FROM}", "to": ["{TO[0]}"], "text": "caf\\udce9"}}\n'  # a lone surrogate
        f'{{"from": "{FROM}", "to": ["{TO[0]}"], "text": "fine"}}\n',
    )
    assert [r.line for r in rows] == [1, 2, 3]
    assert "not valid JSON" in (rows[0].error or "")
    assert "text: has a lone surrogate" in (rows[1].error or "")
    assert rows[2].error is None


def test_the_format_is_taken_from_the_suffix_or_else_the_content(tmp_path: Path) -> None:
    jsonl = tmp_path / "rows.txt"
    jsonl.write_text(f'{{"from": "{FROM}", "to": ["{TO[0]}"], "text": "x"}}\n')
    csv_file = tmp_path / "rows.dat"
    csv_file.write_text(f"from,to,text\n{FROM},{TO[0]},x\n")
    assert check_input(jsonl) == "jsonl"
    assert check_input(csv_file) == "csv"


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        check_input(tmp_path / "absent.csv")


@pytest.mark.parametrize(
    ("line", "key"),
    [
        (f'{{"from": "{FROM}", "to": ["{TO[0]}"], "text": "hi", "from": "+13125550000"}}', "from"),
        (f'{{"from": "{FROM}", "to": ["{TO[0]}"], "text": "a", "text": "b"}}', "text"),
        (f'{{"\\u0066rom": "{FROM}", "from": "{FROM}", "to": ["{TO[0]}"], "text": "x"}}', "from"),
        (f'{{"from": "{FROM}", "to": ["{TO[0]}"], "text": "x", "meta": {{"a": 1, "a": 2}}}}', "a"),
    ],
)
def test_a_jsonl_row_that_gives_a_key_twice_is_a_bad_row(
    tmp_path: Path, line: str, key: str
) -> None:
    after = f'{{"from": "{FROM}", "to": ["{TO[0]}"], "text": "next"}}'
    rows = rows_of(tmp_path / "in.jsonl", f"{line}\n{after}\n")
    assert [(r.line, r.request is None) for r in rows] == [(1, True), (2, False)]
    assert rows[0].error == f"ambiguous: {key!r} is given more than once in an object"
