"""An interrupted bulk run (Ctrl-C, a cancelled task) still writes its ``--results``.

The ledger is consistent at that point, so the results can say where every row stands:
rows sent before the interruption are ``sent``, rows not attempted are ``pending``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.cli._bulk import _interrupted
from telnyx_group_mms.sandbox import Fault, FaultRates, Sandbox

from .conftest import FROM, KEY, TO
from .fanout_support import eventually, wait_until

ROWS = 400


@pytest.fixture
def sandbox(telnyx_sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    """A sandbox slow enough that an interruption finds most rows not yet attempted."""
    return telnyx_sandbox_factory(fault_rates=FaultRates(rates={Fault.delay(0.03): 1.0}))


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    path = tmp_path / "batch.csv"
    path.write_text("from,to,text\n" + "".join(f"{FROM},{TO[0]},row {n}\n" for n in range(ROWS)))
    return path


def results_by_line(path: Path) -> dict[int, dict[str, object]]:
    records = [json.loads(line) for line in path.read_text().splitlines()]
    return {record["line"]: record for record in records}


def ledger_by_line(path: Path) -> dict[int, tuple[str, str | None]]:
    with contextlib.closing(sqlite3.connect(f"{path}.ledger.sqlite")) as db:
        found = db.execute("SELECT line, state, message_id FROM rows").fetchall()
    return {line: (state, message_id) for line, state, message_id in found}


def assert_results_show_every_row_as_the_ledger_has_it(batch: Path, results: Path) -> None:
    assert stat.S_IMODE(results.stat().st_mode) == 0o600
    written = results_by_line(results)
    assert sorted(written) == list(range(2, ROWS + 2))  # every row, header aside
    states = [record["state"] for record in written.values()]
    assert "sent" in states
    assert "pending" in states  # rows not attempted
    for line, (state, message_id) in ledger_by_line(batch).items():
        assert (written[line]["state"], written[line]["message_id"]) == (state, message_id)


def test_ctrl_c_writes_the_results_so_far_and_says_so(
    sandbox: Sandbox, batch: Path, tmp_path: Path
) -> None:
    results = tmp_path / "results.jsonl"
    env = dict(os.environ, TELNYX_API_KEY=KEY, TELNYX_BASE_URL=sandbox.base_url)
    command = [sys.executable, "-m", "telnyx_group_mms", "bulk", str(batch), "--rate", "0"]
    command += ["--concurrency", "4", "--results", str(results)]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    wait_until(lambda: sandbox.request_count >= 10, within=60)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert stderr.splitlines()[-1].startswith("interrupted: the ledger is consistent")
    assert f"results so far written to {results} (rows not attempted: 'pending')" in stderr
    assert "Traceback" not in stderr
    assert_results_show_every_row_as_the_ledger_has_it(batch, results)


async def test_a_cancelled_run_bulk_writes_the_results_so_far(
    sandbox: Sandbox, batch: Path, tmp_path: Path
) -> None:
    results = tmp_path / "results.jsonl"
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=sandbox.base_url) as client:
        run = asyncio.create_task(
            tgm.run_bulk(batch, results_path=results, concurrency=4, client=client)
        )
        await eventually(lambda: sandbox.request_count >= 10, within=60)
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run
    await asyncio.to_thread(assert_results_show_every_row_as_the_ledger_has_it, batch, results)


def test_no_results_are_claimed_when_the_run_was_stopped_before_any_were_written(
    batch: Path, tmp_path: Path
) -> None:
    results = tmp_path / "results.jsonl"
    results.write_text("from an earlier run\n")
    assert "results so far" not in _interrupted(results)()
    assert "results so far" not in _interrupted(tmp_path / "never.jsonl")()
