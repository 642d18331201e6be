"""send_many against a sandbox misbehaving at random: every row accounted for, none sent twice.

The sandbox's own record is the judge: what it received (one POST per attempt the SDK
reports) and what it took in (never a row twice, never a row reported as refused).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.sandbox import Fault, FaultRates, Sandbox

from .conftest import KEY, fast_retry
from .fanout_support import accepted_per_text, eventually, make_requests, posts_per_text

pytestmark = pytest.mark.usefixtures("no_asyncio_errors")

ROWS = 200

#: The client gives up on an answer after this long...
TIMEOUT = 0.3
#: ...so a request the sandbox holds this long times out, and is taken in afterwards:
#: the case a careless retry would send twice.
HELD = Fault.delay(2 * TIMEOUT)

#: Every kind of fault the sandbox serves, often enough that each seed meets them all.
FAULTS = FaultRates(
    rates={
        Fault.status(503): 0.08,
        Fault.status(429, retry_after=0.01): 0.03,
        Fault.status(500): 0.03,
        Fault.status(409): 0.02,
        Fault.drop(): 0.03,
        Fault.malformed(): 0.02,
        Fault.delay(0.02): 0.05,
        HELD: 0.02,
    }
)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_every_input_yields_one_result_and_no_message_is_accepted_twice(
    telnyx_sandbox_factory: Callable[..., Sandbox], seed: int
) -> None:
    sandbox = telnyx_sandbox_factory(fault_rates=FAULTS, seed=seed)
    async with tgm.AsyncTelnyx(
        api_key=KEY, base_url=sandbox.base_url, retry=fast_retry(), timeout=TIMEOUT
    ) as client:
        results = [
            r
            async for r in client.messages.send_many(
                make_requests(ROWS), concurrency=12, rate_limit=2000
            )
        ]

    # One result per input, each carrying its own request.
    assert sorted(r.index for r in results) == list(range(ROWS))
    assert all(r.request.text == f"row {r.index}" for r in results)
    # Every POST the SDK reports reached the sandbox, and no other.
    posts = posts_per_text(sandbox)
    assert sum(r.attempts for r in results) == sandbox.request_count
    assert all(posts[r.request.text] == r.attempts for r in results)
    # The requests that timed out are taken in once the sandbox's hold ends.
    timed_out = [r.request.text for r in results if isinstance(r.error, tgm.APITimeoutError)]
    await eventually(lambda: all(accepted_per_text(sandbox)[t] for t in timed_out))
    # Nothing was taken in twice; what was taken in is exactly what the results say
    # was sent, plus some of the rows whose outcome they call unknown.
    accepted = accepted_per_text(sandbox)
    assert max(accepted.values()) == 1
    ids = {m.id for m in sandbox.messages}
    for result in results:
        if result.ok:
            assert result.message is not None and result.message.id in ids
        elif not result.outcome_unknown:
            assert accepted[result.request.text] == 0, result
    ok = sum(r.ok for r in results)
    unknown = [r for r in results if r.outcome_unknown]
    assert ok <= len(sandbox.messages) <= ok + len(unknown)
    # Each seed's first 200 random draws (a run makes at least 200 requests) hold every
    # kind of fault, so the run met safe retries, unknown outcomes (dropped
    # connections, timeouts, 500s, malformed answers) and final refusals alike.
    assert any(r.attempts > 1 and r.ok for r in results)
    assert {type(r.error) for r in unknown} >= {
        tgm.APIConnectionError,
        tgm.APITimeoutError,
        tgm.InternalServerError,
        tgm.APIResponseValidationError,
    }
    assert any(isinstance(r.error, tgm.ConflictError) for r in results)
