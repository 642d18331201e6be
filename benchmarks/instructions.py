"""Instructions per send, counted by valgrind: a noise-free cost on a busy machine.

    python benchmarks/instructions.py [--only floor,ours-async] [--levels 1,64] [--sends 500]

Timings on a shared machine move with whatever else runs; the number of user-space
instructions a client executes per send does not. Each candidate runs under
``valgrind --tool=cachegrind`` twice, once sending nothing after its warm-up and once
sending ``--sends`` more; the difference over ``--sends`` is the client's own cost per
send, interpreter start-up and imports excluded. Kernel work (system calls) is not
counted, so this complements the timed run rather than replacing it. Needs valgrind
(``apt-get install valgrind``); about a minute per official-SDK row.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys

import worker
from candidates import CANDIDATES, LABELS
from server import Server

_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def _count(server: Server, name: str, level: int, sends: int) -> int:
    valgrind = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
    ]
    command = valgrind + worker.command(server.base_url, name, [level], "--sends", str(sends))
    out = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=True)
    found = _REFS.search(out.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from valgrind:\n{out.stderr[-1000:]}")
    return int(found.group(1).replace(",", ""))


def per_send(server: Server, name: str, level: int, sends: int) -> float:
    """User-space instructions one send of ``name`` costs at concurrency ``level``."""
    return (_count(server, name, level, sends) - _count(server, name, level, 0)) / sends


def table(rows: dict[tuple[str, int], float]) -> list[str]:
    """Markdown rows: instructions per send, and ratios to the floor and the official SDK."""
    lines = [
        "| candidate | c | instructions/send | ÷ floor | ÷ official best |",
        "|---|--:|--:|--:|--:|",
    ]
    for (name, level), count in rows.items():
        floor = rows.get(("floor", level))
        official = [v for (n, c), v in rows.items() if c == level and CANDIDATES[n][2]]
        vs_floor = f"{count / floor:.2f}x" if floor else "n/a"
        vs_official = f"{count / min(official):.2f}x" if official else "n/a"
        lines.append(
            f"| {LABELS[name]} | {level} | {count / 1000:,.0f}k | {vs_floor} | {vs_official} |"
        )
    return lines


def measure(
    server: Server, names: list[str], levels: list[int], sends: int
) -> dict[tuple[str, int], float]:
    """Every candidate at every level (sync candidates at c=1 only: threads under
    valgrind are serialised, so more of them measure valgrind, not the client)."""
    rows = {}
    for name in names:
        for level in levels if CANDIDATES[name][0] else [1]:
            print(f"instructions: {name} c={level}", file=sys.stderr, flush=True)
            rows[(name, level)] = per_send(server, name, level, sends)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default="", help="comma-separated candidates (default: all)")
    parser.add_argument("--levels", default="1,64")
    parser.add_argument("--sends", type=int, default=500)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    names = [n for n in CANDIDATES if not args.only or n in args.only.split(",")]
    levels = [int(x) for x in args.levels.split(",")]
    server = Server(1)
    try:
        rows = measure(server, names, levels, args.sends)
    finally:
        server.stop()
    print("\n".join(table(rows)))


if __name__ == "__main__":
    main()
