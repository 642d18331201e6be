"""The soak: thousands of sends through ``send_many`` against a faulty sandbox in another process.

Shared by ``tests/test_soak.py`` (sizes that fit the suite) and ``benchmarks/soak.py``
(longer runs). The sandbox runs as ``python -m telnyx_group_mms sandbox`` with seeded
random faults; its own record (``GET /_sandbox/stats`` and ``/_sandbox/messages``) is
then checked against the results by :func:`problems`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import re
import signal
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import telnyx_group_mms as tgm

from .cli_runner import Server
from .wire_client import control

KEY = "soak-key-0123456789"
FROM = "+13125551234"
TO = ("+18655551234", "+14155551234")
#: Seconds a client waits for one answer. A delay fault holds its request longer, so the
#: client gives up on a request the sandbox then takes in: an unknown outcome that went out.
TIMEOUT = 2.0
DELAY = 3.0
#: Seeded random faults: 10% of all POSTs together (retries draw too).
FAULT_RATES: dict[str, float] = {
    "429:0.02": 0.015,  # with Retry-After: safe; the fan-out pauses, then retries
    "503": 0.02,  # safe: retried
    "500": 0.01,  # may have been sent: reported unknown, not retried
    "502": 0.01,
    "504": 0.01,
    f"delay:{DELAY:g}": 0.005,  # a read timeout at the client, though the message went out
    "drop": 0.015,  # the connection closes without an answer: unknown
    "malformed": 0.015,  # taken in, answered 200 with broken JSON: unknown
}
#: Each of these faults ends exactly one send, with this error, its outcome unknown.
FAULT_ERRORS = {
    "500": "InternalServerError 500",
    "502": "InternalServerError 502",
    "504": "InternalServerError 504",
    "drop": "APIConnectionError",
    "malformed": "APIResponseValidationError",
}
#: Failures that are safe (nothing was taken in), once the retry policy gave up on them.
SAFE_ERRORS = frozenset({"RateLimitError 429", "InternalServerError 503"})
#: How much RSS may grow from a quarter of the run to its end: allocator noise, plus the
#: rows this harness keeps (under 256 bytes each). A leak of 1 KiB per send would add
#: more than that over 15,000 sends; keeping each Message (3 KiB or more) far more.
RSS_NOISE_KIB = 8 * 1024
ROW_BYTES = 256
RETRY = tgm.RetryPolicy(initial_backoff=0.01, max_backoff=0.05)


def open_fds() -> int:
    """File descriptors open in this process."""
    return len(os.listdir("/proc/self/fd"))


def rss_kib() -> int:
    """Resident set size of this process, in KiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def requests(label: str, indices: range) -> Iterator[tgm.GroupMmsRequest]:
    """One request per index, told apart at the sandbox by its text."""
    for i in indices:
        yield tgm.GroupMmsRequest(from_=FROM, to=TO, text=f"{label} {i}")


@dataclass(frozen=True, slots=True)
class Row:
    """What one result said, kept small so that keeping 20,000 of them costs little."""

    index: int
    message_id: str | None
    error: str | None
    unknown: bool
    attempts: int


def error_name(error: tgm.TelnyxError) -> str:
    """``"InternalServerError 502"``, ``"APITimeoutError"``, ..."""
    if isinstance(error, tgm.APIStatusError):
        return f"{type(error).__name__} {error.status_code}"
    return type(error).__name__


def row_of(result: tgm.SendResult, index: int) -> Row:
    return Row(
        index=index,
        message_id=result.message.id if result.message is not None else None,
        error=None if result.error is None else error_name(result.error),
        unknown=result.outcome_unknown,
        attempts=result.attempts,
    )


@dataclass
class Footprint:
    """Open file descriptors, threads and asyncio tasks at one moment."""

    fds: int
    threads: int
    tasks: int


@dataclass
class SoakRun:
    """The results of one soak, and what it cost."""

    label: str
    n: int
    rows: list[Row] = field(default_factory=list)
    seconds: float = 0.0
    rss_start_kib: int = 0
    rss_quarter_kib: int = 0
    rss_end_kib: int = 0
    before: Footprint | None = None
    after: Footprint | None = None
    #: asyncio tasks still alive on the client's loop once every iteration had ended.
    leftover_tasks: int = 0
    warnings: list[str] = field(default_factory=list)
    asyncio_errors: list[str] = field(default_factory=list)
    #: Log lines of this package (INFO and up) that showed a number, a text or the key.
    leaky_logs: list[str] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)
        if len(self.rows) == self.n // 4:
            self.rss_quarter_kib = rss_kib()


class _Collect(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__()
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(f"{record.name} {record.levelname}: {record.getMessage()}")


@contextlib.contextmanager
def watching(run: SoakRun) -> Iterator[None]:
    """Record warnings, asyncio's errors and our INFO logs into ``run`` (every thread)."""
    asyncio_lines: list[str] = []
    our_lines: list[str] = []
    asyncio_log = logging.getLogger("asyncio")
    our_log = logging.getLogger("telnyx_group_mms")
    errors_handler, info_handler = _Collect(asyncio_lines), _Collect(our_lines)
    errors_handler.setLevel(logging.ERROR)
    saved_level = our_log.level
    our_log.setLevel(logging.INFO)
    asyncio_log.addHandler(errors_handler)
    our_log.addHandler(info_handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
            # Unclosed sockets and sessions warn when collected: collect while recording.
            gc.collect()
    finally:
        asyncio_log.removeHandler(errors_handler)
        our_log.removeHandler(info_handler)
        our_log.setLevel(saved_level)
    run.warnings = [f"{w.category.__name__}: {w.message}" for w in caught]
    run.asyncio_errors = asyncio_lines
    secrets = [KEY, FROM, *TO, f"{run.label} "]
    run.leaky_logs = [line for line in our_lines if any(s in line for s in secrets)]


async def soak_async(
    base_url: str, n: int, *, concurrency: int = 32, retry: tgm.RetryPolicy = RETRY
) -> SoakRun:
    """``n`` sends through one ``AsyncTelnyx.messages.send_many``."""
    run = SoakRun(label="async", n=n)
    with watching(run):
        run.before = Footprint(open_fds(), threading.active_count(), len(asyncio.all_tasks()))
        run.rss_start_kib = rss_kib()
        started = time.perf_counter()
        async with tgm.AsyncTelnyx(
            api_key=KEY,
            base_url=base_url,
            timeout=TIMEOUT,
            retry=retry,
            max_connections=concurrency,
        ) as client:
            sends = client.messages.send_many(
                requests(run.label, range(n)), concurrency=concurrency
            )
            async for result in sends:
                run.add(row_of(result, result.index))
            run.seconds = time.perf_counter() - started
            run.rss_end_kib = rss_kib()
            run.leftover_tasks = len(asyncio.all_tasks()) - run.before.tasks
        run.after = Footprint(open_fds(), threading.active_count(), len(asyncio.all_tasks()))
    return run


async def _other_tasks() -> int:
    return len(asyncio.all_tasks()) - 1


def soak_sync(
    base_url: str,
    n: int,
    *,
    threads: int = 8,
    concurrency: int = 8,
    retry: tgm.RetryPolicy = RETRY,
) -> SoakRun:
    """``n`` sends through one shared ``Telnyx``: each thread iterates its own ``send_many``."""
    run = SoakRun(label="sync", n=n)
    lock = threading.Lock()
    failures: list[BaseException] = []

    def work(client: tgm.Telnyx, first: int) -> None:
        # This thread sends indices first, first + threads, ...: its k-th is first + k x threads.
        mine = range(first, n, threads)
        try:
            for result in client.messages.send_many(
                requests(run.label, mine), concurrency=concurrency
            ):
                row = row_of(result, mine[result.index])
                with lock:
                    run.add(row)
        except BaseException as exc:  # re-raised by the main thread
            failures.append(exc)

    with watching(run):
        run.before = Footprint(open_fds(), threading.active_count(), 0)
        run.rss_start_kib = rss_kib()
        started = time.perf_counter()
        client = tgm.Telnyx(
            api_key=KEY,
            base_url=base_url,
            timeout=TIMEOUT,
            retry=retry,
            max_connections=threads * concurrency,
        )
        try:
            workers = [
                threading.Thread(target=work, args=(client, t), name=f"soak-{t}")
                for t in range(threads)
            ]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            run.seconds = time.perf_counter() - started
            run.rss_end_kib = rss_kib()
            run.leftover_tasks = client._run(lambda core: _other_tasks())
        finally:
            client.close()
        run.after = Footprint(open_fds(), threading.active_count(), 0)
    if failures:
        raise failures[0]
    return run


class SandboxProcess:
    """``python -m telnyx_group_mms sandbox`` with the soak's faults, in its own process."""

    def __init__(self, *, seed: int, history: int) -> None:
        args = ["sandbox", "--port", "0", "--api-key", KEY, "--seed", str(seed)]
        args += ["--max-history", str(history)]
        for name, rate in FAULT_RATES.items():
            args += ["--fault-rate", f"{name}={rate}"]
        self.server = Server(args)
        line = self.server.readline()
        found = re.search(r"listening at (\S+)", line or "")
        if found is None:
            self.close()
            raise RuntimeError(f"the sandbox did not start: {line!r}")
        self.base_url = found.group(1)

    def stats(self) -> dict[str, Any]:
        """``GET /_sandbox/stats``."""
        answer = control(self.base_url, "stats", key=KEY)
        assert answer.status == 200, answer.body
        data: dict[str, Any] = answer.json()["data"]
        return data

    def settle(self, *, within: float = 30.0) -> dict[str, Any]:
        """Wait until no request is in flight (delayed ones are taken in); the final stats."""
        deadline = time.monotonic() + within
        while (stats := self.stats())["in_flight"]:
            if time.monotonic() > deadline:
                raise AssertionError(f"requests still in flight after {within} s: {stats}")
            time.sleep(0.05)
        return stats

    def accepted_texts(self) -> tuple[list[str], dict[str, str]]:
        """Every accepted message's text in order, and each text's message id."""
        texts: list[str] = []
        ids: dict[str, str] = {}
        while True:
            answer = control(self.base_url, "messages", key=KEY, query=f"offset={len(texts)}")
            assert answer.status == 200, answer.body
            page = answer.json()["data"]
            if not page:
                return texts, ids
            for message in page:
                texts.append(message["text"])
                ids[message["text"]] = message["id"]

    def close(self) -> str:
        """Stop the sandbox; its stderr."""
        self.server.process.send_signal(signal.SIGTERM)
        return self.server.finish().stderr


@contextlib.contextmanager
def running_sandbox(*, seed: int, history: int) -> Iterator[SandboxProcess]:
    """A :class:`SandboxProcess`, stopped afterwards; nothing may have made it fail."""
    box = SandboxProcess(seed=seed, history=history)
    try:
        yield box
    finally:
        stderr = box.close()
    # Nothing the client did made the sandbox fail (or log a message's content).
    assert stderr.strip() == "Sandbox stopped."


@dataclass
class Record:
    """What the sandbox saw, read once the run is over."""

    stats: dict[str, Any]
    accepted: list[str]
    ids: dict[str, str]

    @classmethod
    def read(cls, sandbox: SandboxProcess) -> Record:
        stats = sandbox.settle()
        accepted, ids = sandbox.accepted_texts()
        return cls(stats=stats, accepted=accepted, ids=ids)


def problems(run: SoakRun, record: Record) -> list[str]:
    """Every invariant the run broke (empty when it kept them all)."""
    found: list[str] = []
    rows, text = run.rows, (lambda i: f"{run.label} {i}")
    errors = Counter(r.error for r in rows if r.error is not None)
    faults: dict[str, int] = record.stats["faults"]

    if sorted(r.index for r in rows) != list(range(run.n)):
        found.append(f"{len(rows)} results for {run.n} inputs, or an index twice")
    if sum(r.attempts for r in rows) != record.stats["requests"]:
        found.append(
            f"the client made {sum(r.attempts for r in rows)} POSTs, the sandbox saw "
            f"{record.stats['requests']}"
        )
    accepted = set(record.accepted)
    if len(accepted) != len(record.accepted) or len(accepted) != record.stats["accepted"]:
        doubles = [t for t, c in Counter(record.accepted).items() if c > 1]
        found.append(f"messages accepted twice: {doubles[:10]} (history may be too short)")
    successes = {text(r.index): r.message_id for r in rows if r.message_id is not None}
    if any(record.ids.get(t) != mid for t, mid in successes.items()):
        found.append("a success whose message the sandbox did not accept (or another id)")
    unknown = {text(r.index) for r in rows if r.unknown}
    went_out = {
        text(r.index) for r in rows if r.error in ("APIResponseValidationError", "APITimeoutError")
    }
    if accepted - successes.keys() != went_out:
        found.append(
            f"accepted without success: {len(accepted - successes.keys())}, but malformed "
            f"answers and timeouts: {len(went_out)}"
        )
    if not went_out <= unknown:
        found.append("a message the sandbox accepted was reported failed, not unknown")
    for fault, error in FAULT_ERRORS.items():
        if errors[error] != faults.get(fault, 0):
            found.append(f"{faults.get(fault, 0)} {fault} faults but {errors[error]} {error}")
    delays = faults.get(f"delay:{DELAY:g}", 0)
    if errors["APITimeoutError"] < delays:
        found.append(f"{delays} delays past the timeout but {errors['APITimeoutError']} timeouts")
    # Only a 429 or a 503 the policy gave up on says "nothing was sent"; every other
    # failure may have let the message out, and must say so.
    mismarked = [r for r in rows if r.error is not None and r.unknown == (r.error in SAFE_ERRORS)]
    if mismarked:
        found.append(f"failures whose outcome_unknown is wrong: {mismarked[:3]}")

    allowed = RSS_NOISE_KIB + (run.n - run.n // 4) * ROW_BYTES // 1024
    if run.rss_end_kib - run.rss_quarter_kib > allowed:
        found.append(
            f"RSS grew from {run.rss_quarter_kib} KiB at a quarter to {run.rss_end_kib} KiB "
            f"at the end (allowed: {allowed} KiB)"
        )
    if run.before != run.after:
        found.append(f"before {run.before}, after closing {run.after}")
    if run.leftover_tasks:
        found.append(f"{run.leftover_tasks} task(s) left on the loop after the iterations")
    for name, lines in (
        ("warnings", run.warnings),
        ("asyncio errors", run.asyncio_errors),
        ("log lines with a number, a text or the key", run.leaky_logs),
    ):
        if lines:
            found.append(f"{len(lines)} {name}: {lines[:3]}")
    return found


def summary(run: SoakRun, record: Record) -> dict[str, Any]:
    """The numbers worth reporting."""
    rows = run.rows
    assert run.before is not None and run.after is not None
    return {
        "run": run.label,
        "n": run.n,
        "seconds": round(run.seconds, 1),
        "per_second": round(run.n / run.seconds) if run.seconds else None,
        "posts": record.stats["requests"],
        "ok": sum(r.message_id is not None for r in rows),
        "unknown": sum(r.unknown for r in rows),
        "failed_safe": sum(r.error is not None and not r.unknown for r in rows),
        "accepted_unknown": len(set(record.accepted)) - sum(r.message_id is not None for r in rows),
        "faults": dict(sorted(record.stats["faults"].items())),
        "rss_mib": {
            "start": round(run.rss_start_kib / 1024, 1),
            "quarter": round(run.rss_quarter_kib / 1024, 1),
            "end": round(run.rss_end_kib / 1024, 1),
        },
        "fds": [run.before.fds, run.after.fds],
        "threads": [run.before.threads, run.after.threads],
        "tasks": [run.before.tasks, run.after.tasks],
        "leftover_tasks": run.leftover_tasks,
    }
