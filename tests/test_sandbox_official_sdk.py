"""The official ``telnyx`` SDK, pointed at the sandbox, works too."""

from __future__ import annotations

import pytest

from telnyx_group_mms.sandbox import Fault, Sandbox

from .conftest import FROM, TO

telnyx = pytest.importorskip("telnyx", reason="the official telnyx SDK is not installed")


def test_the_official_sdk_sends_a_group_mms_through_the_sandbox(telnyx_sandbox: Sandbox) -> None:
    with telnyx.Telnyx(api_key="KEY_test", base_url=telnyx_sandbox.base_url) as client:
        response = client.messages.send_group_mms(
            from_=FROM, to=TO, text="Hello", media_urls=["https://x.test/a.png"]
        )

    (accepted,) = telnyx_sandbox.messages
    assert response.data is not None
    assert response.data.id == accepted.id
    assert response.data.type == "MMS"
    assert [t.phone_number for t in response.data.to or []] == TO
    assert {t.status for t in response.data.to or []} == {"queued"}
    assert telnyx_sandbox.requests[0].headers["Authorization"] == "Bearer KEY_test"


async def test_the_official_async_sdk_retries_a_429_and_honours_retry_after(
    telnyx_sandbox: Sandbox,
) -> None:
    telnyx_sandbox.faults.script(Fault.status(429, retry_after=0.01))

    async with telnyx.AsyncTelnyx(api_key="KEY_test", base_url=telnyx_sandbox.base_url) as client:
        response = await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")

    assert response.data is not None
    assert [m.id for m in telnyx_sandbox.messages] == [response.data.id]
    assert len(telnyx_sandbox.requests) == 2


def test_the_official_sdk_sees_the_sandbox_errors_as_telnyx_errors(
    telnyx_sandbox: Sandbox,
) -> None:
    with (
        telnyx.Telnyx(api_key="KEY_test", base_url=telnyx_sandbox.base_url) as client,
        pytest.raises(telnyx.BadRequestError) as caught,
    ):
        client.messages.send_group_mms(from_=FROM, to=["not-a-number"], text="Hello")

    assert caught.value.status_code == 400
    assert "10016" in str(caught.value)
