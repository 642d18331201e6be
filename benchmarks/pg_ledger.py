"""Benchmark: rows per second of ``bulk`` with the PostgreSQL ledger, against SQLite.

    python benchmarks/pg_ledger.py [--rows 20000] [--concurrency 64] [--workers 1,2,4]
        [--postgres postgresql://root@127.0.0.1:5432/test]

Against the canned server in its own process (``server.py``), with no rate limit:

1. one worker in this process, timed from the call of ``run_bulk`` to its summary
   (reading the input and registering its rows included): no ledger at all (the same
   requests through ``send_many``, the floor), the SQLite ledger (a file in a temporary
   directory, ``synchronous=FULL``), the PostgreSQL ledger (a fresh schema); the
   overhead per row is the difference with the floor;
2. 1, 2 and 4 worker processes (``python -m telnyx_group_mms bulk ... --ledger URL``)
   on one batch of a fresh schema, timed from their start to the last one's exit
   (interpreter start-up included).

Besides rows per second, the table gives the workers' CPU per row (this process's for
the first runs, the worker processes' for the others; start-up included): on a loaded
machine it moves less than the wall time. The database's CPU is not counted.

Each row is committed ``in_flight`` before its POST and again with its outcome; both
ride in group commits. Skips PostgreSQL if the server cannot be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from fresh_schema import drop_schema, fresh_schema
from server import Server

import telnyx_group_mms as tgm
from telnyx_group_mms.bulk import run_bulk

FROM = "+13125551234"
TO = ["+18655551234", "+14155551234"]
KEY = "KEY_bench"


def _write_input(path: Path, rows: int) -> Path:
    path.write_text(
        "from,to,text\n" + "".join(f"{FROM},{';'.join(TO)},row {n}\n" for n in range(rows))
    )
    return path


def _timed(run: Coroutine[Any, Any, int]) -> tuple[float, float]:
    """Rows per second of ``run`` (which returns its rows), and this process's CPU µs per row."""
    cpu, started = time.process_time(), time.perf_counter()
    rows = asyncio.run(run)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return rows / elapsed, cpu / rows * 1e6


async def _floor(base_url: str, rows: int, concurrency: int) -> int:
    requests = (tgm.GroupMmsRequest(from_=FROM, to=TO, text=f"row {n}") for n in range(rows))
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=base_url, max_connections=100) as client:
        async for result in client.messages.send_many(
            requests, concurrency=concurrency, rate_limit=None
        ):
            assert result.ok
    return rows


async def _one_worker(base_url: str, source: Path, ledger: str, concurrency: int) -> int:
    summary = await run_bulk(
        source,
        ledger=ledger,
        api_key=KEY,
        base_url=base_url,
        rate=None,
        concurrency=concurrency,
    )
    assert summary.sent == summary.rows, summary
    return summary.rows


def _workers(
    base_url: str, source: Path, url: str, count: int, concurrency: int
) -> tuple[float, float]:
    """Rows per second of ``count`` worker processes on one batch (their CPU per row shown)."""
    env = dict(os.environ, TELNYX_API_KEY=KEY, TELNYX_BASE_URL=base_url)
    command = [sys.executable, "-m", "telnyx_group_mms", "bulk", str(source), "--rate", "0"]
    command += ["--ledger", url, "--batch", "bench", "--concurrency", str(concurrency)]
    cpu = _children_cpu()
    started = time.perf_counter()
    procs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        for _ in range(count)
    ]
    outputs = [proc.communicate()[0].decode() for proc in procs]
    elapsed = time.perf_counter() - started
    assert all(proc.returncode == 0 for proc in procs), outputs
    rows = int(outputs[0].split("rows ", 1)[1].split(":", 1)[0])
    shares = [int(out.rsplit("this worker sent ", 1)[1].split()[0]) for out in outputs]
    per_row = (_children_cpu() - cpu) / rows * 1e6
    print(f"  ({count} worker(s): rows sent by each {shares})", file=sys.stderr)
    return rows / elapsed, per_row


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--postgres", default="postgresql://root@127.0.0.1:5432/test")
    args = parser.parse_args()
    server = Server(workers=1)
    schemas: list[str] = []
    results: dict[str, tuple[float, float]] = {}
    try:
        with tempfile.TemporaryDirectory() as scratch:
            source = _write_input(Path(scratch) / "batch.csv", args.rows)
            c = args.concurrency
            results["no ledger (send_many)"] = _timed(_floor(server.base_url, args.rows, c))
            sqlite = str(Path(scratch) / "ledger.sqlite")
            results["SQLite ledger, 1 worker"] = _timed(
                _one_worker(server.base_url, source, sqlite, c)
            )
            fresh = fresh_schema(args.postgres)
            if fresh is not None:
                schemas.append(fresh[1])
                results["PostgreSQL ledger, 1 worker"] = _timed(
                    _one_worker(server.base_url, source, fresh[0], c)
                )
                for count in (int(n) for n in args.workers.split(",")):
                    fresh = fresh_schema(args.postgres)
                    assert fresh is not None
                    schemas.append(fresh[1])
                    results[f"PostgreSQL ledger, {count} worker process(es)"] = _workers(
                        server.base_url, source, fresh[0], count, c
                    )
            else:
                print(f"(PostgreSQL skipped: no server at {args.postgres})")
    finally:
        server.stop()
        for schema in schemas:
            drop_schema(args.postgres, schema)
    floor, floor_cpu = results["no ledger (send_many)"]
    print(f"rows {args.rows}, concurrency {args.concurrency}, load {os.getloadavg()[0]:.2f}")
    print("| run | rows/s | wall µs added per row | worker CPU µs per row | CPU µs added |")
    print("|---|--:|--:|--:|--:|")
    for name, (rate, cpu) in results.items():
        first = rate == floor
        added = "" if first else f"{(1 / rate - 1 / floor) * 1e6:,.0f}"
        cpu_added = "" if first else f"{cpu - floor_cpu:,.0f}"
        print(f"| {name} | {rate:,.0f} | {added} | {cpu:,.0f} | {cpu_added} |")
    print(json.dumps({"rows": args.rows, "concurrency": args.concurrency, **results}))


if __name__ == "__main__":
    main()
