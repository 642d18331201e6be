"""The ``bulk`` command on broken CSV quoting: the same verdict dry and real, nothing taken in.

Each case runs the command as a user would, in a subprocess, against the sandbox, whose
own record says what was sent.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
from pathlib import Path

from telnyx_group_mms.sandbox import Sandbox

from .cli_runner import Run, run
from .conftest import FROM, KEY, TO

HEADER = "from,to,text\n"


def bulk(sandbox: Sandbox, path: Path, *options: str) -> Run:
    env = dict(os.environ, TELNYX_API_KEY=KEY, TELNYX_BASE_URL=sandbox.base_url)
    return run("bulk", str(path), "--rate", "0", *options, env=env)


def verdict(result: Run) -> tuple[int, int, int]:
    """Exit status, rows and bad rows, as the summary line gives them."""
    found = re.search(r"\brows (\d+)\b.*\bbad (\d+)\b", result.stdout)
    assert found is not None, result.stdout + result.stderr
    return result.code, int(found[1]), int(found[2])


def numbered_rows(count: int, *, first: int = 0) -> str:
    return "".join(f"{FROM},{TO[1]},row {n}\n" for n in range(first, first + count))


def ledger_rows(path: Path) -> int:
    if not path.exists():
        return 0
    with contextlib.closing(sqlite3.connect(path)) as db:
        (count,) = db.execute("SELECT count(*) FROM rows").fetchone()
    return int(count)


def test_a_quote_open_to_the_end_of_the_file_is_refused_dry_and_real_and_nothing_is_sent(
    tmp_path: Path, telnyx_sandbox: Sandbox
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(f'{HEADER}{FROM},{TO[0]},"Dinner at 8, bring a dish\n{numbered_rows(50)}')
    reason = "line 2: a quote opened on this line is never closed"
    for result in (bulk(telnyx_sandbox, path, "--dry-run"), bulk(telnyx_sandbox, path)):
        assert result.code == 2, result.stdout + result.stderr
        assert len([line for line in result.error_lines if reason in line]) == 1, result.stderr
        assert "Traceback" not in result.stderr
    assert telnyx_sandbox.request_count == 0
    assert ledger_rows(Path(f"{path}.ledger.sqlite")) == 0


def test_a_quote_that_takes_in_rows_is_one_bad_row_dry_and_real_and_no_text_holds_a_row(
    tmp_path: Path, telnyx_sandbox: Sandbox
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        f'{HEADER}{FROM},{TO[0]},"Dinner at 8, bring a dish\n'  # line 2: the quote opens
        + numbered_rows(3)  # lines 3-5: taken in
        + f'{FROM},{TO[1]},"a quoted text"\n'  # line 6: its first quote closes line 2's
        + numbered_rows(2, first=10)  # lines 7-8
    )
    results = tmp_path / "results.jsonl"
    dry = bulk(telnyx_sandbox, path, "--dry-run")
    assert telnyx_sandbox.request_count == 0
    real = bulk(telnyx_sandbox, path, "--results", str(results))
    assert verdict(dry) == verdict(real) == (1, 3, 1)
    assert sorted(m.text or "" for m in telnyx_sandbox.messages) == ["row 10", "row 11"]
    records = [json.loads(line) for line in results.read_text().splitlines()]
    bad = [r for r in records if r["state"] != "sent"]
    assert [(r["line"], r["state"], r["error_code"]) for r in bad] == [(2, "failed", "invalid_row")]
    assert bad[0]["error_detail"].startswith("a quote opened on line 2 is closed only on line 6")
