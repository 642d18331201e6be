"""Benchmark this SDK against bare aiohttp (the floor) and the official ``telnyx`` SDK.

    python benchmarks/run.py            # the full run (about 5 minutes on 2 cores)
    python benchmarks/run.py --quick    # a smoke check of the harness (seconds)

One canned loopback server runs in its own process (see ``server.py``). Each candidate
is measured in a fresh worker process per round (``worker.py``), the candidates taking
turns round after round (A B C ..., then B C ... A) so that drift on a shared machine
hits all alike; the table shows medians over rounds, and every ratio is the median of
the per-round ratios. The results are written to ``benchmarks/RESULTS.md`` and printed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import coldstart
import instructions
import worker
from candidates import CANDIDATES
from report import Results, render
from server import Server

HERE = Path(__file__).resolve().parent


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _official_available() -> bool:
    return importlib.util.find_spec("telnyx") is not None


def _measure(server: Server, name: str, levels: list[int], seconds: float) -> list[dict[str, Any]]:
    pids = ",".join(map(str, server.pids))
    command = worker.command(
        server.base_url, name, levels, "--seconds", str(seconds), "--server-pids", pids
    )
    out = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        _log(f"  {name} failed:\n{out.stderr[-2000:]}")
        return []
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def _fanout(server: Server, sizes: list[int]) -> list[dict[str, Any]]:
    """The send_many fan-out, each size in a fresh process (peak RSS only ever grows).

    HOOK(send_many): this drives ``benchmarks/fanout.py``, the fan-out benchmark that came
    with ``send_many``, through its ``client N BASE_URL CONCURRENCY`` command, against
    this harness's server. Without that script (or without ``send_many``) it is skipped.
    """
    script = HERE / "fanout.py"
    if not script.exists():
        return [{"skipped": "benchmarks/fanout.py (the send_many benchmark) is not here"}]
    rows: list[dict[str, Any]] = []
    for n in sizes:
        command = [sys.executable, str(script), "client", str(n), server.base_url, "64"]
        out = subprocess.run(command, capture_output=True, text=True, timeout=1800)
        if out.returncode != 0:
            rows.append({"sends": n, "error": (out.stderr.strip().splitlines() or ["?"])[-1]})
            continue
        row = json.loads(out.stdout.splitlines()[-1])
        share = row.get("client_cpu_share")  # of one core, over the fan-out's wall time
        rows.append(
            {
                "sends": row["n"],
                "ok": row["ok"],
                "rps": row["per_second"],
                "cpu_us": None if share is None else share * row["seconds"] / row["n"] * 1e6,
                "peak_rss_mib": row["peak_rss_mib"],
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one short round: checks the harness")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--seconds", type=float, default=1.5, help="timed seconds per level")
    parser.add_argument("--levels", default="1,8,64", help="concurrency levels")
    parser.add_argument("--only", default="", help="comma-separated candidates (default: all)")
    parser.add_argument("--cold-runs", type=int, default=7, help="cold starts per script")
    parser.add_argument("--fanout-sizes", default="10000,100000")
    parser.add_argument("--server-workers", type=int, default=1)
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count instructions per send under valgrind (adds several minutes)",
    )
    parser.add_argument(
        "--output", default=str(HERE / "RESULTS.md"), help="also writes the raw data as .json"
    )
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds, args.cold_runs, args.fanout_sizes = 1, 0.2, 1, "500,2000"

    levels = [int(x) for x in args.levels.split(",")]
    names = [n for n in CANDIDATES if not args.only or n in args.only.split(",")]
    if not _official_available():
        _log("the official telnyx SDK is not installed (pip install -e '.[bench]'): skipping it")
        names = [n for n in names if not CANDIDATES[n][2]]

    results = Results(levels=levels, rounds=args.rounds, seconds=args.seconds)
    results.command = " ".join(["python benchmarks/run.py", *sys.argv[1:]])
    results.load_before = os.getloadavg()
    started = time.monotonic()
    server = Server(args.server_workers)
    results.server = {"workers": server.workers, "loop": server.loop}
    try:
        for r in range(args.rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            for name in order:
                _log(f"round {r + 1}/{args.rounds}: {name}")
                for row in _measure(server, name, levels, args.seconds):
                    results.add_run(r, row)

        cold = [n for n in coldstart.SCRIPTS if "official" not in n or _official_available()]
        for name in cold:  # once each, unrecorded: fills the OS file cache and .pyc files
            coldstart.run_once(name, server.base_url)
        for r in range(args.cold_runs):
            _log(f"cold start {r + 1}/{args.cold_runs}")
            for name in cold:
                results.add_cold(name, *coldstart.run_once(name, server.base_url))
        for module in ("telnyx_group_mms", "telnyx", "aiohttp"):
            if importlib.util.find_spec(module) is not None:
                times = [coldstart.import_time(module) for _ in range(max(1, args.cold_runs))]
                results.imports[module] = statistics.median(times)

        if args.instructions and shutil.which("valgrind") is None:
            _log("valgrind is not installed: no instruction counts")
        elif args.instructions:
            results.instructions = instructions.table(
                instructions.measure(server, names, [1, max(levels)], 100 if args.quick else 500)
            )
        sizes = [int(x) for x in args.fanout_sizes.split(",") if x]
        _log("fan-out")
        results.fanout = _fanout(server, sizes)
    finally:
        server.stop()
    results.load_after = os.getloadavg()
    results.elapsed = time.monotonic() - started

    text = render(results)
    Path(args.output).write_text(text)
    Path(args.output).with_suffix(".json").write_text(json.dumps(results.raw(), indent=1))
    print(text)


if __name__ == "__main__":
    main()
