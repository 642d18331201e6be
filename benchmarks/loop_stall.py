"""How long the client blocks a running event loop: building it, and its first sends.

    python benchmarks/loop_stall.py [--runs 5]

An asyncio web server shares its loop with every request it serves; anything the client
does on that loop without awaiting (importing aiohttp, building the cattrs converter,
generating code) delays every other request by as much. Each run is a fresh interpreter
that ticks the loop every millisecond and reports the longest gap between ticks (less
the millisecond) around each step:

- ``attribute + build``: ``tgm.AsyncTelnyx(...)`` inside the loop after a bare
  ``import telnyx_group_mms as tgm``, so the first attribute imports the client's modules;
- ``build``: the class imported before the loop starts, built inside it;
- ``first send``, ``second send``: to a canned loopback server;
- ``first retry``: a first send that meets a 503 and is retried.

The table shows the median over ``--runs`` runs, and the worst. A stall is timing: on a
shared machine it moves with the load, so read the medians, and compare runs made together.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import textwrap
import threading

from payload import API_KEY, SEND_KWARGS

_PROBE = textwrap.dedent(
    """
    import asyncio, json, sys, time
    {imports}

    async def main(base_url, busy_url):
        gaps, stalls = [], {{}}

        async def tick():
            last = time.perf_counter()
            while True:
                await asyncio.sleep(0.001)
                now = time.perf_counter()
                gaps.append(now - last - 0.001)
                last = now

        ticker = asyncio.create_task(tick())
        await asyncio.sleep(0.05)

        async def step(name, work):
            await asyncio.sleep(0.01)
            gaps.clear()
            result = None
            try:
                result = work()
                if asyncio.iscoroutine(result):
                    result = await result
            except tgm.APIError:
                pass  # the retry step ends in a 503 given up on
            await asyncio.sleep(0.01)  # the gap the step caused ends at the next tick
            stalls[name] = max(gaps) * 1000.0
            return result

        kwargs = {send_kwargs!r}
        client = await step({build!r}, lambda: {construct}(api_key={key!r}, base_url=base_url))
        await step("first send", lambda: client.messages.send_group_mms(**kwargs))
        await step("second send", lambda: client.messages.send_group_mms(**kwargs))
        await client.aclose()
        retry = tgm.RetryPolicy(initial_backoff=0.001, max_backoff=0.002)
        other = {construct}(api_key={key!r}, base_url=busy_url, retry=retry)
        await step("first retry", lambda: other.messages.send_group_mms(**kwargs))
        await other.aclose()
        ticker.cancel()
        print(json.dumps(stalls))

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)

SCENARIOS = {
    "attribute + build": ("import telnyx_group_mms as tgm", "tgm.AsyncTelnyx"),
    "build": (
        "import telnyx_group_mms as tgm\nfrom telnyx_group_mms import AsyncTelnyx",
        "AsyncTelnyx",
    ),
}
STEPS = ["attribute + build", "build", "first send", "second send", "first retry"]

_OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
_BUSY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"


class _Canned:
    """Loopback servers on a thread: one answers every POST with a message, one with 503."""

    def __init__(self) -> None:
        from payload import WIRE_RESPONSE

        self._ok = _OK % (len(WIRE_RESPONSE), WIRE_RESPONSE)
        self._loop = asyncio.new_event_loop()
        self._ports: list[int] = []
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        for answer in (self._ok, _BUSY):
            server = self._loop.run_until_complete(
                asyncio.start_server(self._serving(answer), "127.0.0.1", 0)
            )
            self._ports.append(server.sockets[0].getsockname()[1])
        ready.set()
        self._loop.run_forever()

    @staticmethod
    def _serving(answer: bytes):  # type: ignore[no-untyped-def]
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n"):
                        if line.lower().startswith(b"content-length:"):
                            length = int(line.split(b":", 1)[1])
                    await reader.readexactly(length)
                    writer.write(answer)
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()

        return serve

    def url(self, which: int) -> str:
        return f"http://127.0.0.1:{self._ports[which]}/v2"


def probe(scenario: str, server: _Canned) -> dict[str, float]:
    """One fresh interpreter: the stall of each step, in milliseconds."""
    imports, construct = SCENARIOS[scenario]
    script = _PROBE.format(
        imports=imports,
        construct=construct,
        build=scenario,
        key=API_KEY,
        send_kwargs=SEND_KWARGS,
    )
    done = subprocess.run(
        [sys.executable, "-c", script, server.url(0), server.url(1)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    server = _Canned()
    samples: dict[str, list[float]] = {step: [] for step in STEPS}
    for _ in range(args.runs):
        for scenario in SCENARIOS:  # interleaved, so that drift falls on both alike
            for step, stall in probe(scenario, server).items():
                if step in SCENARIOS and step != scenario:
                    continue
                if step in SCENARIOS or scenario == "build":
                    samples[step].append(stall)
    print("| step | median stall | worst |")
    print("|---|--:|--:|")
    for step in STEPS:
        values = samples[step]
        print(f"| {step} | {statistics.median(values):.1f} ms | {max(values):.1f} ms |")


if __name__ == "__main__":
    main()
