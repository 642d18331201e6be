"""``telnyx-group-mms bulk``: exit codes, results file, progress lines, usage errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from telnyx_group_mms.bulk import BulkProgress
from telnyx_group_mms.bulk.ledger._sqlite import Ledger
from telnyx_group_mms.cli import main
from telnyx_group_mms.cli._progress import Progress
from telnyx_group_mms.sandbox import Fault, Sandbox

from .conftest import FROM, KEY, TO


@pytest.fixture
def env(telnyx_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELNYX_API_KEY", KEY)
    monkeypatch.setenv("TELNYX_BASE_URL", telnyx_sandbox.base_url)


def write_csv(path: Path, *rows: str) -> Path:
    path.write_text("from,to,text\n" + "".join(f"{row}\n" for row in rows))
    return path


def invoke(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["bulk", *map(str, args)])
    return result.exit_code, result.output


@pytest.mark.usefixtures("env")
def test_exit_0_when_every_row_is_sent_with_a_plain_progress_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", *(f"{FROM},{TO[0]},row {n}" for n in range(5)))
    code, output = invoke(path, "--rate", "0")
    assert code == 0, output
    assert "progress: 5/5 done (sent 5, failed 0, unknown 0)" in output
    assert "rows 5: sent 5 (0 by an earlier run), failed 0, unknown 0, bad 0" in output
    assert f"ledger: {path}.ledger.sqlite" in output


@pytest.mark.usefixtures("env")
def test_exit_1_when_a_row_is_bad_and_the_results_say_which(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", f"{FROM},{TO[0]},good", f"{FROM},{TO[0]},")
    results = tmp_path / "out.jsonl"
    code, output = invoke(path, "--results", results, "--ledger", tmp_path / "l.sqlite")
    assert code == 1, output
    assert "1 bad row(s) skipped" in output
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert [(r["line"], r["state"], r["error_code"]) for r in records] == [
        (2, "sent", None),
        (3, "failed", "invalid_row"),
    ]


@pytest.mark.usefixtures("env")
def test_exit_3_when_an_outcome_is_unknown_with_advice(
    tmp_path: Path, telnyx_sandbox: Sandbox
) -> None:
    telnyx_sandbox.faults.script(Fault.status(502))
    path = write_csv(tmp_path / "in.csv", f"{FROM},{TO[0]},once")
    code, output = invoke(path)
    assert code == 3, output
    assert "may or may not have been sent" in output
    assert "--retry-unknown" in output
    code, output = invoke(path, "--retry-unknown")
    assert code == 0, output
    assert telnyx_sandbox.request_count == 2


@pytest.mark.usefixtures("env")
def test_a_dry_run_sends_nothing(tmp_path: Path, telnyx_sandbox: Sandbox) -> None:
    path = write_csv(tmp_path / "in.csv", f"{FROM},{TO[0]},hi")
    code, output = invoke(path, "--dry-run")
    assert code == 0, output
    assert "would send 1" in output
    assert telnyx_sandbox.request_count == 0


@pytest.mark.usefixtures("env")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv"], "does not exist"),
        (["{bad_header}"], "unknown CSV column"),
        (["{good}", "--concurrency", "0"], "--concurrency"),
        (["{good}", "--rate", "-1"], "--rate"),
        # FloatRange lets NaN and infinity through: they once reached the fan-out's check
        # and ended in a traceback.
        (["{good}", "--rate", "nan"], "Invalid value for '--rate'"),
        (["{good}", "--rate", "inf"], "Invalid value for '--rate'"),
        (["{good}", "--per-sender-rate", "0"], "--per-sender-rate"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    bad_header = tmp_path / "bad.csv"
    bad_header.write_text("from,to,body\n")
    good = write_csv(tmp_path / "good.csv", f"{FROM},{TO[0]},hi")
    filled = [a.format(bad_header=bad_header, good=good) for a in args]
    code, output = invoke(*(tmp_path / a if a == "missing.csv" else a for a in filled))
    assert code == 2, output
    assert message in output


def test_a_missing_api_key_is_a_usage_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", f"{FROM},{TO[0]},hi")
    code, output = invoke(path)
    assert code == 2
    assert "no API key" in output


@pytest.mark.usefixtures("env")
def test_a_ledger_held_by_another_run_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", f"{FROM},{TO[0]},hi")
    holder = Ledger(tmp_path / "in.csv.ledger.sqlite")
    try:
        code, output = invoke(path)
    finally:
        holder.close()
    assert code == 1
    assert "in use by another run" in output


def test_a_terminal_gets_a_progress_bar_with_the_counts() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    progress = Progress(out)
    for done in range(1, 4):
        progress(BulkProgress(total=3, done=done, sent=done, elapsed=float(done)))
    progress.close()
    drawn = out.getvalue()
    assert "3/3" in drawn
    assert "sent=3" in drawn and "failed=0" in drawn and "unknown=0" in drawn
    assert "progress:" not in drawn
