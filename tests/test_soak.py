"""Soak under faults: 20,000 sends against a sandbox in another process, nothing doubled or leaked.

The sandbox (``python -m telnyx_group_mms sandbox``) serves seeded random faults on 10% of
all POSTs: 429 with Retry-After, 503, 500, 502, 504, delays past the client's timeout,
dropped connections and malformed answers. Its own record, read over ``/_sandbox/``, is
checked against the results by :func:`tests.soak_support.problems`; the checker itself is
tested on made-up runs below, so a clean soak means something.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pytest

import telnyx_group_mms as tgm

from .soak_support import (
    FAULT_RATES,
    FROM,
    KEY,
    RETRY,
    TIMEOUT,
    TO,
    Footprint,
    Record,
    Row,
    SandboxProcess,
    SoakRun,
    problems,
    running_sandbox,
    soak_async,
    soak_sync,
    summary,
)

N = 20_000
# The soak counts open files and reads its RSS in /proc (Linux).
needs_proc = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")


@pytest.fixture
def sandbox() -> Iterator[SandboxProcess]:
    with running_sandbox(seed=N, history=2 * N) as box:
        yield box


def _report(run: SoakRun, record: Record) -> list[str]:
    print(json.dumps(summary(run, record)))  # shown with -s: the soak's numbers
    assert set(record.stats["faults"]) == set(FAULT_RATES), "every kind of fault was served"
    return problems(run, record)


@pytest.mark.slow
@needs_proc
def test_20000_async_sends_under_faults_keep_every_invariant(sandbox: SandboxProcess) -> None:
    run = asyncio.run(soak_async(sandbox.base_url, N))

    assert _report(run, Record.read(sandbox)) == []


@pytest.mark.slow
@needs_proc
def test_20000_sync_sends_from_8_threads_on_one_client_keep_every_invariant(
    sandbox: SandboxProcess,
) -> None:
    run = soak_sync(sandbox.base_url, N, threads=8)

    assert _report(run, Record.read(sandbox)) == []


@pytest.mark.slow
@needs_proc
def test_the_soak_catches_double_sends_when_unknown_outcomes_are_retried() -> None:
    # The opt-in that Telnyx's lack of an idempotency key makes dangerous: prove the
    # soak would see what it does.
    box = SandboxProcess(seed=1, history=4000)
    try:
        reckless = attrs.evolve(RETRY, retry_unknown_outcome=True)
        run = asyncio.run(soak_async(box.base_url, 2000, retry=reckless))
        found = problems(run, Record.read(box))
    finally:
        box.close()

    assert any("accepted twice" in p for p in found), found


STATES = ("sent", "failed", "unknown")


async def _bulk(
    base_url: str, path: Path, results: Path, retry: tgm.RetryPolicy
) -> tgm.BulkSummary:
    async with tgm.AsyncTelnyx(
        api_key=KEY, base_url=base_url, timeout=TIMEOUT, retry=retry, max_connections=32
    ) as client:
        # No rate limit (run_bulk's default is Telnyx's 15/s): the faults are the point.
        return await tgm.run_bulk(
            path, client=client, results_path=results, concurrency=32, rate=None
        )


def _states(results: Path) -> dict[str, tuple[str, str | None]]:
    """Each row's text -> (state, message id), from a results file (line n is row n - 2)."""
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    return {f"bulk {r['line'] - 2}": (r["state"], r["message_id"]) for r in rows}


@pytest.mark.slow
def test_a_bulk_file_under_faults_run_twice_sends_each_row_at_most_once(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    n = 3000
    path = tmp_path / "batch.csv"
    path.write_text(
        "from,to,text\n" + "".join(f"{FROM},{';'.join(TO)},bulk {i}\n" for i in range(n))
    )

    # No retries in the first run, so that its 503s leave rows failed for the second.
    once = attrs.evolve(RETRY, max_attempts=1)
    first = asyncio.run(_bulk(sandbox.base_url, path, tmp_path / "first.jsonl", once))
    after_first = Record.read(sandbox)
    second = asyncio.run(_bulk(sandbox.base_url, path, tmp_path / "second.jsonl", RETRY))
    after_second = Record.read(sandbox)

    one, two = _states(tmp_path / "first.jsonl"), _states(tmp_path / "second.jsonl")
    counts = {name: Counter(s for s, _ in run.values()) for name, run in (("1", one), ("2", two))}
    print(json.dumps({**counts, "faults": after_second.stats["faults"]}))  # the numbers, with -s
    in_first = {state: {t for t, (s, _) in one.items() if s == state} for state in STATES}
    assert len(one) == len(two) == n
    assert {s for s, _ in [*one.values(), *two.values()]} <= set(STATES)
    assert first.failed and first.unknown, "the faults reached the ledger"
    # Never twice, across both runs; each accepted message a success or an unknown.
    assert len(after_second.accepted) == len(set(after_second.accepted))
    for states, record in ((one, after_first), (two, after_second)):
        sent = {t: mid for t, (s, mid) in states.items() if s == "sent"}
        unknown = {t for t, (s, _) in states.items() if s == "unknown"}
        assert all(record.ids.get(t) == mid for t, mid in sent.items())
        assert set(record.accepted) - sent.keys() <= unknown
    # The second run sent only rows the first one failed: never a sent or unknown row.
    resent = after_second.accepted[len(after_first.accepted) :]
    assert resent
    assert set(resent) <= in_first["failed"]
    assert all(two[t][0] == "sent" for t in in_first["sent"])
    assert all(two[t][0] == "unknown" for t in in_first["unknown"])
    assert second.sent_before == first.sent


# -- the checker, on made-up runs ----------------------------------------------------------


def _failed(index: int, error: str, *, unknown: bool, attempts: int = 1) -> Row:
    return Row(index=index, message_id=None, error=error, unknown=unknown, attempts=attempts)


def _clean() -> tuple[SoakRun, Record]:
    """Four sends: a success, a malformed answer (went out), a 500, a 503 given up on."""
    footprint = Footprint(fds=10, threads=2, tasks=1)
    run = SoakRun(
        label="async",
        n=4,
        rows=[
            Row(index=0, message_id="m0", error=None, unknown=False, attempts=1),
            _failed(1, "APIResponseValidationError", unknown=True),
            _failed(2, "InternalServerError 500", unknown=True),
            _failed(3, "InternalServerError 503", unknown=False, attempts=3),
        ],
        rss_quarter_kib=50_000,
        rss_end_kib=50_100,
        before=footprint,
        after=dataclasses.replace(footprint),
    )
    record = Record(
        stats={
            "requests": 6,
            "accepted": 2,
            "in_flight": 0,
            "faults": {"malformed": 1, "500": 1, "503": 3},
        },
        accepted=["async 0", "async 1"],
        ids={"async 0": "m0", "async 1": "m1"},
    )
    return run, record


def test_the_checker_passes_a_run_that_kept_every_invariant() -> None:
    assert problems(*_clean()) == []


def _double(record: Record) -> None:
    record.accepted.append("async 0")
    record.stats["accepted"] += 1
    record.stats["requests"] += 1


@pytest.mark.parametrize(
    ("spoil", "complaint"),
    [
        (lambda run, record: run.rows.pop(), "results for 4 inputs"),
        (lambda run, record: _double(record), "accepted twice"),
        (lambda run, record: record.stats.update(requests=7), "the sandbox saw 7"),
        (lambda run, record: record.ids.update({"async 0": "other"}), "another id"),
        (lambda run, record: record.accepted.append("async 2"), "accepted without success"),
        (
            lambda run, record: run.rows.__setitem__(
                1, dataclasses.replace(run.rows[1], unknown=False)
            ),
            "reported failed, not unknown",
        ),
        (
            lambda run, record: run.rows.__setitem__(
                3, dataclasses.replace(run.rows[3], unknown=True)
            ),
            "outcome_unknown is wrong",
        ),
        (lambda run, record: record.stats["faults"].update(drop=1), "1 drop faults"),
        (lambda run, record: setattr(run, "rss_end_kib", 80_000), "RSS grew"),
        (lambda run, record: setattr(run, "after", Footprint(11, 2, 1)), "after closing"),
        (lambda run, record: setattr(run, "after", Footprint(10, 2, 2)), "after closing"),
        (lambda run, record: setattr(run, "leftover_tasks", 1), "task(s) left"),
        (lambda run, record: run.warnings.append("ResourceWarning: x"), "1 warnings"),
        (lambda run, record: run.asyncio_errors.append("Task was destroyed"), "asyncio errors"),
        (lambda run, record: run.leaky_logs.append("+13125551234"), "log lines"),
    ],
)
def test_the_checker_names_each_broken_invariant(
    spoil: Callable[[SoakRun, Record], object], complaint: str
) -> None:
    run, record = _clean()

    spoil(run, record)

    assert any(complaint in p for p in problems(run, record)), problems(run, record)


def test_the_soak_policy_is_the_default_one_but_faster() -> None:
    # The soak proves the default policy: only its waits are shortened.
    default = tgm.RetryPolicy()
    assert attrs.evolve(RETRY, initial_backoff=0.5, max_backoff=8.0) == default
