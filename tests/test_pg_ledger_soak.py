"""Soak: 20,000 rows, 4 workers on one PostgreSQL batch, 10% faults, two workers killed.

The sandbox runs in its own process with the single-process soak's seeded faults (see
:mod:`tests.soak_support`); two workers are SIGKILLed at random moments and started
again. Then the sandbox's record is checked against the batch's: no message taken in
twice, every ``sent`` row's message is the one the sandbox took in, every message taken
in is ``sent`` or ``unknown`` in the batch, and only the killed workers' rows in flight
(at most ``--concurrency`` each) were lost to ``unknown``.
"""

from __future__ import annotations

import random
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from telnyx_group_mms.bulk.ledger._postgres_sql import ROWS

from .fanout_support import wait_until
from .pg_workers import worker, write_batch
from .soak_support import KEY, Record, SandboxProcess, running_sandbox

N = 20_000
WORKERS = 4
CONCURRENCY = 16


@pytest.fixture
def sandbox() -> Iterator[SandboxProcess]:
    with running_sandbox(seed=N, history=2 * N) as box:
        yield box


@pytest.mark.slow
def test_20000_rows_4_workers_two_killed_keep_every_invariant(
    sandbox: SandboxProcess, postgres_url: str, tmp_path: Path
) -> None:
    texts = [f"soak {n}" for n in range(N)]
    batch = write_batch(tmp_path / "batch.csv", texts)
    log = tmp_path / "workers.log"

    def start() -> subprocess.Popen[bytes]:
        return worker(
            sandbox.base_url, batch, postgres_url, log, concurrency=CONCURRENCY, lease=2.0, key=KEY
        )

    workers = [start() for _ in range(WORKERS)]
    chance = random.Random(N)
    for victim, after in ((0, chance.randrange(2000, 7000)), (1, chance.randrange(8000, 14000))):
        wait_until(lambda after=after: sandbox.stats()["requests"] >= after, within=300)
        workers[victim].send_signal(signal.SIGKILL)
        assert workers[victim].wait(timeout=30) == -signal.SIGKILL
        workers[victim] = start()
    codes = [w.wait(timeout=600) for w in workers]
    assert set(codes) <= {0, 1, 3}, log.read_text()[-3000:]
    assert "Traceback" not in log.read_text()

    record = Record.read(sandbox)
    with psycopg.connect(postgres_url, autocommit=True) as db:
        found = db.execute(
            f"SELECT body::json->>'text', state, message_id, error_code FROM {ROWS}"
        ).fetchall()
    rows = {text: (state, message_id, code) for text, state, message_id, code in found}
    assert sorted(rows) == sorted(texts)  # no row lost
    states = Counter(state for state, _, _ in rows.values())
    assert set(states) <= {"sent", "failed", "unknown"}, states  # none left behind
    assert len(record.accepted) == len(set(record.accepted)), "a message taken in twice"
    accepted = set(record.accepted)
    for text, (state, message_id, _) in rows.items():
        if state == "sent":
            assert record.ids.get(text) == message_id, text
        if text in accepted:
            assert state in ("sent", "unknown"), (text, state)
    lost = [text for text, (_, _, code) in rows.items() if code == "worker_lost"]
    assert len(lost) <= 2 * CONCURRENCY
    # The faults were served, and the batch went on through them.
    assert record.stats["faults"], record.stats
    assert states["sent"] >= N * 0.85, states
