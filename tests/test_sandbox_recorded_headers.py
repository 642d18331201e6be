"""A recorded request keeps the key a client sent, but no report or diff ever shows it."""

from __future__ import annotations

import pytest

from telnyx_group_mms.sandbox import RecordedRequest, Sandbox

from .conftest import KEY
from .wire_client import post

# A user's failing tests: each compares what the sandbox recorded and fails, so that
# pytest explains the difference the way it explains any failed comparison of attrs
# classes, dicts and lists.
FAILING_COMPARISONS = f"""
from telnyx_group_mms.sandbox import Sandbox
from tests_support import post

KEY = {KEY!r}


def _two_requests():
    with Sandbox() as sandbox:
        post(sandbox.base_url, KEY, "first")
        post(sandbox.base_url, "KEY_other_9876543210", "second")
        return sandbox.requests


def test_compare_requests():
    first, second = _two_requests()
    assert first == second


def test_compare_headers():
    first, second = _two_requests()
    assert first.headers == second.headers


def test_compare_lists_of_requests():
    first, second = _two_requests()
    assert [first] == [second]


def test_compare_a_header_mapping_with_a_dict():
    first, _ = _two_requests()
    assert first.headers == {{"Authorization": "Bearer nope"}}
"""

SUPPORT = """
import http.client, json
from urllib.parse import urlsplit


def post(base_url, key, text):
    url = urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    body = json.dumps({"from": "+13125551234", "to": ["+18655551234"], "text": text})
    headers = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
    conn.request("POST", url.path + "/messages/group_mms", body=body, headers=headers)
    conn.getresponse().read()
    conn.close()
"""


@pytest.mark.parametrize("verbosity", [[], ["-v"], ["-vv"], ["-vv", "--showlocals"]])
def test_pytests_explanation_of_a_failed_comparison_never_shows_the_key(
    pytester: pytest.Pytester, verbosity: list[str]
) -> None:
    pytester.makepyfile(tests_support=SUPPORT, test_user=FAILING_COMPARISONS)

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *verbosity)

    result.assert_outcomes(failed=4)
    output = result.stdout.str()
    assert "Authorization" in output  # the explanation did reach the headers...
    assert "<redacted>" in output
    assert KEY not in output  # ...and hid the key
    assert "KEY_other_9876543210" not in output


def test_the_recorded_key_can_still_be_read_and_compared(telnyx_sandbox: Sandbox) -> None:
    post(telnyx_sandbox.base_url, key=KEY)
    (request,) = telnyx_sandbox.requests

    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["authorization"] == f"Bearer {KEY}"  # HTTP names ignore case
    assert str(request.headers["Authorization"]) == f"Bearer {KEY}"
    assert f"{request.headers['Authorization']}".endswith(KEY)
    assert KEY not in repr(request.headers["Authorization"])
    assert request.headers["Content-Type"] == "application/json"


def test_recorded_requests_compare_by_their_headers_too() -> None:
    def made(authorization: str) -> RecordedRequest:
        headers = {"Authorization": authorization, "Content-Type": "application/json"}
        return RecordedRequest(method="POST", path="/", headers=headers, body=b"", arrived_at=0.0)

    assert made("Bearer a") == made("Bearer a")
    assert made("Bearer a") != made("Bearer b")
    assert made("Bearer a").headers == {
        "Authorization": "Bearer a",
        "Content-Type": "application/json",
    }
    assert KEY not in repr(made(f"Bearer {KEY}"))
