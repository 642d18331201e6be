"""A bulk run killed with SIGKILL mid-batch loses no row and, resumed, sends none twice.

The batch runs as a real subprocess (``python -m telnyx_group_mms bulk``) against the
sandbox, whose own record counts the POSTs it received and the messages it took in,
per row (each row's text is unique).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from telnyx_group_mms.sandbox import Fault, FaultRates, Sandbox

from .conftest import FROM, KEY, TO
from .fanout_support import accepted_per_text, posts_per_text, wait_until

ROWS = 150
CONCURRENCY = 8
TEXTS = [f"row {n}" for n in range(ROWS)]

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


@pytest.fixture
def sandbox(telnyx_sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    """A sandbox that holds every request a little, so that a kill finds some in flight.

    A request held when its sender dies is still taken in, as Telnyx would: the
    sender's ledger cannot know, which is what ``unknown`` is for.
    """
    return telnyx_sandbox_factory(fault_rates=FaultRates(rates={Fault.delay(0.03): 1.0}))


def bulk_process(
    sandbox: Sandbox, path: Path, tmp_path: Path, *extra: str
) -> subprocess.Popen[bytes]:
    env = dict(os.environ, TELNYX_API_KEY=KEY, TELNYX_BASE_URL=sandbox.base_url)
    command = [sys.executable, "-m", "telnyx_group_mms", "bulk", str(path), "--rate", "0"]
    command += ["--concurrency", str(CONCURRENCY), *extra]
    log = (tmp_path / "bulk.log").open("ab")
    with log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=log)


def write_batch(tmp_path: Path) -> Path:
    path = tmp_path / "batch.csv"
    path.write_text("from,to,text\n" + "".join(f"{FROM},{';'.join(TO)},{t}\n" for t in TEXTS))
    return path


def ledger_states(path: Path) -> dict[str, str]:
    """Row text -> state, as the ledger has it."""
    with contextlib.closing(sqlite3.connect(f"{path}.ledger.sqlite")) as db:
        found = db.execute("SELECT body, state FROM rows").fetchall()
    return {_text(body): state for body, state in found}


def _text(body: str) -> str:
    text: str = json.loads(body)["text"]
    return text


def per_row(counts: dict[str | None, int]) -> dict[str, int]:
    """The count of every row, zero included."""
    return {text: counts.get(text, 0) for text in TEXTS}


def kill_after(process: subprocess.Popen[bytes], sandbox: Sandbox, posts: int) -> None:
    wait_until(lambda: sandbox.request_count >= posts, within=60)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL


def test_sigkill_mid_batch_loses_no_row_and_resuming_sends_none_twice(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    path = write_batch(tmp_path)

    # Killed twice, at different points, each time with requests in flight.
    kill_after(bulk_process(sandbox, path, tmp_path), sandbox, 30)
    kill_after(bulk_process(sandbox, path, tmp_path), sandbox, 90)
    states = ledger_states(path)
    assert len(states) == ROWS  # every row is recorded, whatever the moment of death
    posts = per_row(posts_per_text(sandbox))
    assert max(posts.values()) == 1
    for text, state in states.items():
        if state == "sent":
            assert posts[text] == 1, text
        if posts[text] == 0:
            # Never POSTed: pending, or committed in flight an instant before the kill.
            assert state in ("pending", "in_flight", "unknown"), text

    # Resuming sends everything not sent, and nothing whose fate is unknown.
    resumed = bulk_process(sandbox, path, tmp_path)
    assert resumed.wait(timeout=120) == 3  # some rows are unknown (exit status 3)
    states = ledger_states(path)
    posts = per_row(posts_per_text(sandbox))
    accepted = per_row(accepted_per_text(sandbox))
    assert max(posts.values()) == 1
    assert max(accepted.values()) == 1  # no group was texted twice
    unknown = {text for text, state in states.items() if state == "unknown"}
    assert 0 < len(unknown) <= 2 * CONCURRENCY  # at most the rows in flight at each kill
    assert {t for t, s in states.items() if s != "unknown"} == {
        t for t, n in posts.items() if n == 1 and t not in unknown
    }
    assert all(state in ("sent", "unknown") for state in states.values())
    # Every row the ledger calls sent was taken in, exactly once.
    assert all(accepted[t] == 1 for t, s in states.items() if s == "sent")

    # Only --retry-unknown sends those again; then every row has gone out, and only a
    # row whose fate was unknown can have gone out twice.
    finished = bulk_process(sandbox, path, tmp_path, "--retry-unknown")
    assert finished.wait(timeout=120) == 0, (tmp_path / "bulk.log").read_text()
    accepted = per_row(accepted_per_text(sandbox))
    assert set(ledger_states(path).values()) == {"sent"}
    assert min(accepted.values()) >= 1
    assert {text for text, n in accepted.items() if n == 2} <= unknown
    assert max(accepted.values()) <= 2


def test_ctrl_c_stops_a_batch_cleanly_and_it_resumes(sandbox: Sandbox, tmp_path: Path) -> None:
    path = write_batch(tmp_path)
    process = bulk_process(sandbox, path, tmp_path)
    wait_until(lambda: sandbox.request_count >= 40, within=60)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 130
    log = (tmp_path / "bulk.log").read_text()
    assert "interrupted: the ledger is consistent" in log
    assert "Traceback" not in log
    assert "Warning" not in log

    finished = bulk_process(sandbox, path, tmp_path, "--retry-unknown")
    assert finished.wait(timeout=120) == 0
    assert min(per_row(posts_per_text(sandbox)).values()) == 1
    assert set(ledger_states(path).values()) == {"sent"}
