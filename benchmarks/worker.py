"""Measure one candidate in a fresh process: throughput and client CPU per send.

``python benchmarks/worker.py NAME --base-url URL --levels 1,8,64 --seconds 1.5``
prints one JSON line per concurrency level. Each level warms up first (connections
opened, caches filled), sizes its run from the warm-up rate so that it lasts about
``--seconds``, then times it: wall clock for requests/second and this process's CPU
time (every thread of it) for the CPU per send. The server runs in another process, so
none of its work is counted; its CPU time is read from ``/proc`` to show it kept up.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import threading
import time
from typing import Any

from candidates import CANDIDATES, AsyncSend, SyncSend

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def server_cpu(pids: list[int]) -> float | None:
    """CPU seconds used so far by the server processes, or ``None`` off Linux."""
    total = 0
    try:
        for pid in pids:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return None
    return total / _TICKS


async def _run_async(send: AsyncSend, n: int, concurrency: int) -> None:
    remaining = n

    async def lane() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await send()

    await asyncio.gather(*(lane() for _ in range(concurrency)))


def _run_sync(send: SyncSend, n: int, concurrency: int) -> None:
    if concurrency == 1:
        for _ in range(n):
            send()
        return
    go = threading.Event()
    errors: list[BaseException] = []
    share, extra = divmod(n, concurrency)

    def lane(count: int) -> None:
        go.wait()
        try:
            for _ in range(count):
                send()
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=lane, args=(share + (i < extra),)) for i in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    go.set()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _warmup_count(concurrency: int) -> int:
    return max(50, 4 * concurrency)


def _sized(concurrency: int, warm: int, elapsed: float, seconds: float) -> int:
    """A multiple of ``concurrency`` sends lasting about ``seconds`` at the warm-up rate."""
    n = max(10 * concurrency, int(warm / elapsed * seconds))
    return n - n % concurrency


class _Window:
    """Wall clock, this process's CPU time and the server's CPU time over one timed run."""

    def __init__(self, pids: list[int]) -> None:
        gc.collect()  # the warm-up's garbage is not the measured run's
        self._pids = pids
        self._server = server_cpu(pids)
        self._cpu = time.process_time()
        self._t0 = time.perf_counter()

    def close(self, n: int, concurrency: int) -> dict[str, Any]:
        wall = time.perf_counter() - self._t0
        cpu = time.process_time() - self._cpu
        after = server_cpu(self._pids)
        server = None if self._server is None or after is None else after - self._server
        return {
            "concurrency": concurrency,
            "n": n,
            "wall": wall,
            "cpu": cpu,
            "server_cpu": server,
            "rps": n / wall if n else 0.0,
            "cpu_us": cpu / n * 1e6 if n else 0.0,
        }


def measure_sync(
    send: SyncSend, concurrency: int, seconds: float, pids: list[int], sends: int | None
) -> dict[str, Any]:
    """Warm up, size the run from the warm-up rate (or send ``sends``), then time it."""
    warm = _warmup_count(concurrency)
    started = time.perf_counter()
    _run_sync(send, warm, concurrency)
    n = (
        _sized(concurrency, warm, time.perf_counter() - started, seconds)
        if sends is None
        else sends
    )
    window = _Window(pids)
    _run_sync(send, n, concurrency)
    return window.close(n, concurrency)


async def measure_async(
    send: AsyncSend, concurrency: int, seconds: float, pids: list[int], sends: int | None
) -> dict[str, Any]:
    """:func:`measure_sync`, awaited."""
    warm = _warmup_count(concurrency)
    started = time.perf_counter()
    await _run_async(send, warm, concurrency)
    n = (
        _sized(concurrency, warm, time.perf_counter() - started, seconds)
        if sends is None
        else sends
    )
    window = _Window(pids)
    await _run_async(send, n, concurrency)
    return window.close(n, concurrency)


def command(base_url: str, name: str, levels: list[int], *options: str) -> list[str]:
    """The command line that runs this worker for ``name`` at ``levels``."""
    levels_arg = ",".join(map(str, levels))
    return [
        sys.executable,
        __file__,
        name,
        "--base-url",
        base_url,
        "--levels",
        levels_arg,
        *options,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("candidate", choices=sorted(CANDIDATES))
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--levels", default="1,8,64")
    parser.add_argument("--seconds", type=float, default=1.5)
    parser.add_argument("--server-pids", default="")
    parser.add_argument("--sends", type=int, help="send exactly this many (no sizing)")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    pids = [int(x) for x in args.server_pids.split(",") if x]
    is_async, factory, _ = CANDIDATES[args.candidate]

    def emit(row: dict[str, Any]) -> None:
        print(json.dumps({"candidate": args.candidate, **row}), flush=True)

    if is_async:

        async def measure_all() -> None:
            async with factory(args.base_url) as send:
                for c in levels:
                    emit(await measure_async(send, c, args.seconds, pids, args.sends))

        asyncio.run(measure_all())
    else:
        with factory(args.base_url) as send:
            for c in levels:
                emit(measure_sync(send, c, args.seconds, pids, args.sends))


if __name__ == "__main__":
    main()
