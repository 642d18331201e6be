"""run_bulk: every row accounted for, and re-runs that send only what is not sent yet."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.bulk import default_ledger_path
from telnyx_group_mms.bulk.ledger._sqlite import Ledger, RowState, RowUpdate
from telnyx_group_mms.sandbox import Fault, Sandbox

from .conftest import FROM, KEY, TO
from .fanout_support import posts_per_text
from .scripted_server import ScriptedServer

pytestmark = pytest.mark.usefixtures("no_asyncio_errors")

HEADER = "from,to,text\n"


def csv_rows(*texts: str) -> str:
    return HEADER + "".join(f"{FROM},{';'.join(TO)},{text}\n" for text in texts)


def write(path: Path, text: str) -> Path:
    """Files are small: writing them from a test coroutine blocks nothing that matters."""
    path.write_text(text)
    return path


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines()


async def bulk(server: Sandbox | ScriptedServer, path: Path, **options: object) -> tgm.BulkSummary:
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=server.base_url) as client:
        return await tgm.run_bulk(path, client=client, **options)  # type: ignore[arg-type]


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    path = tmp_path / "parents.csv"
    return write(path, csv_rows(*(f"row {n}" for n in range(20))))


async def test_a_run_sends_every_row_and_a_second_run_sends_nothing(
    telnyx_sandbox: Sandbox, batch: Path
) -> None:
    first = await bulk(telnyx_sandbox, batch, concurrency=4)
    assert (first.rows, first.sent, first.sent_before, first.exit_code) == (20, 20, 0, 0)
    assert default_ledger_path(batch).exists()
    second = await bulk(telnyx_sandbox, batch, concurrency=4)
    assert (second.rows, second.sent, second.sent_before, second.to_send) == (20, 20, 20, 0)
    assert telnyx_sandbox.request_count == 20
    assert all(posts_per_text(telnyx_sandbox)[f"row {n}"] == 1 for n in range(20))


async def test_failed_rows_are_resent_and_unknown_ones_only_on_request(
    telnyx_sandbox: Sandbox, batch: Path
) -> None:
    # concurrency=1 makes the order of POSTs the order of rows.
    telnyx_sandbox.faults.script(Fault.status(409), Fault.status(500))
    first = await bulk(telnyx_sandbox, batch, concurrency=1)
    assert (first.sent, first.failed, first.unknown, first.exit_code) == (18, 1, 1, 3)

    second = await bulk(telnyx_sandbox, batch, concurrency=1)
    assert (second.sent, second.failed, second.unknown, second.to_send) == (19, 0, 1, 1)
    assert posts_per_text(telnyx_sandbox)["row 0"] == 2
    assert posts_per_text(telnyx_sandbox)["row 1"] == 1

    third = await bulk(telnyx_sandbox, batch, concurrency=1, retry_unknown=True)
    assert (third.sent, third.unknown, third.exit_code) == (20, 0, 0)
    assert posts_per_text(telnyx_sandbox)["row 1"] == 2


async def test_rows_left_in_flight_by_a_crash_are_not_resent_without_retry_unknown(
    telnyx_sandbox: Sandbox, batch: Path
) -> None:
    await bulk(telnyx_sandbox, batch, dry_run=False, concurrency=4)
    with contextlib.closing(sqlite3.connect(default_ledger_path(batch))) as db:
        (row_id,) = db.execute("SELECT id FROM rows WHERE line = 5").fetchone()
    # As if a run had committed the row in flight and died before its outcome.
    ledger = Ledger(default_ledger_path(batch))
    ledger.apply([RowUpdate(row_id, RowState.IN_FLIGHT)])
    ledger.close()

    after_crash = await bulk(telnyx_sandbox, batch)
    assert (after_crash.unknown, after_crash.sent, after_crash.exit_code) == (1, 19, 3)
    assert posts_per_text(telnyx_sandbox)["row 3"] == 1
    resumed = await bulk(telnyx_sandbox, batch, retry_unknown=True)
    assert (resumed.unknown, resumed.sent) == (0, 20)
    assert posts_per_text(telnyx_sandbox)["row 3"] == 2


async def test_editing_and_appending_rows_sends_only_what_is_new(
    telnyx_sandbox: Sandbox, batch: Path
) -> None:
    await bulk(telnyx_sandbox, batch)
    texts = [f"row {n}" for n in range(20)]
    texts[7] = "row 7 corrected"
    write(batch, csv_rows(*texts, "row 20", "row 21"))
    summary = await bulk(telnyx_sandbox, batch)
    assert (summary.rows, summary.sent, summary.sent_before) == (22, 22, 19)
    assert telnyx_sandbox.request_count == 23
    assert posts_per_text(telnyx_sandbox)["row 7 corrected"] == 1


async def test_identical_rows_are_each_sent_once_and_an_added_copy_once_more(
    telnyx_sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "same.csv"
    write(path, csv_rows("same", "same", "same"))
    assert (await bulk(telnyx_sandbox, path)).sent == 3
    assert (await bulk(telnyx_sandbox, path)).to_send == 0
    write(path, csv_rows("same", "same", "same", "same"))
    assert (await bulk(telnyx_sandbox, path)).to_send == 1
    assert posts_per_text(telnyx_sandbox)["same"] == 4


async def test_reordered_recipients_and_new_webhooks_do_not_resend(
    telnyx_sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "rows.jsonl"
    write(path, json.dumps({"from": FROM, "to": TO, "text": "hi"}) + "\n")
    await bulk(telnyx_sandbox, path)
    write(
        path,
        json.dumps(
            {"from": FROM, "to": TO[::-1], "text": "hi", "webhook_url": "https://h.example/"}
        )
        + "\n",
    )
    assert (await bulk(telnyx_sandbox, path)).to_send == 0
    assert telnyx_sandbox.request_count == 1


async def test_bad_rows_are_recorded_as_failed_with_their_line_and_reason(
    telnyx_sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "rows.csv"
    write(path, HEADER + f"{FROM},{TO[0]},good\n{FROM},nobody,bad\n{FROM},{TO[0]},also good\n")
    results = tmp_path / "results.jsonl"
    summary = await bulk(telnyx_sandbox, path, results_path=results)
    assert (summary.rows, summary.sent, summary.bad, summary.exit_code) == (3, 2, 1, 1)
    lines = [json.loads(line) for line in lines_of(results)]
    assert [(r["line"], r["state"]) for r in lines] == [(2, "sent"), (3, "failed"), (4, "sent")]
    assert set(lines[0]) == {"line", "state", "message_id", "error_code", "error_detail"}
    assert lines[0]["message_id"]
    assert lines[1]["error_code"] == "invalid_row"
    assert "'nobody' is neither" in lines[1]["error_detail"]
    assert telnyx_sandbox.request_count == 2


async def test_each_row_is_committed_in_flight_before_its_request_arrives(
    server: ScriptedServer, batch: Path
) -> None:
    states: list[str] = []

    def look_at_the_ledger(seen: object) -> None:
        # Runs in the server, on arrival: what would survive a crash right now?
        with contextlib.closing(sqlite3.connect(default_ledger_path(batch))) as db:
            body = seen.body.decode()  # type: ignore[attr-defined]
            (state,) = db.execute("SELECT state FROM rows WHERE body = ?", (body,)).fetchone()
        states.append(state)

    server.on_request = look_at_the_ledger
    summary = await bulk(server, batch, concurrency=4)
    assert summary.sent == 20
    assert states == ["in_flight"] * 20


async def test_a_dry_run_sends_nothing_needs_no_key_and_creates_no_ledger(
    telnyx_sandbox: Sandbox, batch: Path, tmp_path: Path
) -> None:
    results = tmp_path / "results.jsonl"
    summary = await tgm.run_bulk(batch, dry_run=True, results_path=results)
    assert (summary.dry_run, summary.to_send, summary.pending, summary.exit_code) == (
        True,
        20,
        20,
        0,
    )
    assert not default_ledger_path(batch).exists()
    assert len(lines_of(results)) == 20
    await bulk(telnyx_sandbox, batch)
    again = await tgm.run_bulk(batch, dry_run=True)
    assert (again.to_send, again.sent) == (0, 20)
    assert telnyx_sandbox.request_count == 20


async def test_a_missing_key_is_refused_before_the_ledger_is_touched(batch: Path) -> None:
    with pytest.raises(tgm.TelnyxError, match="no API key"):
        await tgm.run_bulk(batch)
    assert not default_ledger_path(batch).exists()
