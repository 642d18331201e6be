"""``bulk --ledger postgresql://...``: the settings it checks before sending anything."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from telnyx_group_mms.bulk import run_bulk
from telnyx_group_mms.bulk.ledger._postgres import PostgresLedger
from telnyx_group_mms.bulk.ledger._postgres_sql import ROWS
from telnyx_group_mms.sandbox import Sandbox

from .cli_runner import COMMAND, Run, run as run_cli
from .conftest import KEY
from .pg_workers import write_batch
from .services import free_port

TEXTS = [f"row {n}" for n in range(5)]


def bulk(sandbox: Sandbox, *args: str, without_driver: bool = False) -> Run:
    env = dict(os.environ, TELNYX_API_KEY=KEY, TELNYX_BASE_URL=sandbox.base_url)
    command = list(COMMAND)
    if without_driver:
        # As if the postgres extra were not installed: importing psycopg fails.
        command = [
            sys.executable,
            "-c",
            "import runpy, sys; sys.modules['psycopg'] = None; "
            "runpy.run_module('telnyx_group_mms', run_name='__main__', alter_sys=True)",
        ]
    done = subprocess.run(
        [*command, "bulk", *args, "--rate", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def error_line(run: Run) -> str:
    lines = [line for line in run.error_lines if line.startswith("Error:")]
    assert len(lines) == 1, run.stderr
    return lines[0]


def test_a_missing_driver_is_one_line_naming_the_extra(
    telnyx_sandbox: Sandbox, postgres_url: str, tmp_path: Path
) -> None:
    batch = write_batch(tmp_path / "batch.csv", TEXTS)
    run = bulk(telnyx_sandbox, str(batch), "--ledger", postgres_url, without_driver=True)
    assert run.code == 2
    assert "pip install 'telnyx-group-mms[postgres]'" in error_line(run)
    assert "Traceback" not in run.stderr
    assert telnyx_sandbox.request_count == 0


@pytest.mark.parametrize("problem", ["unreachable", "no database", "malformed"])
def test_an_unusable_url_is_one_line_naming_host_and_database_never_the_password(
    telnyx_sandbox: Sandbox, tmp_path: Path, problem: str
) -> None:
    batch = write_batch(tmp_path / "batch.csv", TEXTS)
    url = {
        "unreachable": f"postgresql://bob:s3cret-pw@127.0.0.1:{free_port()}/batches",
        "no database": "postgresql://root:s3cret-pw@127.0.0.1:5432/no_such_db_tgm",
        "malformed": "postgresql://bob:s3cret-pw@127.0.0.1:99999/batches",
    }[problem]
    run = bulk(telnyx_sandbox, str(batch), "--ledger", url)
    assert run.code == 2, run.stderr
    line = error_line(run)
    assert line.startswith("Error: --ledger: ")
    assert "127.0.0.1" in line
    assert ("no_such_db_tgm" if problem == "no database" else "batches") in line
    assert "s3cret-pw" not in run.stderr + run.stdout
    assert "Traceback" not in run.stderr
    assert telnyx_sandbox.request_count == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batch.csv"]  # no SQLite ledger


def test_the_default_batch_is_the_input_file_name_and_is_said(
    telnyx_sandbox: Sandbox, postgres_url: str, tmp_path: Path
) -> None:
    batch = write_batch(tmp_path / "march.csv", TEXTS)
    run = bulk(telnyx_sandbox, str(batch), "--ledger", postgres_url)
    assert run.code == 0, run.stderr
    assert "batch 'march.csv' (the input's file name; --batch names another)" in run.stderr
    assert "batch 'march.csv'" in run.stdout
    assert len(telnyx_sandbox.messages) == len(TEXTS)
    again = bulk(telnyx_sandbox, str(batch), "--ledger", postgres_url, "--batch", "march.csv")
    assert again.code == 0
    assert f"sent {len(TEXTS)} ({len(TEXTS)} before this worker joined)" in again.stdout
    assert len(telnyx_sandbox.messages) == len(TEXTS)


def test_batch_without_a_postgres_ledger_is_a_usage_error(
    telnyx_sandbox: Sandbox, tmp_path: Path
) -> None:
    batch = write_batch(tmp_path / "batch.csv", TEXTS)
    run = bulk(telnyx_sandbox, str(batch), "--batch", "b")
    assert run.code == 2
    assert "--batch: only a PostgreSQL ledger" in error_line(run)
    assert telnyx_sandbox.request_count == 0


async def test_a_worker_with_another_retry_unknown_setting_is_refused(
    telnyx_sandbox: Sandbox, postgres_url: str, tmp_path: Path
) -> None:
    batch = write_batch(tmp_path / "batch.csv", TEXTS)
    live = PostgresLedger(postgres_url, batch="b")
    await live.join(lambda: iter([]), digest="", retry_unknown=False)
    try:
        run = await asyncio.to_thread(
            bulk,
            telnyx_sandbox,
            str(batch),
            "--ledger",
            postgres_url,
            "--batch",
            "b",
            "--retry-unknown",
        )
    finally:
        await live.aclose()
    assert run.code == 1
    assert "live worker(s) without --retry-unknown" in error_line(run)
    assert telnyx_sandbox.request_count == 0


async def test_run_bulk_takes_a_postgres_url(
    telnyx_sandbox: Sandbox, postgres_url: str, tmp_path: Path
) -> None:
    batch = write_batch(tmp_path / "batch.csv", TEXTS)
    summary = await run_bulk(
        batch,
        ledger=postgres_url,
        batch="api",
        api_key=KEY,
        base_url=telnyx_sandbox.base_url,
        rate=None,
    )
    assert (summary.sent, summary.rows, summary.exit_code) == (5, 5, 0)
    assert (summary.batch, summary.worker_sent, summary.ledger_path) == ("api", 5, None)
    assert summary.ledger_url is not None and summary.ledger_url.startswith("postgresql://")
    with pytest.raises(ValueError, match="batch"):
        await run_bulk(batch, batch="api", api_key=KEY, base_url=telnyx_sandbox.base_url)


def test_a_dry_run_on_postgres_sends_and_records_nothing(
    telnyx_sandbox: Sandbox, postgres_url: str, tmp_path: Path
) -> None:
    batch = write_batch(tmp_path / "batch.csv", TEXTS)
    run = bulk(telnyx_sandbox, str(batch), "--ledger", postgres_url, "--dry-run")
    assert run.code == 0, run.stderr
    assert f"would send {len(TEXTS)}" in run.stdout
    assert telnyx_sandbox.request_count == 0
    with psycopg.connect(postgres_url, autocommit=True) as db:
        assert db.execute(f"SELECT count(*) FROM {ROWS}").fetchone() == (0,)


def test_status_shows_a_batch_and_its_live_workers_as_text_and_json(
    telnyx_sandbox: Sandbox, postgres_url: str, tmp_path: Path
) -> None:
    batch = write_batch(tmp_path / "batch.csv", TEXTS)
    assert bulk(telnyx_sandbox, str(batch), "--ledger", postgres_url, "--batch", "b").code == 0
    shown = run_cli("status", "--ledger", postgres_url, "--batch", "b")
    assert shown.code == 0, shown.stderr
    assert "rows 5: sent 5, failed 0, unknown 0, bad 0, pending 0" in shown.stdout
    assert "live workers: 0" in shown.stdout
    as_json = run_cli("status", "--ledger", postgres_url, "--batch", "b", "--json")
    found = json.loads(as_json.stdout)
    assert (found["batch"], found["rows"], found["counts"]["sent"], found["workers"]) == (
        "b",
        5,
        5,
        [],
    )
    missing = run_cli("status", "--ledger", postgres_url, "--batch", "other")
    assert missing.code == 1
    assert "no batch 'other'" in missing.stderr
    unreachable = run_cli(
        "status", "--ledger", f"postgresql://u:pw1234@127.0.0.1:{free_port()}/x", "--batch", "b"
    )
    assert unreachable.code == 2
    assert "pw1234" not in unreachable.stderr
    assert len(unreachable.error_lines) == 1
