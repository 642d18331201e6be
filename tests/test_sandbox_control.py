"""The sandbox's own record over HTTP (``/_sandbox/stats``, ``/_sandbox/messages``)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from telnyx_group_mms.sandbox import Fault, FaultRates, Sandbox, SandboxStats

from .fanout_support import wait_until
from .openapi import errors_against_error_response
from .wire_client import GOOD_BODY, control, post


def _stats(sandbox: Sandbox, key: str = "test-key") -> dict[str, object]:
    answer = control(sandbox.base_url, "stats", key=key)
    assert answer.status == 200
    data: dict[str, object] = answer.json()["data"]
    return data


def test_stats_count_requests_accepted_messages_and_faults_by_short_name(
    telnyx_sandbox: Sandbox,
) -> None:
    telnyx_sandbox.faults.script(
        Fault.status(503), Fault.status(429, retry_after=0.5), Fault.malformed(), Fault.drop()
    )
    for _ in range(3):
        post(telnyx_sandbox.base_url)
    with pytest.raises(ConnectionError):
        post(telnyx_sandbox.base_url)
    post(telnyx_sandbox.base_url, {"from": "nope"})  # refused: 400
    post(telnyx_sandbox.base_url)

    stats = _stats(telnyx_sandbox)

    assert stats == {
        "requests": 6,
        "accepted": 2,
        "in_flight": 0,
        "faults": {"503": 1, "429:0.5": 1, "malformed": 1, "drop": 1},
    }
    assert telnyx_sandbox.stats == SandboxStats(**stats)  # type: ignore[arg-type]


def test_control_requests_are_neither_counted_nor_faulted(
    telnyx_sandbox_factory: Callable[..., Sandbox],
) -> None:
    sandbox = telnyx_sandbox_factory(fault_rates=FaultRates(rates={Fault.status(503): 1.0}))

    for _ in range(3):
        stats = _stats(sandbox)

    assert stats["requests"] == 0
    assert stats["faults"] == {}


def test_a_delayed_request_is_in_flight_until_its_message_is_taken_in(
    telnyx_sandbox: Sandbox,
) -> None:
    telnyx_sandbox.faults.script(Fault.delay(0.5))
    sender = threading.Thread(target=post, args=(telnyx_sandbox.base_url,))
    sender.start()
    try:
        wait_until(lambda: _stats(telnyx_sandbox)["in_flight"] == 1)
        assert _stats(telnyx_sandbox)["accepted"] == 0
    finally:
        sender.join()

    assert _stats(telnyx_sandbox)["in_flight"] == 0
    assert _stats(telnyx_sandbox)["accepted"] == 1


def test_messages_are_listed_oldest_first_in_wire_form_a_page_at_a_time(
    telnyx_sandbox: Sandbox,
) -> None:
    for i in range(5):
        post(telnyx_sandbox.base_url, {**GOOD_BODY, "text": f"text {i}"})

    first = control(telnyx_sandbox.base_url, "messages", key="k", query="limit=2").json()
    rest = control(telnyx_sandbox.base_url, "messages", key="k", query="offset=2").json()
    past_the_end = control(telnyx_sandbox.base_url, "messages", key="k", query="offset=5").json()

    assert [m["text"] for m in first["data"]] == ["text 0", "text 1"]
    assert first["meta"] == {"offset": 0, "limit": 2, "total": 5}
    assert [m["text"] for m in rest["data"]] == ["text 2", "text 3", "text 4"]
    assert rest["meta"] == {"offset": 2, "limit": 1000, "total": 5}
    assert past_the_end["data"] == []
    wire = first["data"][0]
    assert wire["from"]["phone_number"] == GOOD_BODY["from"]
    assert wire["id"] == telnyx_sandbox.messages[0].id


@pytest.mark.parametrize("query", ["offset=-1", "offset=6", "limit=0", "limit=1001", "limit=x"])
def test_a_bad_page_is_a_telnyx_shaped_400(telnyx_sandbox: Sandbox, query: str) -> None:
    post(telnyx_sandbox.base_url)

    answer = control(telnyx_sandbox.base_url, "messages", query=query)

    assert answer.status == 400
    assert answer.codes == ["10015"]
    assert errors_against_error_response(answer.json()) == []


@pytest.mark.parametrize("route", ["stats", "messages"])
def test_the_control_routes_are_authenticated_like_the_api(
    telnyx_sandbox_factory: Callable[..., Sandbox], route: str
) -> None:
    sandbox = telnyx_sandbox_factory(api_key="secret")
    post(sandbox.base_url, key="secret")

    assert control(sandbox.base_url, route, key=None).status == 401
    assert control(sandbox.base_url, route, key="wrong").codes == ["10009"]
    assert control(sandbox.base_url, route, key="secret").status == 200


def test_reset_zeroes_the_counts(telnyx_sandbox: Sandbox) -> None:
    telnyx_sandbox.faults.script(Fault.status(503))
    post(telnyx_sandbox.base_url)
    post(telnyx_sandbox.base_url)

    telnyx_sandbox.reset()

    assert telnyx_sandbox.stats == SandboxStats(requests=0, accepted=0, in_flight=0, faults={})


def test_accepted_keeps_counting_beyond_max_history(
    telnyx_sandbox_factory: Callable[..., Sandbox],
) -> None:
    sandbox = telnyx_sandbox_factory(max_history=2)
    for _ in range(3):
        post(sandbox.base_url)

    assert _stats(sandbox)["accepted"] == 3
    assert control(sandbox.base_url, "messages").json()["meta"]["total"] == 2


@pytest.mark.parametrize(
    "fault",
    [
        Fault.status(503),
        Fault.status(429, retry_after=1),
        Fault.status(429, retry_after=0.02),
        Fault.drop(),
        Fault.delay(2.5),
        Fault.malformed(),
    ],
    ids=str,
)
def test_a_fault_reads_back_from_its_short_name(fault: Fault) -> None:
    assert Fault.parse(str(fault)) == fault
