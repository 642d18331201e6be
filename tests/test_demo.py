"""``telnyx-group-mms demo``: offline, faulty, explained, and checked against the sandbox.

The command runs as a user runs it (a subprocess, no key, no network); its claims are
then checked by the checker itself, whose every check is shown here to be able to fail.
"""

from __future__ import annotations

import os
import re

import pytest

from telnyx_group_mms.bulk import BulkProgress
from telnyx_group_mms.cli._demo_report import DemoTally, check_record
from telnyx_group_mms.models import Message
from telnyx_group_mms.sandbox import RecordedRequest

from .cli_runner import run

COUNT = 60


def number(label: str, stdout: str) -> int:
    """The integer on the summary line ``  <label>   <n>``."""
    found = re.search(rf"^  {label} +(\d+)", stdout, re.MULTILINE)
    assert found is not None, f"no {label!r} line in:\n{stdout}"
    return int(found.group(1))


def test_the_demo_sends_a_batch_through_faults_and_explains_each_offline() -> None:
    # No TELNYX_* variables (the autouse fixture removes them): no key, no network.
    env = dict(os.environ, PYTHONWARNINGS="error")
    done = run(
        "demo", "--count", str(COUNT), "--rate", "500", "--concurrency", "8", "--seed", "1",
        env=env,
    )  # fmt: skip

    assert done.code == 0, done.stdout + done.stderr
    assert done.stderr == ""
    out = done.stdout
    sent, unknown, failed = (number(k, out) for k in ("sent", "unknown outcome", "failed"))
    assert sent + unknown + failed == COUNT
    # The one dropped connection is reported as unknown, not resent.
    assert unknown == 1
    assert number("retried", out) >= 1
    for label in ("latency p50", "latency p99", "throughput"):
        assert re.search(rf"^  {label} +\d+\.\d", out, re.MULTILINE), label
    assert re.search(r"^  503 x \d+: .*retried safely, never double-sent", out, re.MULTILINE)
    assert "  429 x 1 (Retry-After 1 s): all workers paused 1 s, then resumed" in out
    assert "  dropped connection x 1: " in out and "outcome unknown, reported, not resent" in out
    assert f"progress: {COUNT}/{COUNT} done" in out  # plain lines: stdout is not a terminal
    checks = out.split("checked against the sandbox's own record:")[1]
    assert "FAIL" not in checks
    assert len(re.findall(r"^  ok ", checks, re.MULTILINE)) == 5


def test_the_demo_refuses_a_count_of_zero() -> None:
    done = run("demo", "--count", "0")
    assert done.code == 2
    assert "--count" in done.stderr


def test_the_demo_refuses_a_rate_that_is_not_a_number() -> None:
    done = run("demo", "--rate", "nan")
    assert done.code == 2
    assert "Invalid value for '--rate'" in done.stderr
    assert "Traceback" not in done.stderr


# -- the checker: each claim fails when the sandbox's record says otherwise -------------


def arrival(text: str, at: float) -> RecordedRequest:
    body = f'{{"text": "{text}"}}'.encode()
    return RecordedRequest(method="POST", path="/", headers={}, body=body, arrived_at=at)


def consistent_tally() -> DemoTally:
    """Rows a and b sent; c dropped (unknown) after one POST; a 1 s pause at t=10."""
    tally = DemoTally(total=3)
    tally.posts = 3
    tally.progress = BulkProgress(total=3, done=3, sent=2, unknown=1)
    tally.sent_ids = {"id-a", "id-b"}
    tally.unknown = {"c": 1}
    tally.pause = (10.0, 1.0)
    tally.seen(
        requests=[arrival("a", 9.9), arrival("c", 10.0), arrival("b", 11.0)],
        messages=[Message(id="id-a", text="a"), Message(id="id-b", text="b")],
    )
    return tally


def failing(tally: DemoTally) -> list[str]:
    return [check.text for check in check_record(tally) if not check.holds]


def test_a_run_the_record_bears_out_passes_every_check() -> None:
    checks = check_record(consistent_tally())
    assert len(checks) == 5
    assert all(check.holds for check in checks)


def test_a_post_the_sandbox_never_saw_fails_the_check() -> None:
    tally = consistent_tally()
    tally.posts = 4
    assert failing(tally) == ["the SDK made 4 POSTs; the sandbox received 3"]


def test_a_message_accepted_twice_fails_the_checks() -> None:
    tally = consistent_tally()
    tally.seen(requests=tally.requests, messages=[*tally.messages, Message(id="x", text="a")])
    failed = failing(tally)
    assert any("accepted 3 messages" in text for text in failed)
    assert any("accepted twice" in text for text in failed)


def test_a_sent_message_the_sandbox_has_no_record_of_fails_the_check() -> None:
    tally = consistent_tally()
    tally.sent_ids = {"id-a", "id-elsewhere"}
    assert len(failing(tally)) == 1


def test_an_unknown_outcome_posted_again_fails_the_check() -> None:
    tally = consistent_tally()
    tally.seen(requests=[*tally.requests, arrival("c", 11.5)], messages=tally.messages)
    tally.posts = 4
    assert failing(tally) == [
        "the 1 row(s) of unknown outcome were not POSTed again after it: reported, not resent"
    ]


@pytest.mark.parametrize("during", [10.3, 10.8])
def test_a_request_during_the_429_pause_fails_the_check(during: float) -> None:
    tally = consistent_tally()
    tally.seen(requests=[*tally.requests, arrival("d", during)], messages=tally.messages)
    tally.posts = 4
    [failed] = failing(tally)
    assert failed.startswith("during the 1 s pause no request reached the sandbox (quiet 0.")
