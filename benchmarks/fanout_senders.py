"""Benchmark: a batch mixing a slow sender and a fast one, in three input orders.

The case of issue 15: 100 rows from a number limited to 5/s and 2,000 from one limited
to 100/s, ``send_many(concurrency=32, per_sender_rate=SenderRates(long_code=5,
overrides={fast: 100}))`` against the sandbox (on a thread of this process). Each
sender alone needs 20 s at its rate (rows / rate), and since the two share nothing but
the workers, that is the optimum for each and for the batch. Reported, per order: the
makespan and each sender's finish time (its last message's arrival at the sandbox),
against that optimum; the target is at most 1.1x.

    python benchmarks/fanout_senders.py                  # all four orders
    python benchmarks/fanout_senders.py --orders random --seed 7
    python benchmarks/fanout_senders.py --json           # one JSON object per order

Orders: ``slow-first`` (every slow row, then every fast row), ``interleaved`` (one for
one while the slow rows last, then the rest of the fast ones), ``random`` (shuffled
with ``--seed``) and ``fast-first`` (the slow rows last: reached only by reading past
the fast rows that wait for their sender).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
from typing import Any

import telnyx_group_mms as tgm
from telnyx_group_mms.sandbox import Sandbox

SLOW = "+13125550001"
FAST = "+13125550002"
TO = ["+18655551234"]
# (sender, rows, messages per second)
SENDERS = ((SLOW, 100, 5.0), (FAST, 2_000, 100.0))
CONCURRENCY = 32


def rows(order: str, seed: int) -> list[tgm.GroupMmsRequest]:
    """The batch's requests in ``order``."""
    per_sender = [
        [tgm.GroupMmsRequest(from_=sender, to=TO, text=f"{sender} {n}") for n in range(count)]
        for sender, count, _ in SENDERS
    ]
    slow, fast = per_sender
    if order == "slow-first":
        return slow + fast
    if order == "fast-first":
        return fast + slow
    if order == "interleaved":
        paired = [request for pair in zip(slow, fast, strict=False) for request in pair]
        return paired + fast[len(slow) :]
    if order == "random":
        mixed = slow + fast
        random.Random(seed).shuffle(mixed)
        return mixed
    raise ValueError(f"unknown order {order!r}")


async def run(order: str, seed: int) -> dict[str, Any]:
    """Send the batch in ``order``; its makespan and each sender's finish time."""
    requests = rows(order, seed)
    rates = tgm.SenderRates(long_code=SENDERS[0][2], overrides={FAST: SENDERS[1][2]})
    optimum = max(count / rate for _, count, rate in SENDERS)
    with Sandbox() as sandbox:
        loop = asyncio.get_running_loop()
        async with tgm.AsyncTelnyx(api_key="bench", base_url=sandbox.base_url) as client:
            await client.messages.send_group_mms(from_=FAST, to=TO, text="warm-up")
            sandbox.reset()
            start = loop.time()  # the sandbox's clock is time.monotonic, as the loop's
            results = client.messages.send_many(
                requests, concurrency=CONCURRENCY, per_sender_rate=rates
            )
            failed = sum(1 for result in [r async for r in results] if not result.ok)
            makespan = loop.time() - start
        finished = {sender: 0.0 for sender, _, _ in SENDERS}
        for seen in sandbox.requests:
            sender = seen.json()["from"]
            finished[sender] = max(finished[sender], seen.arrived_at - start)
    return {
        "order": order,
        "rows": len(requests),
        "failed": failed,
        "optimum_s": optimum,
        "makespan_s": round(makespan, 2),
        "makespan_x": round(makespan / optimum, 3),
        "senders": {
            f"{rate:g}/s": {
                "rows": count,
                "optimum_s": count / rate,
                "finished_s": round(finished[sender], 2),
                "x": round(finished[sender] / (count / rate), 3),
            }
            for sender, count, rate in SENDERS
        },
    }


def table(reports: list[dict[str, Any]]) -> list[str]:
    """Markdown rows, one per order."""
    lines = [
        "| order | makespan | ÷ optimum | 5/s sender done | ÷ its optimum | 100/s sender done "
        "| ÷ its optimum |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for report in reports:
        slow, fast = report["senders"].values()
        lines.append(
            f"| {report['order']} | {report['makespan_s']:.1f} s | {report['makespan_x']:.2f}x "
            f"| {slow['finished_s']:.1f} s | {slow['x']:.2f}x "
            f"| {fast['finished_s']:.1f} s | {fast['x']:.2f}x |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", default="slow-first,interleaved,random,fast-first")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--json", action="store_true", help="print JSON lines, not a table")
    args = parser.parse_args()
    reports = []
    for order in args.orders.split(","):
        print(f"fanout_senders: {order}", file=sys.stderr, flush=True)
        report = asyncio.run(run(order, args.seed))
        reports.append(report)
        if args.json:
            print(json.dumps(report), flush=True)
    if not args.json:
        print("\n".join(table(reports)))


if __name__ == "__main__":
    main()
