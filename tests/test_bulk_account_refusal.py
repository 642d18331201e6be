"""bulk stops at a refusal of the account or key: the rows not sent stay as they were."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.sandbox import Fault, Sandbox

from .cli_runner import run
from .conftest import FROM, TO

pytestmark = pytest.mark.usefixtures("no_asyncio_errors")

RIGHT = "KEY_right_0123456789"
WRONG = "KEY_wrong_0123456789"


def write_batch(path: Path, rows: int) -> Path:
    path.write_text(
        "from,to,text\n" + "".join(f"{FROM},{';'.join(TO)},row {n}\n" for n in range(rows))
    )
    return path


def states_of(results: Path) -> list[tuple[str, str | None]]:
    """Each row's (state, error_code), in line order."""
    records = [json.loads(line) for line in results.read_text().splitlines()]
    return [(r["state"], r["error_code"]) for r in records]


@pytest.fixture
def sandbox(telnyx_sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    """A sandbox that accepts only RIGHT."""
    return telnyx_sandbox_factory(api_key=RIGHT)


async def bulk(sandbox: Sandbox, path: Path, key: str, **options: object) -> tgm.BulkSummary:
    async with tgm.AsyncTelnyx(api_key=key, base_url=sandbox.base_url) as client:
        return await tgm.run_bulk(path, client=client, rate=None, **options)  # type: ignore[arg-type]


async def test_a_wrong_key_stops_the_run_and_leaves_the_rows_not_sent_pending(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    path = write_batch(tmp_path / "in.csv", 40)
    results = tmp_path / "results.jsonl"

    summary = await bulk(sandbox, path, WRONG, concurrency=4, results_path=results)

    assert summary.stopped is not None
    assert "refused the account or API key" in summary.stopped
    assert "401 (code 10009)" in summary.stopped
    assert 1 <= summary.failed <= 4
    assert summary.sent == summary.unknown == 0
    assert summary.pending == 40 - summary.failed
    assert summary.exit_code == 1
    assert sandbox.request_count == summary.failed
    # Never in flight, never unknown: the next run sends them as if never tried.
    assert Counter(state for state, _ in states_of(results)) == {
        "failed": summary.failed,
        "pending": summary.pending,
    }

    again = await bulk(sandbox, path, RIGHT, concurrency=4)
    assert (again.sent, again.failed, again.pending, again.stopped) == (40, 0, 0, None)
    assert sandbox.request_count == summary.failed + 40


async def test_rows_that_failed_before_keep_their_earlier_outcome_when_a_run_stops(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    path = write_batch(tmp_path / "in.csv", 5)
    results = tmp_path / "results.jsonl"
    sandbox.faults.script(Fault.status(409), Fault.status(409))
    first = await bulk(sandbox, path, RIGHT, concurrency=1)
    assert (first.sent, first.failed) == (3, 2)

    # One at a time: the first failed row meets the refusal; the second is not sent.
    second = await bulk(sandbox, path, WRONG, concurrency=1, results_path=results)

    assert second.stopped is not None
    assert states_of(results)[:2] == [("failed", "10009"), ("failed", "40300")]
    assert sandbox.request_count == 5 + 1


async def test_without_stop_on_account_error_every_row_is_sent_into_the_refusal(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    path = write_batch(tmp_path / "in.csv", 12)

    summary = await bulk(sandbox, path, WRONG, concurrency=4, stop_on_account_error=False)

    assert (summary.failed, summary.pending, summary.stopped) == (12, 0, None)
    assert sandbox.request_count == 12


def test_the_command_stops_names_the_cause_and_exits_1(sandbox: Sandbox, tmp_path: Path) -> None:
    path = write_batch(tmp_path / "in.csv", 40)
    results = tmp_path / "results.jsonl"
    env = {**os.environ, "TELNYX_API_KEY": WRONG, "TELNYX_BASE_URL": sandbox.base_url}

    done = run("bulk", str(path), "--concurrency", "4", "--results", str(results), env=env)

    assert done.code == 1, done.stderr
    assert "Traceback" not in done.stderr
    (stopped,) = [line for line in done.stdout.splitlines() if line.startswith("stopped:")]
    assert "Telnyx refused the account or API key: Telnyx answered 401 (code 10009)" in stopped
    states = Counter(state for state, _ in states_of(results))
    assert set(states) == {"failed", "pending"}
    assert f"the {states['pending']} row(s) not sent are left as they were" in stopped
    assert sandbox.request_count == states["failed"] <= 4


def test_the_command_keeps_going_with_no_stop_on_account_error(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    path = write_batch(tmp_path / "in.csv", 6)
    env = {**os.environ, "TELNYX_API_KEY": WRONG, "TELNYX_BASE_URL": sandbox.base_url}

    done = run("bulk", str(path), "--no-stop-on-account-error", env=env)

    assert done.code == 1, done.stderr
    assert "stopped:" not in done.stdout
    assert sandbox.request_count == 6
