"""Faults on demand: scripted for the next requests, or random at a seeded rate."""

from __future__ import annotations

import http.client
from collections.abc import Callable

import pytest

from telnyx_group_mms.sandbox import Fault, FaultKind, FaultPlan, FaultRates, Sandbox

from .openapi import errors_against_error_response
from .wire_client import post


def test_scripted_faults_answer_the_next_requests_in_order_then_normal_service(
    telnyx_sandbox: Sandbox,
) -> None:
    telnyx_sandbox.faults.script(Fault.status(503), Fault.status(500), Fault.status(409))

    statuses = [post(telnyx_sandbox.base_url).status for _ in range(4)]

    assert statuses == [503, 500, 409, 200]
    assert telnyx_sandbox.faults.pending == 0
    assert len(telnyx_sandbox.messages) == 1


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        (Fault.status(503), 503, "10007"),
        (Fault.status(500), 500, "10007"),
        (Fault.status(429), 429, "10011"),
        (Fault.status(409), 409, "40300"),
        (Fault.status(403), 403, "10010"),
        (Fault.status(422, code="40305"), 422, "40305"),
    ],
)
def test_a_status_fault_answers_a_telnyx_error_body(
    telnyx_sandbox: Sandbox, fault: Fault, status: int, code: str
) -> None:
    telnyx_sandbox.faults.script(fault)

    answer = post(telnyx_sandbox.base_url)

    assert answer.status == status
    assert answer.codes == [code]
    assert errors_against_error_response(answer.json()) == []
    assert telnyx_sandbox.messages == []


@pytest.mark.parametrize(("seconds", "header"), [(1, "1"), (2.5, "2.5"), (0.01, "0.01")])
def test_a_status_fault_may_carry_retry_after(
    telnyx_sandbox: Sandbox, seconds: float, header: str
) -> None:
    telnyx_sandbox.faults.script(Fault.status(429, retry_after=seconds))

    answer = post(telnyx_sandbox.base_url)

    assert answer.status == 429
    assert answer.headers["retry-after"] == header


def test_a_drop_fault_closes_the_connection_without_an_answer(telnyx_sandbox: Sandbox) -> None:
    telnyx_sandbox.faults.script(Fault.drop())

    with pytest.raises(http.client.RemoteDisconnected):
        post(telnyx_sandbox.base_url)

    assert telnyx_sandbox.messages == []
    assert post(telnyx_sandbox.base_url).status == 200


def test_a_malformed_fault_takes_the_message_in_and_answers_200_with_broken_json(
    telnyx_sandbox: Sandbox,
) -> None:
    telnyx_sandbox.faults.script(Fault.malformed())

    answer = post(telnyx_sandbox.base_url)

    assert answer.status == 200
    with pytest.raises(ValueError):  # noqa: PT011 - json's own error type
        answer.json()
    assert len(telnyx_sandbox.messages) == 1


def test_a_delay_fault_answers_normally_afterwards(telnyx_sandbox: Sandbox) -> None:
    telnyx_sandbox.faults.script(Fault.delay(0.05))

    answer = post(telnyx_sandbox.base_url)

    assert answer.status == 200
    assert len(telnyx_sandbox.messages) == 1


def test_a_fault_is_served_only_to_authenticated_requests(telnyx_sandbox: Sandbox) -> None:
    telnyx_sandbox.faults.script(Fault.status(503))

    assert post(telnyx_sandbox.base_url, key=None).status == 401
    assert post(telnyx_sandbox.base_url).status == 503


def _outcomes(sandbox: Sandbox, count: int) -> list[int | str]:
    seen: list[int | str] = []
    for _ in range(count):
        try:
            seen.append(post(sandbox.base_url).status)
        except http.client.RemoteDisconnected:
            seen.append("drop")
    return seen


RATES = FaultRates(rates={Fault.status(503): 0.3, Fault.status(429): 0.2, Fault.drop(): 0.1})


def test_random_faults_repeat_exactly_with_the_same_seed(
    telnyx_sandbox_factory: Callable[..., Sandbox],
) -> None:
    first = _outcomes(telnyx_sandbox_factory(fault_rates=RATES, seed=7), 40)
    second = _outcomes(telnyx_sandbox_factory(fault_rates=RATES, seed=7), 40)
    other = _outcomes(telnyx_sandbox_factory(fault_rates=RATES, seed=8), 40)

    assert first == second
    assert first != other
    assert {503, 429, "drop", 200} <= set(first)


def test_reset_restarts_the_random_sequence_from_the_seed(
    telnyx_sandbox_factory: Callable[..., Sandbox],
) -> None:
    sandbox = telnyx_sandbox_factory(fault_rates=RATES, seed=3)
    first = _outcomes(sandbox, 20)

    sandbox.reset()

    assert _outcomes(sandbox, 20) == first


def test_fault_rates_follow_their_probabilities() -> None:
    plan = FaultPlan(rates=FaultRates(rates={Fault.status(503): 0.25}), seed=1)

    hits = sum(plan.next() is not None for _ in range(4000))

    assert 800 < hits < 1200


def test_scripted_faults_come_before_random_ones_and_draw_nothing() -> None:
    rates = FaultRates(rates={Fault.drop(): 0.5})
    scripted = FaultPlan(rates=rates, seed=5)
    plain = FaultPlan(rates=rates, seed=5)
    scripted.script(Fault.malformed())

    assert scripted.next() == Fault.malformed()
    assert [scripted.next() for _ in range(10)] == [plain.next() for _ in range(10)]


def test_rates_can_be_changed_while_serving(telnyx_sandbox: Sandbox) -> None:
    telnyx_sandbox.faults.rates = FaultRates(rates={Fault.status(503): 1.0})
    assert post(telnyx_sandbox.base_url).status == 503

    telnyx_sandbox.faults.rates = FaultRates()
    assert post(telnyx_sandbox.base_url).status == 200


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("503", Fault.status(503)),
        ("429:1", Fault.status(429, retry_after=1)),
        ("drop", Fault.drop()),
        ("delay", Fault.delay(1.0)),
        ("delay:2.5", Fault.delay(2.5)),
        (" Malformed ", Fault.malformed()),
    ],
)
def test_a_fault_parses_from_its_short_name(text: str, fault: Fault) -> None:
    assert Fault.parse(text) == fault


@pytest.mark.parametrize("text", ["", "boom", "drop:3", "200", "delay:-1", "99"])
def test_an_unknown_fault_name_is_refused(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - several messages
        Fault.parse(text)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Fault.status(200),
        lambda: Fault.status(503, retry_after=-1),
        lambda: Fault.delay(-0.1),
        lambda: Fault(kind=FaultKind.DROP, status_code=503),
        lambda: FaultRates(rates={Fault.drop(): 1.5}),
        lambda: FaultRates(rates={Fault.drop(): 0.6, Fault.status(503): 0.6}),
    ],
    ids=["2xx status", "negative retry", "negative delay", "drop with status", "rate", "sum"],
)
def test_an_impossible_fault_setting_is_refused(make: Callable[[], object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - several messages
        make()
