"""A closed client refuses every call with one error, whichever face of the client it is."""

from __future__ import annotations

import pytest

import telnyx_group_mms as tgm

from .conftest import FROM, KEY, TO
from .scripted_server import ScriptedServer

CLOSED = "this client is closed; create a new one"


def test_the_closed_error_is_a_telnyx_error_with_one_wording() -> None:
    error = tgm.ClientClosedError()
    assert isinstance(error, tgm.TelnyxError)
    assert str(error) == CLOSED


async def test_a_closed_async_client_raises_client_closed_error_and_sends_nothing(
    server: ScriptedServer,
) -> None:
    client = tgm.AsyncTelnyx(api_key=KEY, base_url=server.base_url)
    await client.aclose()
    with pytest.raises(tgm.ClientClosedError, match=CLOSED):
        await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
    with pytest.raises(tgm.ClientClosedError):
        async with client:
            pass
    assert server.posts == 0


def test_a_closed_sync_client_raises_client_closed_error_and_sends_nothing(
    server: ScriptedServer,
) -> None:
    client = tgm.Telnyx(api_key=KEY, base_url=server.base_url)
    client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
    client.close()
    with pytest.raises(tgm.ClientClosedError, match=CLOSED):
        client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
    with pytest.raises(tgm.ClientClosedError):
        client.messages.send_many([])
    with pytest.raises(tgm.ClientClosedError), client:
        pass
    assert server.posts == 1
