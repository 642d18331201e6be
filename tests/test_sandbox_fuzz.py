"""Property tests: whatever a request holds, the sandbox answers 200 or 400, never 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from telnyx_group_mms.sandbox import Sandbox
from telnyx_group_mms.sandbox._wire import WireRequest, parse_request

from . import fuzz_support as fuzz
from .conftest import FROM, TO
from .wire_client import post

KEYS = [
    "from", "to", "text", "subject", "media_urls", "webhook_url", "webhook_failover_url",
    "use_profile_webhooks",
]  # fmt: skip
# URL-shaped strings that stress a parser: brackets, ports, user names, odd characters.
url_like = st.builds(
    "".join,
    st.tuples(
        st.sampled_from(["http://", "https://", "HTTP://", "http:/", "ftp://", ""]),
        st.lists(st.sampled_from([*"[]:@/?#.%-_ a9", "\uff03", "::1", "\ud800"]), max_size=12)
        .map("".join),
        fuzz.any_text | st.just(""),
    ),
)  # fmt: skip
values = fuzz.json_values(st.sampled_from(KEYS) | st.text(max_size=5)) | url_like
good: dict[str, Any] = {"from": FROM, "to": TO, "text": "Hello"}
documents = st.one_of(
    st.dictionaries(st.sampled_from(KEYS), values | st.lists(url_like, max_size=3), max_size=8),
    # A good body with one field replaced: the check reaches every later field.
    st.builds(lambda key, value: {**good, key: value}, st.sampled_from(KEYS), values),
    st.builds(lambda urls: {**good, "media_urls": urls}, st.lists(url_like, max_size=11)),
)


@settings(max_examples=2000, suppress_health_check=[HealthCheck.too_slow])
@given(document=documents)
def test_the_sandbox_reads_any_body_as_a_request_or_as_errors_never_an_exception(
    document: Any,
) -> None:
    outcome = parse_request("application/json", json.dumps(document).encode())

    assert isinstance(outcome, WireRequest) or (outcome and all(e.code for e in outcome))


@pytest.fixture(scope="module")
def running_sandbox() -> Iterator[Sandbox]:
    # One sandbox for every example: starting one per example would dominate the test.
    with Sandbox() as sandbox:
        yield sandbox


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=documents)
def test_any_body_over_http_is_answered_200_or_a_telnyx_shaped_400(
    running_sandbox: Sandbox, document: Any
) -> None:
    answer = post(running_sandbox.base_url, json.dumps(document).encode())

    assert answer.status in (200, 400), answer.body
    if answer.status == 400:
        assert answer.codes
