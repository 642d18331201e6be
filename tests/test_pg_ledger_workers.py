"""Several bulk workers, as real processes, on one batch of a PostgreSQL ledger.

The sandbox runs in the test's process; its own record counts the POSTs it received and
the messages it took in, per row (each row's text is unique).
"""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from telnyx_group_mms.bulk.ledger._postgres_sql import ROWS as ROWS_TABLE, WORKERS
from telnyx_group_mms.sandbox import Fault, FaultRates, Sandbox

from .fanout_support import accepted_per_text, posts_per_text, wait_until
from .pg_workers import ledger_rows, worker, write_batch

ROWS = 240
CONCURRENCY = 4
TEXTS = [f"row {n}" for n in range(ROWS)]

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


@pytest.fixture
def sandbox(telnyx_sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    """A sandbox that holds every request a little: a batch takes seconds, not less."""
    return telnyx_sandbox_factory(fault_rates=FaultRates(rates={Fault.delay(0.04): 1.0}))


def per_row(counts: Counter[str | None]) -> dict[str, int]:
    return {text: counts.get(text, 0) for text in TEXTS}


def test_three_workers_send_every_row_once_and_share_the_work(
    sandbox: Sandbox, postgres_url: str, tmp_path: Path
) -> None:
    batch = write_batch(tmp_path / "batch.csv", TEXTS)
    logs = [tmp_path / f"w{n}.log" for n in range(3)]
    results = [tmp_path / f"w{n}.jsonl" for n in range(3)]
    workers = [
        worker(sandbox, batch, postgres_url, log, "--results", str(out))
        for log, out in zip(logs, results, strict=True)
    ]
    codes = [w.wait(timeout=120) for w in workers]
    assert codes == [0, 0, 0], [log.read_text() for log in logs]

    assert set(per_row(accepted_per_text(sandbox)).values()) == {1}
    assert set(per_row(posts_per_text(sandbox)).values()) == {1}
    rows = ledger_rows(postgres_url)
    assert {state for state, _, _ in rows.values()} == {"sent"}
    shares = Counter(by for _, by, _ in rows.values())
    assert len(shares) == 3, shares
    assert min(shares.values()) >= ROWS // 10, shares  # each did a real part of the batch
    for log in logs:
        text = log.read_text()
        assert f"rows {ROWS}: sent {ROWS}" in text  # the whole batch's summary
        assert "batch 'b' on postgresql://" in text
    # Each worker's results list every row of the batch.
    assert all(len(out.read_text().splitlines()) == ROWS for out in results)


def test_a_worker_killed_mid_batch_leaves_the_others_to_finish_and_no_row_twice(
    sandbox: Sandbox, postgres_url: str, tmp_path: Path
) -> None:
    batch = write_batch(tmp_path / "batch.csv", TEXTS)
    log = tmp_path / "workers.log"
    workers = [worker(sandbox, batch, postgres_url, log) for _ in range(3)]
    wait_until(lambda: sandbox.request_count >= 60, within=60)
    victim = workers[0]
    victim.send_signal(signal.SIGKILL)
    assert victim.wait(timeout=30) == -signal.SIGKILL
    # The others finish the batch: the victim's rows in flight are unknown (exit 3).
    codes = [w.wait(timeout=120) for w in workers[1:]]
    assert set(codes) <= {0, 3}, log.read_text()

    rows = ledger_rows(postgres_url)
    accepted = per_row(accepted_per_text(sandbox))
    assert max(accepted.values()) == 1  # no group texted twice
    assert {state for state, _, _ in rows.values()} <= {"sent", "unknown"}
    unknown = {text for text, (state, _, _) in rows.items() if state == "unknown"}
    assert len(unknown) <= CONCURRENCY
    assert len({rows[text][1] for text in unknown}) <= 1  # all the victim's
    assert {rows[text][2] for text in unknown} <= {"worker_lost"}
    assert all(accepted[t] == 1 for t, (state, _, _) in rows.items() if state == "sent")
    if unknown:
        assert 3 in codes

    # A later run sends nothing that may have gone out.
    posts_before = sandbox.request_count
    again = worker(sandbox, batch, postgres_url, log)
    assert again.wait(timeout=60) == (3 if unknown else 0), log.read_text()
    assert sandbox.request_count == posts_before


def test_ctrl_c_gives_the_workers_rows_back_at_once_and_a_rerun_finishes(
    sandbox: Sandbox, postgres_url: str, tmp_path: Path
) -> None:
    batch = write_batch(tmp_path / "batch.csv", TEXTS)
    log, results = tmp_path / "worker.log", tmp_path / "results.jsonl"
    interrupted = worker(sandbox, batch, postgres_url, log, "--results", str(results))
    wait_until(lambda: sandbox.request_count >= 20, within=60)
    interrupted.send_signal(signal.SIGINT)
    assert interrupted.wait(timeout=30) == 130, log.read_text()
    assert "interrupted: the ledger is consistent" in log.read_text()
    assert "Traceback" not in log.read_text()
    assert len(results.read_text().splitlines()) == ROWS
    # Nothing is left held: its claims went back, its rows in flight are unknown, its
    # lease is over, so no one has to wait for it to expire.
    with psycopg.connect(postgres_url, autocommit=True) as db:
        held = db.execute(f"SELECT count(*) FROM {ROWS_TABLE} WHERE holder IS NOT NULL")
        assert held.fetchone() == (0,)
        in_flight = db.execute(f"SELECT count(*) FROM {ROWS_TABLE} WHERE state = 'in_flight'")
        assert in_flight.fetchone() == (0,)
        live = db.execute(f"SELECT count(*) FROM {WORKERS} WHERE state = 'active'")
        assert live.fetchone() == (0,)

    again = worker(sandbox, batch, postgres_url, log)
    assert again.wait(timeout=120) in (0, 3), log.read_text()
    rows = ledger_rows(postgres_url)
    assert {state for state, _, _ in rows.values()} <= {"sent", "unknown"}
    assert max(per_row(accepted_per_text(sandbox)).values()) == 1
    assert sum(state == "unknown" for state, _, _ in rows.values()) <= CONCURRENCY


def test_workers_of_one_batch_share_one_rate_through_redis(
    telnyx_sandbox: Sandbox,
    postgres_url: str,
    redis_namespace: tuple[str, str],
    tmp_path: Path,
) -> None:
    redis_url, namespace = redis_namespace
    texts = [f"paced {n}" for n in range(15)]
    batch = write_batch(tmp_path / "batch.csv", texts)
    log = tmp_path / "workers.log"
    shared = ("--shared-limits", redis_url, "--limits-namespace", namespace)
    workers = [
        worker(telnyx_sandbox, batch, postgres_url, log, *shared, "--rate", "5") for _ in range(2)
    ]
    assert [w.wait(timeout=120) for w in workers] == [0, 0], log.read_text()
    times = sorted(r.arrived_at for r in telnyx_sandbox.requests)
    assert len(times) == len(texts)  # each row once, between the two workers
    # 15 rows at 5/s between both, a burst of 5: at least 2 s (each alone at 5/s: 1 s).
    assert times[-1] - times[0] >= 1.8
