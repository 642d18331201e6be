"""Benchmark: batches mixing slow senders and a fast one, in four input orders.

Two mixes, against the sandbox (on a thread of this process), with
``send_many(concurrency=32, per_sender_rate=SenderRates(overrides=...))``:

- ``slow-ahead``: 100 rows from a number limited to 5/s ahead of 2,000
  from one limited to 100/s;
- ``telnyx-x10``: Telnyx's default rates ten times faster (so that it takes seconds,
  not minutes), 20 long codes at 1/s (Telnyx: 0.1/s) with 10 rows each, ahead of a
  toll-free number at 200/s (Telnyx: 20/s) with 2,000.

Each sender alone needs rows / rate seconds (20 s and 10 s here), and since senders
share nothing but the workers, that is the optimum for each and for the batch.
Reported, per mix and order: the makespan and each kind of sender's finish time (the
last message's arrival at the sandbox, over the senders of that kind), against that
optimum; the target is at most 1.1x. (Each bucket admits one second's worth at once,
so a sender can finish a second early: 0.95x for the slow-ahead mix.)

    python benchmarks/fanout_senders.py                  # both mixes, all four orders
    python benchmarks/fanout_senders.py --mixes slow-ahead --orders random --seed 7
    python benchmarks/fanout_senders.py --json           # one JSON object per run

Orders: ``slow-first`` (every slow sender's rows, sender by sender, then the fast
sender's), ``interleaved`` (one row from each sender in turn while it has rows),
``random`` (shuffled with ``--seed``) and ``fast-first`` (the slow rows last: reached
only by reading past the fast rows that wait for their sender).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
from typing import Any

import attrs

import telnyx_group_mms as tgm
from telnyx_group_mms.sandbox import Sandbox

TO = ["+18655551234"]
CONCURRENCY = 32


@attrs.frozen
class Group:
    """Senders of one kind: how many, the rows each sends, and the rate of each."""

    label: str
    senders: tuple[str, ...]
    rows: int
    rate: float

    @property
    def optimum(self) -> float:
        """Seconds each sender needs alone: rows / rate."""
        return self.rows / self.rate


#: A slow number ahead of a fast one: 100 rows at 5/s ahead of 2,000 at 100/s.
SLOW_AHEAD = (
    Group("5/s", ("+13125550001",), 100, 5.0),
    Group("100/s", ("+13125550002",), 2_000, 100.0),
)
#: Telnyx's defaults, ten times faster: 20 long codes (0.1/s, here 1/s) with 10 rows
#: each, ahead of a toll-free number (20/s, here 200/s) with 2,000.
TELNYX_X10 = (
    Group("long codes 1/s", tuple(f"+1312555{n:04d}" for n in range(20)), 10, 1.0),
    Group("toll-free 200/s", ("+18885550100",), 2_000, 200.0),
)
MIXES = {"slow-ahead": SLOW_AHEAD, "telnyx-x10": TELNYX_X10}


def rows(groups: tuple[Group, ...], order: str, seed: int) -> list[tgm.GroupMmsRequest]:
    """The batch's requests in ``order``; ``groups`` slowest first."""
    per_sender = [
        [tgm.GroupMmsRequest(from_=sender, to=TO, text=f"{sender} {n}") for n in range(g.rows)]
        for g in groups
        for sender in g.senders
    ]
    if order == "slow-first":
        return [r for sender_rows in per_sender for r in sender_rows]
    if order == "fast-first":
        return [r for sender_rows in reversed(per_sender) for r in sender_rows]
    if order == "interleaved":  # one from each sender in turn, while it has rows
        longest = max(len(sender_rows) for sender_rows in per_sender)
        return [s[i] for i in range(longest) for s in per_sender if i < len(s)]
    if order == "random":
        mixed = [r for sender_rows in per_sender for r in sender_rows]
        random.Random(seed).shuffle(mixed)
        return mixed
    raise ValueError(f"unknown order {order!r}")


def rates_of(groups: tuple[Group, ...]) -> tgm.SenderRates:
    """Each sender's rate, as ``send_many(per_sender_rate=...)`` takes it."""
    return tgm.SenderRates(overrides={s: g.rate for g in groups for s in g.senders})


async def run(mix: str, order: str, seed: int) -> dict[str, Any]:
    """Send the batch in ``order``; its makespan and each group's finish time."""
    groups = MIXES[mix]
    requests = rows(groups, order, seed)
    optimum = max(g.optimum for g in groups)
    with Sandbox() as sandbox:
        loop = asyncio.get_running_loop()
        async with tgm.AsyncTelnyx(api_key="bench", base_url=sandbox.base_url) as client:
            warm_up = groups[-1].senders[0]
            await client.messages.send_group_mms(from_=warm_up, to=TO, text="warm-up")
            sandbox.reset()
            start = loop.time()  # the sandbox's clock is time.monotonic, as the loop's
            results = client.messages.send_many(
                requests, concurrency=CONCURRENCY, per_sender_rate=rates_of(groups)
            )
            failed = sum(1 for result in [r async for r in results] if not result.ok)
            makespan = loop.time() - start
        finished: dict[str, float] = {}
        for seen in sandbox.requests:
            sender = seen.json()["from"]
            finished[sender] = max(finished.get(sender, 0.0), seen.arrived_at - start)
    return {
        "mix": mix,
        "order": order,
        "rows": len(requests),
        "failed": failed,
        "optimum_s": optimum,
        "makespan_s": round(makespan, 2),
        "makespan_x": round(makespan / optimum, 3),
        "groups": {
            g.label: {
                "senders": len(g.senders),
                "rows_each": g.rows,
                "optimum_s": g.optimum,
                "finished_s": round(max(finished.get(s, 0.0) for s in g.senders), 2),
                "x": round(max(finished.get(s, 0.0) for s in g.senders) / g.optimum, 3),
            }
            for g in groups
        },
    }


def table(reports: list[dict[str, Any]]) -> list[str]:
    """Markdown rows, one per mix and order: each group's last sender's finish time."""
    lines = [
        "| mix | order | makespan | ÷ optimum | slow senders done | ÷ theirs "
        "| fast sender done | ÷ its |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for report in reports:
        slow, fast = report["groups"].values()
        lines.append(
            f"| {report['mix']} | {report['order']} | {report['makespan_s']:.1f} s "
            f"| {report['makespan_x']:.2f}x | {slow['finished_s']:.1f} s | {slow['x']:.2f}x "
            f"| {fast['finished_s']:.1f} s | {fast['x']:.2f}x |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mixes", default="slow-ahead,telnyx-x10")
    parser.add_argument("--orders", default="slow-first,interleaved,random,fast-first")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--json", action="store_true", help="print JSON lines, not a table")
    args = parser.parse_args()
    reports = []
    for mix in args.mixes.split(","):
        for order in args.orders.split(","):
            print(f"fanout_senders: {mix} {order}", file=sys.stderr, flush=True)
            report = asyncio.run(run(mix, order, args.seed))
            reports.append(report)
            if args.json:
                print(json.dumps(report), flush=True)
    if not args.json:
        print("\n".join(table(reports)))


if __name__ == "__main__":
    main()
