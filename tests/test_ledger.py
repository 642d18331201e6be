"""The bulk ledger: row identity, the state machine, crash leftovers, locking, group commit."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.bulk.ledger._group_commit import AsyncLedger
from telnyx_group_mms.bulk.ledger._sqlite import (
    Ledger,
    LedgerError,
    RowNumbering,
    RowState,
    RowUpdate,
    request_digest,
)

from .conftest import FROM, TO

Row = tuple[str, int, str | None, str | None]


def rows(*ids: str) -> Iterator[Row]:
    for line, row_id in enumerate(ids, start=2):
        yield row_id, line, f'{{"text": "{row_id}"}}', None


def state_of(path: Path, row_id: str) -> tuple[str, int]:
    """Read as another process would: only what is committed."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        found = db.execute("SELECT state, attempts FROM rows WHERE id = ?", (row_id,)).fetchone()
    assert found is not None
    return found[0], found[1]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "batch.ledger.sqlite"


def test_a_row_is_identified_by_what_its_recipients_would_receive() -> None:
    base = tgm.GroupMmsRequest(from_=FROM, to=TO, text="hi")
    same = {
        "recipients in another order": tgm.GroupMmsRequest(from_=FROM, to=TO[::-1], text="hi"),
        "another webhook": tgm.GroupMmsRequest(
            from_=FROM, to=TO, text="hi", webhook_url="https://hooks.example/x"
        ),
    }
    different = {
        "text": tgm.GroupMmsRequest(from_=FROM, to=TO, text="hi!"),
        "subject": tgm.GroupMmsRequest(from_=FROM, to=TO, text="hi", subject="s"),
        "recipients": tgm.GroupMmsRequest(from_=FROM, to=TO[:1], text="hi"),
        "sender": tgm.GroupMmsRequest(from_="+13125550000", to=TO, text="hi"),
        "media": tgm.GroupMmsRequest(
            from_=FROM, to=TO, text="hi", media_urls=["https://a.example/1.png"]
        ),
    }
    for why, request in same.items():
        assert request_digest(request) == request_digest(base), why
    for why, request in different.items():
        assert request_digest(request) != request_digest(base), why


def test_identical_rows_are_numbered_by_occurrence() -> None:
    numbering = RowNumbering()
    assert [numbering.id_for(d) for d in ("a", "b", "a", "a")] == ["a:1", "b:1", "a:2", "a:3"]


def test_rows_move_from_pending_to_in_flight_to_sent(path: Path) -> None:
    ledger = Ledger(path)
    ledger.register(rows("r1", "r2"))
    assert ledger.counts() == {"pending": 2}
    ledger.apply([RowUpdate("r1", RowState.IN_FLIGHT)])
    assert state_of(path, "r1") == ("in_flight", 1)
    ledger.apply([RowUpdate("r1", RowState.SENT, message_id="m-1")])
    assert ledger.counts() == {"pending": 1, "sent": 1}
    assert next(iter(ledger.outcomes())) == (2, "sent", "m-1", None, None)
    ledger.close()


def test_rows_left_in_flight_by_a_crash_become_unknown(path: Path) -> None:
    ledger = Ledger(path)
    ledger.register(rows("r1", "r2"))
    ledger.apply([RowUpdate("r1", RowState.IN_FLIGHT)])
    ledger.close()  # the outcome never arrives: as after a SIGKILL

    again = Ledger(path)
    assert again.run == ledger.run + 1
    assert state_of(path, "r1") == ("unknown", 1)
    assert state_of(path, "r2") == ("pending", 0)
    again.close()


def test_sendable_rows_are_pending_or_failed_and_unknown_only_on_request(path: Path) -> None:
    ledger = Ledger(path)
    ledger.register(rows("pending", "failed", "unknown", "sent"))
    ledger.register(iter([("bad", 9, None, "not a row")]))
    ledger.apply(
        [
            RowUpdate("failed", RowState.FAILED, error_code="40300"),
            RowUpdate("unknown", RowState.UNKNOWN, error_code="APITimeoutError"),
            RowUpdate("sent", RowState.SENT, message_id="m"),
        ]
    )
    ids = [r[0] for r in ledger.sendable(after_line=0, limit=100, retry_unknown=False)]
    assert ids == ["pending", "failed"]
    ids = [r[0] for r in ledger.sendable(after_line=0, limit=100, retry_unknown=True)]
    assert ids == ["pending", "failed", "unknown"]
    assert [r[0] for r in ledger.sendable(after_line=2, limit=1, retry_unknown=True)] == ["failed"]
    assert ledger.counts() == {"pending": 1, "failed": 1, "unknown": 1, "sent": 1, "bad": 1}
    ledger.close()


def test_only_rows_of_the_current_input_are_sent(path: Path) -> None:
    first = Ledger(path)
    first.register(rows("kept", "edited away"))
    first.close()
    second = Ledger(path)
    second.register(rows("kept", "new"))
    assert [r[0] for r in second.sendable(after_line=0, limit=10, retry_unknown=True)] == [
        "kept",
        "new",
    ]
    second.close()


def test_a_second_run_on_the_same_ledger_is_refused_while_the_first_holds_it(path: Path) -> None:
    first = Ledger(path)
    with pytest.raises(LedgerError, match="in use by another run"):
        Ledger(path)
    first.close()
    Ledger(path).close()


def test_a_dry_run_changes_nothing(path: Path) -> None:
    ledger = Ledger(path)
    ledger.register(rows("r1"))
    ledger.apply([RowUpdate("r1", RowState.IN_FLIGHT)])
    ledger.close()

    dry = Ledger(path, dry_run=True)
    dry.register(rows("r1", "r2"))
    assert dry.counts() == {"unknown": 1, "pending": 1}
    dry.close()
    # Neither the new row, nor the unknown mark, nor the run number were kept.
    assert state_of(path, "r1") == ("in_flight", 1)
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT count(*) FROM rows").fetchone() == (1,)
    real = Ledger(path)
    assert real.run == 2
    real.close()


def test_the_ledger_file_is_private_to_its_owner(path: Path) -> None:
    Ledger(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_file_that_is_not_a_ledger_is_refused(path: Path) -> None:
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LedgerError, match="not a usable ledger"):
        Ledger(path)


async def test_in_flight_marks_are_durable_before_they_return_and_grouped(path: Path) -> None:
    ledger = await AsyncLedger.open(path)
    await ledger.call(lambda store: store.register(rows(*(f"r{n}" for n in range(50)))))
    commits = 0
    apply = ledger.ledger.apply

    def counting_apply(updates: list[RowUpdate | None]) -> None:
        nonlocal commits
        commits += 1
        apply(updates)

    ledger.ledger.apply = counting_apply  # type: ignore[method-assign]
    await asyncio.gather(*(ledger.mark_in_flight(f"r{n}") for n in range(50)))
    # Committed (another connection sees it) and in far fewer transactions than rows.
    assert all(state_of(path, f"r{n}") == ("in_flight", 1) for n in range(50))
    assert commits <= 2
    ledger.record(RowUpdate("r0", RowState.SENT, message_id="m-0"))
    await ledger.flush()
    assert state_of(path, "r0") == ("sent", 1)
    await ledger.aclose()


async def test_outcomes_queued_at_close_are_committed(path: Path) -> None:
    ledger = await AsyncLedger.open(path)
    await ledger.call(lambda store: store.register(rows("r1")))
    await ledger.mark_in_flight("r1")
    ledger.record(RowUpdate("r1", RowState.FAILED, error_code="40300", error_detail="STOP"))
    await ledger.aclose()
    assert state_of(path, "r1") == ("failed", 1)


async def test_a_ledger_that_cannot_be_written_stops_the_senders(path: Path) -> None:
    ledger = await AsyncLedger.open(path)

    def broken(updates: list[RowUpdate | None]) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    ledger.ledger.apply = broken  # type: ignore[method-assign]
    with pytest.raises(LedgerError, match="disk I/O error"):
        await ledger.mark_in_flight("r1")
    with pytest.raises(LedgerError, match="cannot be written"):
        await ledger.aclose()
