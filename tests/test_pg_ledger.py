"""The PostgreSQL bulk ledger against a real server: joining, claiming, leases, fencing."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from telnyx_group_mms.bulk import _pg_run
from telnyx_group_mms.bulk.ledger import _postgres_batch
from telnyx_group_mms.bulk.ledger._postgres import PostgresLedger
from telnyx_group_mms.bulk.ledger._postgres_batch import (
    BatchConnection,
    BatchMismatchError,
    LeaseLostError,
    Row,
)
from telnyx_group_mms.bulk.ledger._postgres_sql import RECORD, ROWS, WORKERS
from telnyx_group_mms.bulk.ledger._sqlite import RowState, RowUpdate
from telnyx_group_mms.errors import BackendUnavailableError

from .conftest import FROM, TO


def rows(n: int, *, start: int = 0, bad: tuple[int, ...] = ()) -> Callable[[], Iterator[Row]]:
    """Rows as an input gives them to ``join``: read anew each time."""
    made: list[Row] = []
    for i in range(start, start + n):
        if i in bad:
            made.append((f"bad-{i}:1", i + 1, None, "no 'to'"))
        else:
            body = json.dumps({"from": FROM, "to": TO, "text": f"row {i}"})
            made.append((f"d{i}:1", i + 1, body, None))
    return lambda: iter(made)


@pytest.fixture
async def ledgers(postgres_url: str) -> AsyncIterator[Callable[..., PostgresLedger]]:
    made: list[PostgresLedger] = []

    def make(batch: str = "b1", lease: float = 30.0) -> PostgresLedger:
        ledger = PostgresLedger(postgres_url, batch=batch, lease=lease)
        made.append(ledger)
        return ledger

    yield make
    for ledger in made:
        with contextlib.suppress(BackendUnavailableError, LeaseLostError):
            await ledger.aclose()


def sql(url: str, statement: str, *args: object) -> list[tuple[object, ...]]:
    with psycopg.connect(url, autocommit=True) as db:
        cur = db.execute(statement, args)
        return cur.fetchall() if cur.description else []


async def send_all(ledger: PostgresLedger, *, limit: int = 10) -> list[str]:
    sent: list[str] = []
    while True:
        claimed = await ledger.claim(limit)
        if not claimed and not await ledger.more_to_do(0.01):
            break
        for row_id, _line, _body in claimed:
            await ledger.mark_in_flight(row_id)
            ledger.record(RowUpdate(row_id, RowState.SENT, message_id=f"m-{row_id}"))
            sent.append(row_id)
    await ledger.flush()
    return sent


async def test_rows_are_registered_once_and_counted(
    ledgers: Callable[..., PostgresLedger], postgres_url: str
) -> None:
    first, second = ledgers(), ledgers()
    joined = await first.join(rows(20, bad=(3,)), digest="x", retry_unknown=False)
    assert (joined.started, joined.registered, joined.to_send) == (True, True, 19)
    again = await second.join(rows(20, bad=(3,)), digest="x", retry_unknown=False)
    # A live worker started the generation: the second joins it, writing no row.
    assert (again.started, again.registered, again.generation) == (
        False,
        False,
        joined.generation,
    )
    assert await first.counts() == {"pending": 19, "bad": 1}
    version = sql(
        postgres_url,
        "SELECT schema_version FROM telnyx_group_mms_meta WHERE component = 'bulk_ledger'",
    )
    assert version == [(1,)]


async def test_workers_claim_disjoint_rows_and_share_the_batch(
    ledgers: Callable[..., PostgresLedger],
) -> None:
    workers = [ledgers() for _ in range(3)]
    for worker in workers:
        await worker.join(rows(90), digest="x", retry_unknown=False)
    sent = await asyncio.gather(*(send_all(w, limit=5) for w in workers))
    every = [row_id for part in sent for row_id in part]
    assert len(every) == len(set(every)) == 90
    assert all(part for part in sent)
    assert await workers[0].counts() == {"sent": 90}
    outcomes = [o async for o in workers[0].outcomes()]
    assert [o[0] for o in outcomes] == list(range(1, 91))
    assert {o[1] for o in outcomes} == {"sent"}


async def test_an_expired_worker_is_reaped_and_cannot_overwrite_outcomes(
    ledgers: Callable[..., PostgresLedger], postgres_url: str
) -> None:
    paused, other = ledgers(), ledgers()
    await paused.join(rows(10), digest="x", retry_unknown=False)
    await other.join(rows(10), digest="x", retry_unknown=False)
    claimed = await paused.claim(4)
    in_flight = [row_id for row_id, _, _ in claimed[:2]]
    for row_id in in_flight:
        await paused.mark_in_flight(row_id)
    # The paused worker's lease runs out (as if SIGSTOPped past it).
    sql(postgres_url, f"UPDATE {WORKERS} SET lease_until = 0 WHERE id = %s", paused.worker)

    sent = await send_all(other)
    # Its claimed-not-started rows went to the other worker; its in-flight ones are unknown.
    assert len(sent) == 8
    states = dict(sql(postgres_url, f"SELECT id, state FROM {ROWS}"))
    assert {states[r] for r in in_flight} == {"unknown"}

    # Back from its pause: its outcomes are fenced, and it may start nothing new.
    for row_id in in_flight:
        paused.record(RowUpdate(row_id, RowState.SENT, message_id="late"))
    await paused.flush()
    assert paused.fenced == 2
    with pytest.raises(LeaseLostError, match="lease"):
        await paused.mark_in_flight(claimed[2][0])
    with pytest.raises(LeaseLostError):
        await paused.claim(4)
    states = dict(sql(postgres_url, f"SELECT id, state FROM {ROWS}"))
    assert {states[r] for r in in_flight} == {"unknown"}
    assert await other.counts() == {"sent": 8, "unknown": 2}


async def test_a_live_worker_keeps_its_lease_and_its_rows(
    ledgers: Callable[..., PostgresLedger],
) -> None:
    holder, other = ledgers(lease=0.6), ledgers(lease=0.6)
    await holder.join(rows(4), digest="x", retry_unknown=False)
    await other.join(rows(4), digest="x", retry_unknown=False)
    claimed = await holder.claim(4)
    await holder.mark_in_flight(claimed[0][0])
    await asyncio.sleep(1.5)  # beyond the lease: renewed meanwhile
    assert await other.claim(4) == []
    assert await other.more_to_do(0.01) is True
    holder.record(RowUpdate(claimed[0][0], RowState.SENT, message_id="m"))
    await holder.flush()
    assert holder.fenced == 0


async def test_leaving_gives_back_claims_and_makes_in_flight_rows_unknown(
    ledgers: Callable[..., PostgresLedger],
) -> None:
    leaving, staying = ledgers(), ledgers()
    await leaving.join(rows(6), digest="x", retry_unknown=False)
    await staying.join(rows(6), digest="x", retry_unknown=False)
    claimed = await leaving.claim(6)
    await leaving.mark_in_flight(claimed[0][0])
    await leaving.aclose()  # interrupted with one row in flight
    assert len(await send_all(staying)) == 5
    assert await staying.counts() == {"sent": 5, "unknown": 1}


async def test_failed_and_unknown_rows_wait_for_the_next_generation(
    ledgers: Callable[..., PostgresLedger],
) -> None:
    first = ledgers()
    await first.join(rows(3), digest="x", retry_unknown=True)
    (a, _, _), (b, _, _), (c, _, _) = await first.claim(3)
    for row_id in (a, b, c):
        await first.mark_in_flight(row_id)
    first.record(RowUpdate(a, RowState.FAILED, error_code="500"))
    first.record(RowUpdate(b, RowState.UNKNOWN, error_code="timeout"))
    first.record(RowUpdate(c, RowState.SENT, message_id="m"))
    await first.flush()
    # Not taken again by the generation that decided them, even with retry_unknown.
    assert await first.claim(3) == []
    assert await first.more_to_do(0.01) is False
    await first.aclose()

    plain = ledgers()
    joined = await plain.join(rows(3), digest="x", retry_unknown=False)
    assert joined.to_send == 1
    assert [r[0] for r in await plain.claim(3)] == [a]
    await plain.aclose()

    retrying = ledgers()
    joined = await retrying.join(rows(3), digest="x", retry_unknown=True)
    assert joined.to_send == 2
    assert {r[0] for r in await retrying.claim(3)} == {a, b}


async def test_a_worker_with_another_retry_unknown_setting_is_refused(
    ledgers: Callable[..., PostgresLedger],
) -> None:
    await ledgers().join(rows(3), digest="x", retry_unknown=False)
    with pytest.raises(BatchMismatchError, match="--retry-unknown"):
        await ledgers().join(rows(3), digest="x", retry_unknown=True)


async def test_a_new_input_starts_a_new_generation_once_no_worker_is_live(
    ledgers: Callable[..., PostgresLedger],
) -> None:
    first = ledgers()
    await first.join(rows(4), digest="one", retry_unknown=False)
    await send_all(first)
    await first.aclose()
    # Rows 2..5: one row gone, one new; the batch is now this input.
    second = ledgers()
    joined = await second.join(rows(4, start=1), digest="two", retry_unknown=False)
    assert (joined.started, joined.registered, joined.to_send, joined.sent_before) == (
        True,
        True,
        1,
        3,
    )
    assert await second.counts() == {"sent": 3, "pending": 1}


async def test_a_worker_bringing_new_rows_adds_them_to_the_live_batch(
    ledgers: Callable[..., PostgresLedger],
) -> None:
    first, second = ledgers(), ledgers()
    await first.join(rows(4), digest="one", retry_unknown=False)
    joined = await second.join(rows(6), digest="two", retry_unknown=False)
    assert (joined.started, joined.registered, joined.to_send) == (False, True, 6)
    assert await first.counts() == {"pending": 6}


async def test_status_shows_counts_and_live_workers_without_joining(
    ledgers: Callable[..., PostgresLedger], postgres_url: str
) -> None:
    worker = ledgers()
    await worker.join(rows(5), digest="x", retry_unknown=False)
    await send_all(worker, limit=2)
    reader = BatchConnection(postgres_url, batch="b1")
    try:
        status = await reader.status()
        assert status is not None
        assert status.counts == {"sent": 5}
        assert [(w.id, w.sent) for w in status.workers] == [(worker.worker, 5)]
        assert 0 < status.workers[0].lease_left <= 30
        other = BatchConnection(postgres_url, batch="other")
        assert await other.status() is None
        await other.aclose()
    finally:
        await reader.aclose()


async def test_a_worker_with_another_input_cannot_mix_it_into_a_live_batch(
    ledgers: Callable[..., PostgresLedger],
) -> None:
    first = ledgers()
    await first.join(rows(4), digest="one", retry_unknown=False)
    # An older copy of the file (a part of the batch): nothing to add, welcome.
    older = await ledgers().join(rows(2), digest="older", retry_unknown=False)
    assert older.to_send == 4
    # Another file altogether: refused, and nothing of it written.
    with pytest.raises(BatchMismatchError, match="another input: this one has 3 row"):
        await ledgers().join(rows(3, start=10), digest="other", retry_unknown=False)
    assert await first.counts() == {"pending": 4}


async def test_a_dry_run_changes_nothing(
    ledgers: Callable[..., PostgresLedger], postgres_url: str
) -> None:
    joined = await ledgers().join(rows(4), digest="x", retry_unknown=False, dry_run=True)
    assert joined.to_send == 4
    assert sql(postgres_url, f"SELECT count(*) FROM {ROWS}") == [(0,)]


async def test_an_unreachable_server_is_named_without_its_password() -> None:
    from tests.services import free_port

    url = f"postgresql://someone:s3cret-pw@127.0.0.1:{free_port()}/batches"
    ledger = PostgresLedger(url, batch="b")
    with pytest.raises(BackendUnavailableError) as caught:
        await ledger.connect()
    assert "127.0.0.1" in str(caught.value) and "batches" in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)
    await ledger.aclose()


async def test_results_are_read_page_by_page_in_line_order(
    ledgers: Callable[..., PostgresLedger], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(_postgres_batch, "_OUTCOMES_PAGE", 3)
    worker = ledgers()
    await worker.join(rows(10, bad=(4,)), digest="x", retry_unknown=False)
    await send_all(worker, limit=4)
    path = tmp_path / "results.jsonl"
    await _pg_run._write_results(worker, path)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["line"] for line in lines] == list(range(1, 11))
    assert [line["state"] for line in lines].count("sent") == 9
    assert lines[4] == {
        "line": 5,
        "state": "failed",
        "message_id": None,
        "error_code": "invalid_row",
        "error_detail": "no 'to'",
    }


async def test_an_outcome_written_again_after_a_lost_answer_is_found_not_fenced(
    ledgers: Callable[..., PostgresLedger],
) -> None:
    worker = ledgers()
    await worker.join(rows(1), digest="x", retry_unknown=False)
    ((row_id, _, _),) = await worker.claim(1)
    await worker.mark_in_flight(row_id)
    args = worker._args(
        ids=[row_id], attempts=[1], states=["sent"], message_ids=["m"], codes=[None], details=[None]
    )

    async def twice(db: Any) -> list[list[tuple[str]]]:
        # The same write again, as a retry does when the first commit's answer was lost.
        return [await (await db.execute(RECORD, args)).fetchall() for _ in range(2)]

    assert await worker._once(twice) == [[(row_id,)], [(row_id,)]]
    # But never over another outcome: a late "failed" finds the row decided.
    late = {**args, "states": ["failed"]}

    async def other(db: Any) -> list[tuple[str]]:
        return await (await db.execute(RECORD, late)).fetchall()

    assert await worker._once(other) == []
    assert await worker.counts() == {"sent": 1}
