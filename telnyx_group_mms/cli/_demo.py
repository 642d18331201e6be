"""``telnyx-group-mms demo``: a batch through the local sandbox, with faults, explained.

Offline and key-free: the sandbox serves on the command's own event loop, faults are
injected into it (seeded random 503s, then one 429 and one dropped connection scripted
a third and two thirds of the way through), and the batch goes through ``send_many``
with a rate limit. The summary's claims are then checked against the sandbox's own
record of what it received and accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Callable, Iterator

import click

from ..bulk._runner import BulkProgress
from ..client import AsyncTelnyx
from ..models import GroupMmsRequest
from ..retry import RetryEvent, RetryPolicy
from ..sandbox import Fault, FaultPlan, FaultRates, Sandbox
from ._demo_report import DemoTally, check_record, fault_kind, print_report
from ._progress import progress_shown
from ._sender_rate_options import check_rate_option

__all__ = ["demo"]

# Any key works against the sandbox; this one only has to match on both sides.
_KEY = "KEY_demo_offline"
_SENDER = "+13125550100"
#: Share of requests the sandbox answers 503 (seeded, so a run repeats).
RATE_503 = 0.04
#: The Retry-After of the one scripted 429, in seconds.
RETRY_AFTER = 1.0
INJECTED = (
    f"{RATE_503:.0%} of requests answered 503 at random, one 429 (Retry-After "
    f"{RETRY_AFTER:g} s) a third of the way through, one connection dropped after the "
    "request was read two thirds of the way through"
)


def _requests(count: int, faults: FaultPlan) -> Iterator[GroupMmsRequest]:
    # The 429 and the drop are scripted as the batch reaches a third and two thirds of
    # the input, so that they land among the other requests (the next ones to arrive).
    script = [
        (count // 3, Fault.status(429, retry_after=RETRY_AFTER)),
        (2 * count // 3, Fault.drop()),
    ]
    for n in range(count):
        while script and script[0][0] == n:
            faults.script(script.pop(0)[1])
        # Each row texts its own group and carries its number in the text, so the
        # sandbox's record tells the rows apart.
        to = [f"+1773555{(3 * n + k) % 10_000:04d}" for k in range(3)]
        text = f"Demo #{n + 1}: school closes at noon today; pick-up from 12:15."
        yield GroupMmsRequest(from_=_SENDER, to=to, text=text, subject="School notice")


async def run_demo(
    *,
    count: int,
    rate: float | None,
    concurrency: int,
    seed: int,
    progress: Callable[[BulkProgress], None] | None,
) -> DemoTally:
    """Send ``count`` messages through a faulty sandbox; return what happened and was seen."""
    tally = DemoTally(total=count)

    def on_retry(event: RetryEvent) -> None:
        tally.retried(fault_kind(event.cause), event.cause, at=time.monotonic())

    policy = RetryPolicy(on_retry=on_retry)
    faults = FaultRates(rates={Fault.status(503): RATE_503})
    async with (
        Sandbox(api_key=_KEY, fault_rates=faults, seed=seed) as sandbox,
        AsyncTelnyx(
            api_key=_KEY,
            base_url=sandbox.base_url,
            retry=policy,
            max_connections=max(100, concurrency),
        ) as client,
    ):
        loop = asyncio.get_running_loop()
        started = loop.time()
        results = client.messages.send_many(
            _requests(count, sandbox.faults), concurrency=concurrency, rate_limit=rate
        )
        async with contextlib.aclosing(results):
            async for result in results:
                tally.record(result, elapsed=loop.time() - started)
                if progress is not None:
                    progress(tally.progress)
        tally.seen(requests=sandbox.requests, messages=sandbox.messages)
    return tally


@click.command()
@click.option(
    "--count", type=click.IntRange(min=1, max=10_000), default=300, show_default=True,
    help="Group MMS to send.",
)  # fmt: skip
@click.option(
    "--rate", type=click.FloatRange(min=0), default=50.0, show_default=True,
    callback=check_rate_option,
    help="Account-wide messages per second (Telnyx's default is 15); 0 for no limit.",
)  # fmt: skip
@click.option(
    "--concurrency", type=click.IntRange(min=1, max=1000), default=16, show_default=True,
    help="Requests in flight at most.",
)  # fmt: skip
@click.option(
    "--seed", type=int, default=7, show_default=True,
    help="Seeds the sandbox's random 503s, so a run repeats.",
)  # fmt: skip
def demo(*, count: int, rate: float, concurrency: int, seed: int) -> None:
    """Send a batch of group MMS through a local, faulty sandbox and explain what happened.

    No API key, no network: the sandbox runs in this process on 127.0.0.1. It answers
    about 4% of requests 503, one 429 (Retry-After 1 s) a third of the way through, and
    drops one connection after reading the request two thirds of the way through. The
    summary shows sent, retried, unknown-outcome and failed rows, latency and
    throughput, what the SDK did about each fault, and checks those claims against the
    sandbox's own record.

    Exit status 0 when the sandbox's record bears the summary out, even though the
    dropped connection leaves one row with an unknown outcome (that row is the point:
    it is reported, not resent); 1 when the record contradicts the summary.
    """
    interrupted = "interrupted: nothing was sent beyond the local sandbox"
    with progress_shown(interrupted=interrupted) as progress:
        run = run_demo(
            count=count,
            rate=rate or None,
            concurrency=concurrency,
            seed=seed,
            progress=progress,
        )
        tally = asyncio.run(run)
    checks = check_record(tally)
    print_report(
        tally,
        checks,
        count=count,
        rate=rate or None,
        concurrency=concurrency,
        seed=seed,
        injected=INJECTED,
    )
    sys.exit(0 if all(check.holds for check in checks) else 1)
