"""Soak: N sends through send_many against a faulty sandbox in another process.

The same harness and checks as ``tests/test_soak.py`` (see ``tests/soak_support.py``),
for runs longer than the test suite can afford:

    python benchmarks/soak.py                          # 20,000 async, then 20,000 sync
    python benchmarks/soak.py --n 200000 --mode async
    python benchmarks/soak.py --mode sync --threads 8 --seed 3

The sandbox (``python -m telnyx_group_mms sandbox``) serves seeded random faults on 10%
of POSTs: 429 with Retry-After, 503, 500, 502, 504, delays past the client's timeout,
dropped connections and malformed answers. Each run prints one JSON line of numbers
(time, faults served per kind, RSS at start / a quarter / the end, fds, threads and tasks
before and after), then every broken invariant; the exit status is 1 if any was broken.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.soak_support import (
    Record,
    SandboxProcess,
    SoakRun,
    problems,
    soak_async,
    soak_sync,
    summary,
)


def one(mode: str, args: argparse.Namespace) -> list[str]:
    """Run one soak against a fresh sandbox; print its numbers; its broken invariants."""
    sandbox = SandboxProcess(seed=args.seed, history=2 * args.n)
    try:
        run: SoakRun
        if mode == "async":
            run = asyncio.run(soak_async(sandbox.base_url, args.n, concurrency=args.concurrency))
        else:
            run = soak_sync(
                sandbox.base_url, args.n, threads=args.threads, concurrency=args.thread_concurrency
            )
        record = Record.read(sandbox)
    finally:
        sandbox.close()
    print(json.dumps(summary(run, record)), flush=True)
    found = problems(run, record)
    for problem in found:
        print(f"  BROKEN: {problem}", flush=True)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="sends per run")
    parser.add_argument("--mode", choices=["async", "sync", "both"], default="both")
    parser.add_argument("--seed", type=int, default=20_000, help="seeds the sandbox's faults")
    parser.add_argument("--concurrency", type=int, default=32, help="async: requests in flight")
    parser.add_argument("--threads", type=int, default=8, help="sync: threads sharing a client")
    parser.add_argument(
        "--thread-concurrency", type=int, default=8, help="sync: in flight per thread"
    )
    args = parser.parse_args()
    modes = ["async", "sync"] if args.mode == "both" else [args.mode]
    broken = [problem for mode in modes for problem in one(mode, args)]
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
