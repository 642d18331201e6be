"""What bulk and send tell their user: in the command line's terms, the input's own names,
the bad rows with their lines, and what a dry run would send."""

from __future__ import annotations

import inspect
import json
import os
import time
from pathlib import Path

import click

import telnyx_group_mms as tgm
from telnyx_group_mms.bulk import DEFAULT_RATE
from telnyx_group_mms.cli._bulk import bulk as bulk_command
from telnyx_group_mms.sandbox import Sandbox

from .cli_runner import run
from .conftest import FROM, KEY, TO

OTHER = "+13125550199"


def write_csv(path: Path, *rows: str) -> Path:
    path.write_text("from,to,text\n" + "".join(f"{row}\n" for row in rows))
    return path


def _env(sandbox: Sandbox) -> dict[str, str]:
    return {**os.environ, "TELNYX_API_KEY": KEY, "TELNYX_BASE_URL": sandbox.base_url}


def test_bulk_without_a_key_names_its_option_and_variable(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", f"{FROM},{TO[0]},hi")

    result = run("bulk", str(path))

    assert result.code == 2
    assert result.error_lines == ["Error: no API key: pass --api-key or set TELNYX_API_KEY"]
    assert "api_key=" not in result.stderr + result.stdout
    assert not (tmp_path / "in.csv.ledger.sqlite").exists()


def test_bulk_takes_the_key_and_base_url_as_options(
    telnyx_sandbox: Sandbox, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "in.csv", f"{FROM},{TO[0]},hi")

    result = run(
        "bulk", str(path), "--api-key", "KEY_option", "--base-url", telnyx_sandbox.base_url
    )  # fmt: skip

    assert result.code == 0, result.stdout + result.stderr
    assert telnyx_sandbox.requests[0].headers["Authorization"] == "Bearer KEY_option"


def test_bad_rows_are_shown_with_their_lines_and_the_names_the_input_used(
    telnyx_sandbox: Sandbox, tmp_path: Path
) -> None:
    rows = [f"{FROM},{TO[0]},good"] + [f"12{n},{TO[0]},bad sender" for n in range(6)]
    rows.append(f"{FROM},{TO[0]},")
    path = write_csv(tmp_path / "in.csv", *rows)

    result = run("bulk", str(path), env=_env(telnyx_sandbox))

    assert result.code == 1
    lines = result.stdout.splitlines()
    start = lines.index("7 bad row(s) skipped:")
    assert lines[start + 1 : start + 7] == [
        "  line 3: from: '120' is not a +E.164 phone number",
        "  line 4: from: '121' is not a +E.164 phone number",
        "  line 5: from: '122' is not a +E.164 phone number",
        "  line 6: from: '123' is not a +E.164 phone number",
        "  line 7: from: '124' is not a +E.164 phone number",
        "  ...and 2 more; --results lists every line and its reason",
    ]
    assert "from_" not in result.stdout


def test_a_jsonl_rows_reason_names_its_key(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"from": "+1", "to": TO, "text": "x"}) + "\n")

    result = run("bulk", str(path), "--dry-run")

    assert result.code == 1
    assert "  line 1: from: '+1' is not a +E.164 phone number" in result.stdout.splitlines()


def test_send_names_the_option_only(telnyx_sandbox: Sandbox) -> None:
    result = run(
        "send", "--api-key", KEY, "--base-url", telnyx_sandbox.base_url,
        "--from", "12", "--to", TO[0], "--text", "Hi",
    )  # fmt: skip

    assert result.code == 1
    assert result.error_lines == ["Error: invalid --from: '12' is not a +E.164 phone number"]


def test_a_dry_run_shows_rows_per_sender_and_the_first_rows(
    telnyx_sandbox: Sandbox, tmp_path: Path
) -> None:
    rows = [f"{FROM},{';'.join(TO)},hello {n}" for n in range(7)]
    rows += [f'{OTHER},{TO[0]},"a, b\nand c"', f"{OTHER},{TO[1]},{'x' * 80}"]
    path = write_csv(tmp_path / "in.csv", *rows)

    result = run("bulk", str(path), "--dry-run", env=_env(telnyx_sandbox))

    assert result.code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    start = lines.index("would send 9 row(s) from 2 sender(s):")
    assert lines[start + 1 : start + 9] == [
        f"  {FROM}  7 row(s)",
        f"  {OTHER}  2 row(s)",
        "the first 5 to send:",
        f'  line 2: from {FROM} to {TO[0]}, {TO[1]}; text "hello 0"',
        f'  line 3: from {FROM} to {TO[0]}, {TO[1]}; text "hello 1"',
        f'  line 4: from {FROM} to {TO[0]}, {TO[1]}; text "hello 2"',
        f'  line 5: from {FROM} to {TO[0]}, {TO[1]}; text "hello 3"',
        f'  line 6: from {FROM} to {TO[0]}, {TO[1]}; text "hello 4"',
    ]
    assert telnyx_sandbox.request_count == 0


async def test_a_dry_runs_preview_keeps_each_row_on_one_line(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "in.csv", f'{OTHER},{TO[0]},"a, b\nand c"', f"{FROM},{TO[1]},{'x' * 80}"
    )

    summary = await tgm.run_bulk(path, dry_run=True)

    assert summary.preview is not None
    assert summary.preview.senders == ((OTHER, 1), (FROM, 1))
    assert [line for line, _ in summary.preview.first_rows] == [2, 4]
    result = run("bulk", str(path), "--dry-run")
    assert f'  line 2: from {OTHER} to {TO[0]}; text "a, b\\nand c"' in result.stdout.splitlines()
    long_row = next(line for line in result.stdout.splitlines() if "line 4:" in line)
    assert long_row.endswith('"' + "x" * 59 + '\u2026"')


def test_run_bulk_and_the_command_share_one_default_rate() -> None:
    (rate_option,) = [p for p in bulk_command.params if p.name == "rate"]
    assert isinstance(rate_option, click.Option)
    assert inspect.signature(tgm.run_bulk).parameters["rate"].default == DEFAULT_RATE == 15.0
    assert rate_option.default == DEFAULT_RATE


async def test_run_bulk_keeps_to_telnyxs_15_per_second_by_default(
    telnyx_sandbox: Sandbox, tmp_path: Path
) -> None:
    # 15 go at once (one second's worth), the next 15 at 15/s: not before about 1 s.
    path = write_csv(tmp_path / "in.csv", *(f"{FROM},{TO[0]},row {n}" for n in range(30)))
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        started = time.monotonic()
        summary = await tgm.run_bulk(path, client=client)
        elapsed = time.monotonic() - started
    assert summary.sent == 30
    assert elapsed >= 0.9
