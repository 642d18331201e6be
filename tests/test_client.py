"""AsyncTelnyx: configuration, lifecycle, event loops, and keeping the key secret."""

from __future__ import annotations

import asyncio
import gc
import logging
import traceback
import warnings

import pytest

import telnyx_group_mms as tgm

from .conftest import FROM, KEY, TO
from .scripted_server import Reply, ScriptedServer


def test_no_api_key_fails_at_construction() -> None:
    with pytest.raises(tgm.TelnyxError, match="TELNYX_API_KEY"):
        tgm.AsyncTelnyx()
    with pytest.raises(tgm.TelnyxError):
        tgm.AsyncTelnyx(api_key="  ")


def test_the_key_and_base_url_default_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELNYX_API_KEY", KEY)
    monkeypatch.setenv("TELNYX_BASE_URL", "http://127.0.0.1:9/v2")
    client = tgm.AsyncTelnyx()
    assert client.base_url == "http://127.0.0.1:9/v2"
    assert client.config.api_key == KEY


def test_the_default_base_url_is_telnyx() -> None:
    assert tgm.AsyncTelnyx(api_key=KEY).base_url == "https://api.telnyx.com/v2"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/v2",
        "http://127.8.9.10/v2",
        "http://[::1]:8000/v2",
        "http://localhost:8000/v2",
        "https://api.example.com/v2",
    ],
)
def test_https_anywhere_and_plain_http_on_loopback_are_accepted(url: str) -> None:
    assert tgm.AsyncTelnyx(api_key=KEY, base_url=url).base_url == url


@pytest.mark.parametrize(
    "url",
    [
        "http://api.telnyx.com/v2",
        "http://10.0.0.1/v2",
        "http://localhost.example.com/v2",
        "ftp://127.0.0.1/v2",
        "api.telnyx.com/v2",
        "https:///v2",
    ],
)
def test_plain_http_off_loopback_and_non_http_urls_are_refused(url: str) -> None:
    with pytest.raises(tgm.TelnyxError):
        tgm.AsyncTelnyx(api_key=KEY, base_url=url)


@pytest.mark.parametrize("kwargs", [{"timeout": 0}, {"timeout": -1.0}, {"max_connections": 0}])
def test_nonsensical_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(tgm.TelnyxError):
        tgm.AsyncTelnyx(api_key=KEY, **kwargs)  # type: ignore[arg-type]


async def test_the_key_never_appears_in_repr_str_errors_or_logs(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.push(Reply(status=401, body={"errors": [{"code": "10009", "title": "Auth failed"}]}))
    client = tgm.AsyncTelnyx(api_key=KEY, base_url=server.base_url)
    sync_client = tgm.Telnyx(api_key=KEY, base_url=server.base_url)
    texts = [repr(client), str(client), repr(client.config), repr(sync_client), str(sync_client)]
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(tgm.AuthenticationError) as info:
            await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
        await client.aclose()
        sync_client.close()
    texts += [str(info.value), repr(info.value), "".join(traceback.format_exception(info.value))]
    texts += [r.getMessage() for r in caplog.records]
    for text in texts:
        assert KEY not in text


async def test_state_moves_from_new_to_open_to_closed(server: ScriptedServer) -> None:
    client = tgm.AsyncTelnyx(api_key=KEY, base_url=server.base_url)
    assert client.state is tgm.ClientState.NEW
    await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
    assert client.state is tgm.ClientState.OPEN
    await client.aclose()
    assert client.state is tgm.ClientState.CLOSED


async def test_aclose_is_idempotent_and_a_closed_client_refuses_to_send(
    server: ScriptedServer,
) -> None:
    client = tgm.AsyncTelnyx(api_key=KEY, base_url=server.base_url)
    await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
    await client.aclose()
    await client.aclose()
    with pytest.raises(tgm.TelnyxError, match="closed"):
        await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
    with pytest.raises(tgm.TelnyxError, match="closed"):
        async with client:
            pass
    assert server.posts == 1


async def test_closing_a_client_that_never_sent_is_fine() -> None:
    client = tgm.AsyncTelnyx(api_key=KEY)
    await client.aclose()
    assert client.state is tgm.ClientState.CLOSED


def test_a_client_built_outside_any_loop_works_inside_one(server: ScriptedServer) -> None:
    client = tgm.AsyncTelnyx(api_key=KEY, base_url=server.base_url)

    async def main() -> tgm.Message:
        async with client:
            return await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")

    assert asyncio.run(main()).id is not None


def test_a_second_event_loop_gets_a_clear_error_never_a_hang(server: ScriptedServer) -> None:
    client = tgm.AsyncTelnyx(api_key=KEY, base_url=server.base_url)

    async def send() -> tgm.Message:
        return await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")

    asyncio.run(send())
    with pytest.raises(tgm.TelnyxError, match="one event loop"):
        asyncio.run(send())
    # Closing from yet another loop, after the first is gone, neither raises nor hangs.
    # The sockets left open on the dead loop can only be reclaimed by the garbage
    # collector (hence the ResourceWarning); close a client inside the loop that used it.
    asyncio.run(client.aclose())
    assert client.state is tgm.ClientState.CLOSED
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    assert server.posts == 1


async def test_concurrent_sends_share_one_client(server: ScriptedServer) -> None:
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=server.base_url) as client:
        messages = await asyncio.gather(
            *(client.messages.send_group_mms(from_=FROM, to=TO, text=f"n{i}") for i in range(20))
        )
    assert len({m.id for m in messages}) == 20
    assert server.posts == 20


async def test_close_is_a_coroutine_that_closes_like_aclose(server: ScriptedServer) -> None:
    client = tgm.AsyncTelnyx(api_key=KEY, base_url=server.base_url)
    await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")

    await client.close()  # what the official SDK's users write

    assert client.state is tgm.ClientState.CLOSED
    await client.close()  # idempotent, as aclose is
    with pytest.raises(tgm.TelnyxError, match="closed"):
        await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
    assert server.posts == 1


async def test_a_client_closed_while_its_first_send_loads_sends_nothing(
    server: ScriptedServer,
) -> None:
    client = tgm.AsyncTelnyx(api_key=KEY, base_url=server.base_url)
    send = asyncio.ensure_future(client.messages.send_group_mms(from_=FROM, to=TO, text="Hi"))
    await client.aclose()

    with pytest.raises(tgm.TelnyxError, match="closed"):
        await send
    assert server.posts == 0
