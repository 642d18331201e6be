"""The sandbox answers only requests addressed to it, so a web page cannot read it through
DNS rebinding, and its control routes take no state-changing request a form could send."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from telnyx_group_mms.sandbox import Sandbox

from .wire_client import GOOD_BODY, Answer, control, post

KEY = "secret"


def _exchange(
    base_url: str,
    method: str,
    target: str,
    *,
    host: str | None,
    body: bytes | None = None,
    content_type: str | None = None,
) -> Answer:
    """One request with exactly this ``Host`` header (``None``: none at all)."""
    url = urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        if host is not None:
            conn.putheader("Host", host)
        conn.putheader("Authorization", f"Bearer {KEY}")
        if content_type is not None:
            conn.putheader("Content-Type", content_type)
        conn.putheader("Content-Length", str(len(body or b"")))
        conn.endheaders(body)
        response = conn.getresponse()
        return Answer(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    finally:
        conn.close()


@pytest.fixture
def sandbox(telnyx_sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    sandbox = telnyx_sandbox_factory(api_key=KEY)
    assert post(sandbox.base_url, key=KEY).status == 200  # one message to be read
    return sandbox


@pytest.mark.parametrize("route", ["/_sandbox/messages", "/_sandbox/stats"])
def test_a_rebound_page_cannot_read_the_control_routes(sandbox: Sandbox, route: str) -> None:
    # The page's own name, now resolving to 127.0.0.1, with the right key even.
    answer = _exchange(sandbox.base_url, "GET", route, host=f"evil.example:{sandbox.port}")

    assert answer.status == 421
    assert answer.codes == ["10015"]
    assert b"phone_number" not in answer.body
    assert b"+1" not in answer.body


def test_a_rebound_page_cannot_send_through_the_api(sandbox: Sandbox) -> None:
    answer = _exchange(
        sandbox.base_url,
        "POST",
        "/v2/messages/group_mms",
        host="evil.example",
        body=json.dumps(GOOD_BODY).encode(),
        content_type="application/json",
    )

    assert answer.status == 421
    assert len(sandbox.messages) == 1  # only the fixture's


@pytest.mark.parametrize(
    "host",
    [None, "", "evil.example", "127.0.0.1.evil.example", "localhost.evil.example",
     "127.0.0.1:abc", "127.0.0.1:99999", "[::1", "user@127.0.0.1", "127.0.0.1/x"],
    ids=repr,
)  # fmt: skip
def test_a_missing_malformed_or_foreign_host_is_refused(sandbox: Sandbox, host: str | None) -> None:
    answer = _exchange(sandbox.base_url, "GET", "/_sandbox/stats", host=host)

    # aiohttp's own parser answers 400 to a request with no Host at all.
    assert answer.status == (400 if host is None else 421)
    assert b'"data"' not in answer.body


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.0.0.1:{port}", "localhost:{port}", "LOCALHOST.", "[::1]:{port}"]
)
def test_the_address_it_listens_on_and_localhost_are_served(sandbox: Sandbox, host: str) -> None:
    answer = _exchange(
        sandbox.base_url, "GET", "/_sandbox/stats", host=host.format(port=sandbox.port)
    )

    assert answer.status == 200
    assert answer.json()["data"]["accepted"] == 1


def test_names_given_as_allowed_hosts_are_served_too(
    telnyx_sandbox_factory: Callable[..., Sandbox],
) -> None:
    sandbox = telnyx_sandbox_factory(api_key=KEY, allowed_hosts=["Sandbox.Internal"])

    ok = _exchange(sandbox.base_url, "GET", "/_sandbox/stats", host="sandbox.internal:8765")
    other = _exchange(sandbox.base_url, "GET", "/_sandbox/stats", host="other.internal")

    assert (ok.status, other.status) == (200, 421)


def test_listening_on_every_interface_serves_any_address_but_no_foreign_name() -> None:
    with Sandbox(host="0.0.0.0", api_key=KEY) as sandbox:
        by_address = [
            _exchange(sandbox.base_url, "GET", "/_sandbox/stats", host=host).status
            for host in ("127.0.0.1", "192.0.2.7:8765", "[2001:db8::1]", "localhost")
        ]
        by_name = _exchange(sandbox.base_url, "GET", "/_sandbox/stats", host="evil.example")

    assert sandbox.base_url == f"http://127.0.0.1:{sandbox.port}/v2"
    assert by_address == [200] * 4
    assert by_name.status == 421


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_state_changing_control_request_without_a_json_body_is_refused(
    sandbox: Sandbox, content_type: str | None
) -> None:
    # What a cross-origin <form> or navigator.sendBeacon() can send without a preflight.
    answer = _exchange(
        sandbox.base_url,
        "POST",
        "/_sandbox/reset",
        host=f"127.0.0.1:{sandbox.port}",
        body=b"x=1",
        content_type=content_type,
    )

    assert answer.status == 415
    assert answer.codes == ["10015"]
    assert len(sandbox.messages) == 1


def test_reading_the_control_routes_needs_no_content_type(sandbox: Sandbox) -> None:
    assert control(sandbox.base_url, "stats", key=KEY).status == 200
