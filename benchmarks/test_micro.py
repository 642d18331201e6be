"""Micro-benchmarks of the pieces of one send, so that a regression shows in review.

Run: ``python -m pytest benchmarks/test_micro.py`` (needs the ``bench`` extra). The
default test command does not collect this file. Compare two runs with
``--benchmark-autosave`` and ``pytest-benchmark compare``.

Each benchmark also checks the result, so a fast wrong answer fails.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from payload import SEND_KWARGS, WIRE_REQUEST, WIRE_RESPONSE

import telnyx_group_mms as tgm
from telnyx_group_mms._wire.protocol import decode_message, encode_request
from telnyx_group_mms._wire.serialization import get_converter
from telnyx_group_mms.retry import Retrier

if TYPE_CHECKING:
    from pytest_benchmark.fixture import BenchmarkFixture

pytest.importorskip("pytest_benchmark", reason="install the bench extra: pip install -e '.[bench]'")

CONVERTER = get_converter()
MESSAGE = decode_message(CONVERTER, 200, WIRE_RESPONSE)


def test_validate_and_serialise_a_request(benchmark: BenchmarkFixture) -> None:
    def build() -> bytes:
        return encode_request(CONVERTER, tgm.GroupMmsRequest(**SEND_KWARGS))

    body = benchmark(build)
    assert json.loads(body) == json.loads(WIRE_REQUEST)


def test_parse_a_response(benchmark: BenchmarkFixture) -> None:
    message = benchmark(decode_message, CONVERTER, 200, WIRE_RESPONSE)
    assert message == MESSAGE
    assert [r.phone_number for r in message.to] == SEND_KWARGS["to"]
    assert message.cost is not None
    assert message.cost.amount == Decimal("0.0153")


def _run_to_completion(coro: object) -> object:
    # The fake attempt never suspends, so one send() runs the whole round trip without
    # an event loop, and only the wrapper's own cost is timed.
    try:
        coro.send(None)  # type: ignore[attr-defined]
    except StopIteration as done:
        return done.value
    raise AssertionError("the retry wrapper suspended on the happy path")


def test_retry_wrapper_round_trip_on_success(benchmark: BenchmarkFixture) -> None:
    retrier = Retrier(tgm.RetryPolicy())

    async def attempt() -> tgm.Message:
        return MESSAGE

    result = benchmark(lambda: _run_to_completion(retrier.call(attempt)))
    assert result is MESSAGE


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def test_retry_wrapper_round_trip_with_one_retry(
    benchmark: BenchmarkFixture, loop: asyncio.AbstractEventLoop
) -> None:
    # The failure path: tenacity takes over after one safe failure, waits 0 s, succeeds.
    retrier = Retrier(tgm.RetryPolicy(initial_backoff=0.0, max_backoff=0.0))
    calls = 0

    async def attempt() -> tgm.Message:
        nonlocal calls
        calls += 1
        if calls % 2:
            raise tgm.APIConnectionError("refused", outcome=tgm.Outcome.SAFE)
        return MESSAGE

    result = benchmark(lambda: loop.run_until_complete(retrier.call(attempt)))
    assert result is MESSAGE
    assert calls % 2 == 0
