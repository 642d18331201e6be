"""The fan-out benchmark: ``send_many`` over 10,000 and 100,000 sends, throughput and peak RSS.

``python benchmarks/fanout.py --base-url URL --sends N`` runs one size in a fresh process
(peak RSS, ``ru_maxrss``, only ever grows, so each size needs its own process) and prints
one JSON line: ``{"sends", "wall", "rps", "cpu_us", "peak_rss_mib"}``, or
``{"skipped": reason}`` when this version of the SDK has no ``AsyncMessages.send_many``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import sys
import time
from collections.abc import Iterator
from typing import Any

from payload import API_KEY, SEND_KWARGS


def _requests(n: int) -> Iterator[Any]:
    """``n`` requests, made lazily so that the input list is not what RSS measures."""
    import telnyx_group_mms as tgm

    for _ in range(n):
        yield tgm.GroupMmsRequest(**SEND_KWARGS)


async def _drive_send_many(client: Any, n: int) -> None:
    # HOOK(send_many): the fan-out under test, with send_many's defaults (concurrency 32,
    # no rate limit). Results are consumed as they arrive and not kept, so what RSS
    # measures is the engine's own footprint.
    failed = 0
    async with contextlib.aclosing(client.messages.send_many(_requests(n))) as results:
        async for result in results:
            failed += not result.ok
    if failed:
        raise RuntimeError(f"{failed} of {n} sends failed")


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


async def _run(base_url: str, n: int) -> dict[str, Any]:
    import telnyx_group_mms as tgm

    if not hasattr(tgm.AsyncMessages, "send_many"):
        return {"skipped": "AsyncMessages.send_many does not exist in this version"}
    async with tgm.AsyncTelnyx(api_key=API_KEY, base_url=base_url) as client:
        cpu0, t0 = time.process_time(), time.perf_counter()
        await _drive_send_many(client, n)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {
        "sends": n,
        "wall": wall,
        "rps": n / wall,
        "cpu_us": cpu / n * 1e6,
        "peak_rss_mib": _peak_rss_mib(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--sends", type=int, required=True)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(_run(args.base_url, args.sends))), flush=True)


if __name__ == "__main__":
    main()
