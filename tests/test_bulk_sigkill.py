"""A bulk run killed with SIGKILL mid-batch loses no row and, resumed, sends none twice.

The batch runs as a real subprocess (``python -m telnyx_group_mms bulk``) against the
loopback server, which counts the POSTs of every row.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import FROM, KEY, TO
from .fanout_support import wait_until
from .scripted_server import Reply, ScriptedServer

ROWS = 150
CONCURRENCY = 8

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


def bulk_process(
    server: ScriptedServer, path: Path, tmp_path: Path, *extra: str
) -> subprocess.Popen[bytes]:
    env = dict(os.environ, TELNYX_API_KEY=KEY, TELNYX_BASE_URL=server.base_url)
    command = [sys.executable, "-m", "telnyx_group_mms", "bulk", str(path), "--rate", "0"]
    command += ["--concurrency", str(CONCURRENCY), *extra]
    log = (tmp_path / "bulk.log").open("ab")
    with log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=log)


def write_batch(tmp_path: Path) -> Path:
    path = tmp_path / "batch.csv"
    path.write_text(
        "from,to,text\n" + "".join(f"{FROM},{';'.join(TO)},row {n}\n" for n in range(ROWS))
    )
    return path


def ledger_states(path: Path) -> dict[str, str]:
    """Row text -> state, as the ledger has it."""
    with contextlib.closing(sqlite3.connect(f"{path}.ledger.sqlite")) as db:
        found = db.execute("SELECT body, state FROM rows").fetchall()
    return {_text(body): state for body, state in found}


def _text(body: str) -> str:
    text: str = json.loads(body)["text"]
    return text


def posts_per_row(server: ScriptedServer) -> dict[str, int]:
    counts = {f"row {n}": 0 for n in range(ROWS)}
    for seen in list(server.seen):
        counts[seen.json()["text"]] += 1
    return counts


def kill_after(process: subprocess.Popen[bytes], server: ScriptedServer, posts: int) -> None:
    wait_until(lambda: server.posts >= posts, within=60)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL


def test_sigkill_mid_batch_loses_no_row_and_resuming_sends_none_twice(
    server: ScriptedServer, tmp_path: Path
) -> None:
    path = write_batch(tmp_path)
    server.default = Reply(delay=0.03)

    # Killed twice, at different points, each time with requests in flight.
    kill_after(bulk_process(server, path, tmp_path), server, 30)
    kill_after(bulk_process(server, path, tmp_path), server, 90)
    states = ledger_states(path)
    assert len(states) == ROWS  # every row is recorded, whatever the moment of death
    counts = posts_per_row(server)
    assert max(counts.values()) == 1
    for text, state in states.items():
        if state == "sent":
            assert counts[text] == 1, text
        if counts[text] == 0:
            # Never POSTed: pending, or committed in flight an instant before the kill.
            assert state in ("pending", "in_flight", "unknown"), text

    # Resuming sends everything not sent, and nothing whose fate is unknown.
    resumed = bulk_process(server, path, tmp_path)
    assert resumed.wait(timeout=120) == 1  # some rows are unknown
    states = ledger_states(path)
    counts = posts_per_row(server)
    assert max(counts.values()) == 1
    unknown = {text for text, state in states.items() if state == "unknown"}
    assert 0 < len(unknown) <= 2 * CONCURRENCY  # at most the rows in flight at each kill
    assert {t for t, s in states.items() if s != "unknown"} == {
        t for t, c in counts.items() if c == 1 and t not in unknown
    }
    assert all(state in ("sent", "unknown") for state in states.values())

    # Only --retry-unknown sends those again; then every row has gone out.
    finished = bulk_process(server, path, tmp_path, "--retry-unknown")
    assert finished.wait(timeout=120) == 0, (tmp_path / "bulk.log").read_text()
    counts = posts_per_row(server)
    assert set(ledger_states(path).values()) == {"sent"}
    assert all(counts[text] >= 1 for text in counts)
    assert {text for text, n in counts.items() if n == 2} <= unknown


def test_ctrl_c_stops_a_batch_cleanly_and_it_resumes(
    server: ScriptedServer, tmp_path: Path
) -> None:
    path = write_batch(tmp_path)
    server.default = Reply(delay=0.03)
    process = bulk_process(server, path, tmp_path)
    wait_until(lambda: server.posts >= 40, within=60)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 130
    log = (tmp_path / "bulk.log").read_text()
    assert "interrupted: the ledger is consistent" in log
    assert "Traceback" not in log
    assert "Warning" not in log

    finished = bulk_process(server, path, tmp_path, "--retry-unknown")
    assert finished.wait(timeout=120) == 0
    counts = posts_per_row(server)
    assert min(counts.values()) == 1
    assert set(ledger_states(path).values()) == {"sent"}
