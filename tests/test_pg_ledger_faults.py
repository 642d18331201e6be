"""A PostgreSQL batch under faults: a worker paused past its lease, the server restarted.

Workers are real processes; the sandbox, in the test's process, counts what it took in.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

from telnyx_group_mms.sandbox import Fault, FaultRates, Sandbox

from .fanout_support import accepted_per_text, wait_until
from .pg_workers import ledger_rows, worker, write_batch
from .services import ThrowawayPostgres

CONCURRENCY = 4

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="needs SIGSTOP")


def slow_sandbox(factory: Callable[..., Sandbox], delay: float) -> Sandbox:
    return factory(fault_rates=FaultRates(rates={Fault.delay(delay): 1.0}))


def per_row(counts: Counter[str | None], texts: list[str]) -> dict[str, int]:
    return {text: counts.get(text, 0) for text in texts}


class Run(NamedTuple):
    """Two workers on a 200-row batch of a throwaway server, 40 requests in."""

    sandbox: Sandbox
    url: str
    batch: Path
    log: Path
    workers: list[subprocess.Popen[bytes]]
    texts: list[str]

    @classmethod
    def start(
        cls,
        factory: Callable[..., Sandbox],
        server: ThrowawayPostgres,
        tmp_path: Path,
        *,
        lease: float,
    ) -> Run:
        texts = [f"row {n}" for n in range(200)]
        sandbox = slow_sandbox(factory, 0.05)
        batch = write_batch(tmp_path / "batch.csv", texts)
        log = tmp_path / "workers.log"
        workers = [worker(sandbox, batch, server.url, log, lease=lease) for _ in range(2)]
        wait_until(lambda: sandbox.request_count >= 40, within=60)
        return cls(sandbox, server.url, batch, log, workers, texts)


def assert_finished_once(url: str, sandbox: Sandbox, texts: list[str]) -> int:
    """No row lost, none doubled, each ``sent`` row taken in once; the ``unknown`` rows."""
    rows = ledger_rows(url)
    assert len(rows) == len(texts)
    assert {state for state, _, _ in rows.values()} <= {"sent", "unknown"}
    accepted = per_row(accepted_per_text(sandbox), texts)
    assert max(accepted.values()) == 1
    assert all(accepted[t] == 1 for t, (state, _, _) in rows.items() if state == "sent")
    return sum(1 for state, _, _ in rows.values() if state == "unknown")


def test_a_worker_paused_past_its_lease_cannot_overwrite_what_others_decided(
    telnyx_sandbox_factory: Callable[..., Sandbox], postgres_url: str, tmp_path: Path
) -> None:
    texts = [f"row {n}" for n in range(100)]
    sandbox = slow_sandbox(telnyx_sandbox_factory, 0.2)
    batch = write_batch(tmp_path / "batch.csv", texts)
    paused_log, other_log = tmp_path / "paused.log", tmp_path / "other.log"
    paused = worker(sandbox, batch, postgres_url, paused_log, lease=1.0)
    other = worker(sandbox, batch, postgres_url, other_log, lease=1.0)
    wait_until(lambda: sandbox.request_count >= 12, within=60)
    paused.send_signal(signal.SIGSTOP)
    try:
        # The other worker finishes the batch: it reaps the paused one, declaring its
        # rows in flight unknown and sending the rows it had claimed but not started.
        assert other.wait(timeout=120) in (0, 3), other_log.read_text()
        rows = ledger_rows(postgres_url)
        lost = {text for text, (_, _, code) in rows.items() if code == "worker_lost"}
        time.sleep(0.5)  # the held requests' answers wait in the paused worker's socket
    finally:
        paused.send_signal(signal.SIGCONT)
    # Back, it learns its lease expired and stops; what it learnt is not written.
    assert paused.wait(timeout=60) == 1, paused_log.read_text()
    log = paused_log.read_text()
    assert "lease on batch 'b' expired" in log
    assert "Traceback" not in log

    after = ledger_rows(postgres_url)
    assert {text for text, (state, _, _) in after.items() if state == "unknown"} == lost
    assert assert_finished_once(postgres_url, sandbox, texts) == len(lost) <= CONCURRENCY


def test_postgres_restarted_mid_batch_loses_and_doubles_no_row_and_a_rerun_finishes(
    telnyx_sandbox_factory: Callable[..., Sandbox],
    throwaway_postgres: ThrowawayPostgres,
    tmp_path: Path,
) -> None:
    run = Run.start(telnyx_sandbox_factory, throwaway_postgres, tmp_path, lease=10.0)
    sandbox, url, batch, log, workers, texts = run
    throwaway_postgres.stop(mode="fast")
    assert sandbox.request_count < len(texts)  # mid-batch
    time.sleep(1.0)
    throwaway_postgres.start()
    # The workers waited for the server and went on (or, had it stayed away longer
    # than their lease, stopped with one line): never a traceback.
    codes = [w.wait(timeout=120) for w in workers]
    assert set(codes) <= {0, 1, 3}, log.read_text()
    assert "Traceback" not in log.read_text()

    rerun = worker(sandbox, batch, url, log, lease=10.0)
    assert rerun.wait(timeout=120) in (0, 3), log.read_text()
    unknown = assert_finished_once(url, sandbox, texts)
    assert unknown <= 2 * CONCURRENCY


def test_postgres_gone_for_longer_than_the_lease_stops_workers_cleanly(
    telnyx_sandbox_factory: Callable[..., Sandbox],
    throwaway_postgres: ThrowawayPostgres,
    tmp_path: Path,
) -> None:
    run = Run.start(telnyx_sandbox_factory, throwaway_postgres, tmp_path, lease=1.5)
    sandbox, url, batch, log, workers, texts = run
    throwaway_postgres.stop(mode="fast")
    posts = sandbox.request_count
    assert [w.wait(timeout=60) for w in workers] == [1, 1], log.read_text()
    text = log.read_text()
    assert "Traceback" not in text
    errors = [line for line in text.splitlines() if line.startswith("Error:")]
    assert len(errors) == 2
    assert all("run the same command again" in line for line in errors)
    assert sandbox.request_count <= posts + 2 * CONCURRENCY  # nothing sent unrecorded

    throwaway_postgres.start()
    rerun = worker(sandbox, batch, url, log, lease=1.5)
    assert rerun.wait(timeout=120) in (0, 3), log.read_text()
    assert assert_finished_once(url, sandbox, texts) <= 2 * CONCURRENCY
