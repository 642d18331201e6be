"""Turn the measurements into ``RESULTS.md``: machine, versions, tables, targets."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from candidates import CANDIDATES, LABELS
from coldstart import COUNTERPART, SCRIPTS

OFFICIAL_ASYNC = ("official-async-httpx", "official-async-aiohttp")
PACKAGES = (
    "telnyx-group-mms",
    "aiohttp",
    "attrs",
    "cattrs",
    "tenacity",
    "telnyx",
    "httpx",
    "httpx-aiohttp",
    "pydantic",
    "uvloop",
)
ANALYSIS = Path(__file__).resolve().parent / "analysis.md"


@dataclass
class Results:
    """Everything one run measured, with the conditions it ran under."""

    levels: list[int]
    rounds: int
    seconds: float
    runs: dict[tuple[str, int], dict[int, dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    cold: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))
    imports: dict[str, float] = field(default_factory=dict)
    fanout: list[dict[str, Any]] = field(default_factory=list)
    instructions: list[str] = field(default_factory=list)
    server: dict[str, Any] = field(default_factory=dict)
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    elapsed: float = 0.0
    command: str = "python benchmarks/run.py"

    def add_run(self, round_: int, row: dict[str, Any]) -> None:
        self.runs[(row["candidate"], row["concurrency"])][round_] = row

    def add_cold(self, name: str, first_send: float, exit_: float) -> None:
        self.cold[name].append((first_send, exit_))

    def raw(self) -> dict[str, Any]:
        """Every measurement as JSON-ready data, for a second look at the numbers."""
        return {
            "levels": self.levels,
            "rounds": self.rounds,
            "seconds": self.seconds,
            "runs": [row | {"round": r} for rows in self.runs.values() for r, row in rows.items()],
            "cold_start": {name: [list(run) for run in runs] for name, runs in self.cold.items()},
            "imports": self.imports,
            "fanout": self.fanout,
            "instructions": self.instructions,
            "server": self.server,
            "load_before": self.load_before,
            "load_after": self.load_after,
        }

    def median(self, name: str, c: int, key: str) -> float | None:
        rows = self.runs.get((name, c))
        return statistics.median(r[key] for r in rows.values()) if rows else None

    def ratio(self, name: str, c: int, key: str, versus: tuple[str, ...]) -> float | None:
        """Median over rounds of ``name``'s value over the best of ``versus`` in that round."""
        mine = self.runs.get((name, c), {})
        ratios = []
        for round_, row in mine.items():
            theirs = [
                self.runs[(v, c)][round_][key]
                for v in versus
                if round_ in self.runs.get((v, c), {})
            ]
            if theirs:
                best = min(theirs) if key == "cpu_us" else max(theirs)
                ratios.append(row[key] / best)
        return statistics.median(ratios) if ratios else None

    def official(self) -> tuple[str, ...]:
        return tuple(n for n in CANDIDATES if CANDIDATES[n][2] and (n, self.levels[0]) in self.runs)

    def cold_ratio(self, name: str, versus: str) -> float | None:
        pairs = list(zip(self.cold.get(name, []), self.cold.get(versus, []), strict=False))
        return statistics.median(a[0] / b[0] for a, b in pairs) if pairs else None


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _versions() -> str:
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return ", ".join(found)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _throughput_table(res: Results) -> list[str]:
    official = res.official()
    lines = [
        "| candidate | c | req/s | spread | CPU µs/send | client CPU | server CPU "
        "| req/s ÷ floor | CPU ÷ floor | req/s ÷ official best |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name in CANDIDATES:
        for c in res.levels:
            rows = list(res.runs.get((name, c), {}).values())
            if not rows:
                continue
            rps = [r["rps"] for r in rows]
            med = statistics.median(rps)
            spread = (max(rps) - min(rps)) / med * 100
            client = statistics.median(r["cpu"] / r["wall"] for r in rows) * 100
            servers = [r["server_cpu"] / r["wall"] for r in rows if r["server_cpu"] is not None]
            server = f"{statistics.median(servers) * 100:.0f}%" if servers else "n/a"
            vs_official = (
                _x(res.ratio(name, c, "rps", official))
                if official and not CANDIDATES[name][2]
                else ""
            )
            lines.append(
                f"| {LABELS[name]} | {c} | {med:,.0f} | ±{spread / 2:.0f}% "
                f"| {res.median(name, c, 'cpu_us'):.0f} | {client:.0f}% | {server} "
                f"| {_x(res.ratio(name, c, 'rps', ('floor',)))} "
                f"| {_x(res.ratio(name, c, 'cpu_us', ('floor',)))} | {vs_official} |"
            )
    return lines


def _target(label: str, value: float | None, limit: float, at_least: bool) -> str:
    if value is None:
        return f"| {label} | n/a | not measured |"
    met = value >= limit if at_least else value <= limit
    return f"| {label} | {value:.2f}x | {'met' if met else '**missed**'} |"


def _targets(res: Results) -> list[str]:
    top = max(res.levels)
    official = res.official()
    lines = ["| target | measured | |", "|---|--:|---|"]
    lines.append(
        _target(
            f"async c={top} throughput >= 0.85x floor",
            res.ratio("ours-async", top, "rps", ("floor",)),
            0.85,
            True,
        )
    )
    lines.append(
        _target(
            f"async c={top} throughput >= 4x official best",
            res.ratio("ours-async", top, "rps", official) if official else None,
            4.0,
            True,
        )
    )
    for c in res.levels:
        lines.append(
            _target(
                f"async CPU per send at c={c} <= 1.2x floor",
                res.ratio("ours-async", c, "cpu_us", ("floor",)),
                1.2,
                False,
            )
        )
    lines.append(
        _target(
            "sync sequential throughput >= 2x official sync",
            res.ratio("ours-sync", 1, "rps", ("official-sync",)) if official else None,
            2.0,
            True,
        )
    )
    for ours, theirs in COUNTERPART.items():
        lines.append(
            _target(
                f"cold start, {SCRIPTS[ours][0]} <= 0.15x {SCRIPTS[theirs][0]}",
                res.cold_ratio(ours, theirs),
                0.15,
                False,
            )
        )
    sizes = {r["sends"]: r["peak_rss_mib"] for r in res.fanout if "peak_rss_mib" in r}
    if len(sizes) >= 2:
        small, large = min(sizes), max(sizes)
        lines.append(
            _target(
                f"fan-out peak RSS at {large:,} <= 1.10x at {small:,}",
                sizes[large] / sizes[small],
                1.10,
                False,
            )
        )
    else:
        lines.append("| fan-out peak RSS flat (100,000 vs 10,000) | n/a | not measured (below) |")
    return lines


def _cold_table(res: Results) -> list[str]:
    lines = [
        "| script | to first send (ms) | to exit (ms) | first send ÷ official |",
        "|---|--:|--:|--:|",
    ]
    for name, (label, _) in SCRIPTS.items():
        runs = res.cold.get(name)
        if not runs:
            continue
        first = statistics.median(r[0] for r in runs) * 1000
        exit_ = statistics.median(r[1] for r in runs) * 1000
        ratio = _x(res.cold_ratio(name, COUNTERPART[name])) if name in COUNTERPART else ""
        lines.append(f"| {label} | {first:.0f} | {exit_:.0f} | {ratio} |")
    if res.imports:
        lines.append("")
        lines.append(
            "`import` alone, fresh interpreter, median (`python -X importtime`): "
            + ", ".join(f"`{m}` {s * 1000:.0f} ms" for m, s in res.imports.items())
            + "."
        )
    return lines


def _fanout_table(res: Results) -> list[str]:
    if not res.fanout:
        return ["Not run."]
    skipped = [r["skipped"] for r in res.fanout if "skipped" in r]
    if skipped:
        return [f"Skipped: {skipped[0]}."]
    lines = [
        "Concurrency 64, default settings otherwise; each size in a fresh process.",
        "",
        "| sends | succeeded | req/s | CPU µs/send | peak RSS (MiB) |",
        "|--:|--:|--:|--:|--:|",
    ]
    for r in res.fanout:
        if "error" in r:
            lines.append(f"| {r['sends']:,} | failed: {r['error']} | | | |")
        else:
            cpu = "n/a" if r["cpu_us"] is None else f"{r['cpu_us']:.0f}"
            lines.append(
                f"| {r['sends']:,} | {r['ok']:,} | {r['rps']:,.0f} | {cpu} "
                f"| {r['peak_rss_mib']:.1f} |"
            )
    return lines


def _instructions_section(res: Results) -> list[str]:
    if not res.instructions:
        return []
    return [
        "## Instructions per send (valgrind)",
        "",
        "User-space instructions per send, counted by cachegrind (`--instructions`): not "
        "moved by other load on the machine, but blind to kernel work (system calls).",
        "",
        *res.instructions,
        "",
    ]


def render(res: Results) -> str:
    """The whole of ``RESULTS.md``."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = "load average (1/5/15 min) {:.2f} / {:.2f} / {:.2f}"
    parts = [
        "# Benchmark results",
        "",
        f"Written by `{res.command}` on {now}, in {res.elapsed / 60:.1f} minutes.",
        "",
        "## Conditions",
        "",
        f"- Machine: {_cpu_model()}, {os.cpu_count()} cores; {platform.platform()}; "
        f"Python {platform.python_version()}.",
        f"- Before the run: {load.format(*res.load_before)}; after: "
        f"{load.format(*res.load_after)}.",
        f"- Versions: {_versions()}.",
        f"- Server: canned loopback server, {res.server.get('workers')} process(es) on "
        f"{res.server.get('loop')}. Clients run on the default asyncio loop.",
        f"- {res.rounds} interleaved round(s); each level timed for about {res.seconds:g} s "
        "after a warm-up, in a fresh process per candidate and round.",
        "",
        "## Targets",
        "",
        *_targets(res),
        "",
        "## Throughput and CPU per send",
        "",
        "`c` is the concurrency: tasks for async clients, threads for sync ones (c=1 is a "
        "plain loop). CPU µs/send is the client process's CPU time (all its threads) over "
        "the sends; client and server CPU are in % of one core. Spread is half the range "
        "over rounds, as a share of the median. Ratios are medians of per-round ratios.",
        "",
        *_throughput_table(res),
        "",
        "## Cold start",
        "",
        "From launching a fresh interpreter to the first send completed (and to its exit): "
        "import, build a client, send one message.",
        "",
        *_cold_table(res),
        "",
        *_instructions_section(res),
        "## Fan-out (`send_many`)",
        "",
        *_fanout_table(res),
        "",
    ]
    if ANALYSIS.exists():
        parts.append(ANALYSIS.read_text().rstrip() + "\n")
    return "\n".join(parts)
