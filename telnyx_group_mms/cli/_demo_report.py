"""The demo's bookkeeping and summary: what the SDK did, and the sandbox's record checked."""

from __future__ import annotations

import statistics
from collections import Counter

import attrs
import click

from ..bulk._runner import BulkProgress
from ..errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    TelnyxError,
)
from ..fanout._engine import SendResult
from ..limits._buckets import DEFAULT_PAUSE
from ..models import Message
from ..sandbox import RecordedRequest

__all__ = ["Check", "DemoTally", "check_record", "fault_kind", "print_report"]

# A pause counts as seen in the sandbox's record when no request arrived for at least
# this share of it (requests already on the wire when the 429 came may land just after).
_QUIET_SHARE = 0.9
# The kinds of fault the demo injects, in the order it explains them.
_INJECTED = ("503", "429", "dropped")


def fault_kind(error: TelnyxError) -> str:
    """A short name for the fault behind a failed attempt: ``503``, ``429``, ``dropped``..."""
    if isinstance(error, APIStatusError):
        return str(error.status_code)
    if isinstance(error, APIResponseValidationError):
        return "malformed"
    if isinstance(error, APITimeoutError):
        return "timeout"
    if isinstance(error, APIConnectionError):
        return "dropped" if error.outcome_unknown else "unreachable"
    return type(error).__name__


class DemoTally:
    """Counts of a demo run, fed by the retry hook and the results, then the sandbox."""

    def __init__(self, *, total: int) -> None:
        self.progress = BulkProgress(total=total)
        self.met: Counter[str] = Counter()
        """Faults met, by kind: each retried attempt and each row's final failure."""
        self.ended_on: Counter[str] = Counter()
        """Rows whose last attempt met the fault, by kind."""
        self.retries = 0
        self.retried_rows = 0
        self.posts = 0
        self.latencies: list[float] = []
        self.sent_ids: set[str | None] = set()
        self.unknown: dict[str | None, int] = {}
        """Text -> POSTs made, of each row whose outcome is unknown."""
        self.pause: tuple[float, float] | None = None
        """(monotonic time, seconds) of the first 429 pause."""
        self.requests: list[RecordedRequest] = []
        self.messages: list[Message] = []

    def retried(self, kind: str, cause: TelnyxError, *, at: float) -> None:
        """Count one retry, caused by a fault of ``kind``."""
        self.retries += 1
        self.met[kind] += 1
        if kind == "429" and self.pause is None:
            wait = getattr(cause, "retry_after", None)
            self.pause = (at, DEFAULT_PAUSE if wait is None else float(wait))

    def record(self, result: SendResult, *, elapsed: float) -> None:
        """Count one row's outcome; ``elapsed`` is the time since the batch started."""
        self.posts += result.attempts
        self.retried_rows += result.attempts > 1
        if result.attempts:
            self.latencies.append(result.elapsed)
        state = self.progress
        sent, failed, unknown = state.sent, state.failed, state.unknown
        if result.message is not None:
            sent += 1
            self.sent_ids.add(result.message.id)
        else:
            assert result.error is not None
            kind = fault_kind(result.error)
            self.met[kind] += 1
            self.ended_on[kind] += 1
            if result.outcome_unknown:
                unknown += 1
                self.unknown[result.request.text] = result.attempts
            else:
                failed += 1
        self.progress = attrs.evolve(
            state,
            done=state.done + 1,
            sent=sent,
            failed=failed,
            unknown=unknown,
            elapsed=elapsed,
        )

    def seen(self, *, requests: list[RecordedRequest], messages: list[Message]) -> None:
        """Keep the sandbox's record of what it received and accepted."""
        self.requests = requests
        self.messages = messages


@attrs.frozen(kw_only=True)
class Check:
    """One claim of the summary, held against the sandbox's record."""

    holds: bool
    text: str


def _quiet_spell(arrivals: list[float], pause: tuple[float, float]) -> float | None:
    """Seconds without an arrival around the pause (``None``: nothing came after it)."""
    start, seconds = pause
    after = [t for t in arrivals if t >= start + seconds / 2]
    if not after:
        return None
    resumed = min(after)
    before = [t for t in arrivals if t < resumed]
    return resumed - max(before) if before else None


def check_record(tally: DemoTally) -> list[Check]:
    """The summary's claims, each checked against what the sandbox received and accepted."""
    posts_per_text = Counter(r.json().get("text") for r in tally.requests)
    accepted = Counter(m.text for m in tally.messages)
    sent = tally.progress.sent
    accepted_unknown = sum(1 for text in tally.unknown if accepted[text])
    checks = [
        Check(
            holds=tally.posts == len(tally.requests),
            text=f"the SDK made {tally.posts} POSTs; the sandbox received {len(tally.requests)}",
        ),
        Check(
            holds=len(tally.messages) == sent + accepted_unknown
            and tally.sent_ids <= {m.id for m in tally.messages},
            text=f"the sandbox accepted {len(tally.messages)} messages = {sent} sent + "
            f"{accepted_unknown} of unknown outcome; every sent message id is among them",
        ),
        Check(
            holds=max(accepted.values(), default=0) <= 1,
            text="no message was accepted twice (each row's text at most once)",
        ),
    ]
    if tally.unknown:
        # The attempt of unknown outcome is each such row's last: the sandbox saw no
        # POST of it beyond those the SDK reported.
        last = all(posts_per_text[text] == posts for text, posts in tally.unknown.items())
        checks.append(
            Check(
                holds=last,
                text=f"the {len(tally.unknown)} row(s) of unknown outcome were not POSTed "
                "again after it: reported, not resent",
            )
        )
    if tally.pause is not None:
        seconds = tally.pause[1]
        quiet = _quiet_spell(sorted(r.arrived_at for r in tally.requests), tally.pause)
        checks.append(
            Check(
                holds=quiet is None or quiet >= _QUIET_SHARE * seconds,
                text=f"during the {seconds:g} s pause no request reached the sandbox "
                + ("(nothing was sent after it)" if quiet is None else f"(quiet {quiet:.2f} s)"),
            )
        )
    return checks


def _explain(kind: str, met: int, ended_on: int, pause: tuple[float, float] | None) -> str:
    if kind == "503":
        line = (
            f"503 x {met}: Telnyx had not taken the message, so it was retried after a "
            "jittered backoff: retried safely, never double-sent"
        )
        if ended_on:
            line += f"; {ended_on} row(s) met 503 on every attempt: failed, safe to send again"
        return line
    if kind == "429":
        seconds = pause[1] if pause is not None else DEFAULT_PAUSE
        return (
            f"429 x {met} (Retry-After {seconds:g} s): all workers paused {seconds:g} s, "
            "then resumed; the throttled request was sent again (a 429 is safe to resend)"
        )
    if kind == "dropped":
        return (
            f"dropped connection x {met}: the request had been read, so Telnyx may have "
            "taken it: outcome unknown, reported, not resent (there is no idempotency key; "
            "a resend could text the group twice)"
        )
    return f"{kind} x {met}: {ended_on} row(s) ended on it (see failed / unknown above)"


def _fault_order(item: tuple[str, int]) -> tuple[int, str]:
    # The injected faults in the order the help names them, then anything else.
    kind = item[0]
    return (_INJECTED.index(kind) if kind in _INJECTED else len(_INJECTED), kind)


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f} ms"


def _percentiles(values: list[float]) -> tuple[float | None, float | None]:
    if len(values) < 2:
        only = values[0] if values else None
        return only, only
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[98]


def print_report(
    tally: DemoTally,
    checks: list[Check],
    *,
    count: int,
    rate: float | None,
    concurrency: int,
    seed: int,
    injected: str,
) -> None:
    """Print the summary table, the fault explanations and the checks on stdout.

    Args:
        injected: What faults the sandbox was told to serve, in words.
    """
    state = tally.progress
    p50, p99 = _percentiles(tally.latencies)
    throughput = state.sent / state.elapsed if state.elapsed > 0 else 0.0
    limit = "no rate limit" if rate is None else f"rate limit {rate:g}/s"
    rows = [
        ("sent", str(state.sent)),
        ("retried", f"{tally.retries} ({tally.retried_rows} rows)"),
        ("unknown outcome", str(state.unknown)),
        ("failed", str(state.failed)),
        ("latency p50", _ms(p50)),
        ("latency p99", _ms(p99)),
        ("throughput", f"{throughput:.1f} msg/s ({count} rows in {state.elapsed:.1f} s)"),
    ]
    echo = click.echo
    echo("")
    echo(
        f"demo: {count} group MMS through send_many against the local sandbox "
        f"(concurrency {concurrency}, {limit}, seed {seed})"
    )
    echo(f"  faults injected: {injected}")
    for name, value in rows:
        echo(f"  {name:<16} {value}")
    echo("")
    echo("what the SDK did about each fault:")
    if not tally.met:
        echo("  no fault was met")
    for kind, met in sorted(tally.met.items(), key=_fault_order):
        echo(f"  {_explain(kind, met, tally.ended_on[kind], tally.pause)}")
    echo("")
    echo("checked against the sandbox's own record:")
    for check in checks:
        echo(f"  {'ok  ' if check.holds else 'FAIL'} {check.text}")
    echo("")
    if not all(check.holds for check in checks):
        echo("exit status 1: the sandbox's record contradicts the summary above")
    elif state.unknown:
        echo(
            "exit status 0: a row of unknown outcome is what this demo shows, not a failure "
            "(bulk exits 1 for one, and sends it again only with --retry-unknown)"
        )
    else:
        echo("exit status 0: the sandbox's record bears out every line above")
