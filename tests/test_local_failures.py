"""A failure before any byte of the request left the machine is safe, never unknown.

Each case injects a failure at one step of building and sending a request that comes
before anything is written to the network, and checks that the error says nothing was
sent: ``SAFE``, so that a batch records the row as failed (sendable again), never as
unknown (held back for fear of a double send).
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import Any

import aiohappyeyeballs
import aiohttp
import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms._config import ClientConfig
from telnyx_group_mms._transport import exchange_error
from telnyx_group_mms.retry import classify

from .conftest import FROM, KEY, TO, fast_retry
from .scripted_server import ScriptedServer


def _raising(error: BaseException) -> Callable[..., Any]:
    def fail(*args: object, **kwargs: object) -> Any:
        raise error

    return fail


async def _async_raising(*args: object, **kwargs: object) -> Any:
    raise OSError(errno.EMFILE, "Too many open files")


def _bad_header(self: ClientConfig) -> dict[str, str]:
    return {"Authorization": "Bearer k", "X-Injected": "a\x01b"}


STEPS: dict[str, tuple[Any, str, Any]] = {
    "URL building": (aiohttp.ClientSession, "_build_url", _raising(aiohttp.InvalidURL("x"))),
    "header building": (
        aiohttp.ClientSession,
        "_prepare_headers",
        _raising(ValueError("bad header")),
    ),
    "request building": (
        aiohttp.ClientRequest,
        "__init__",
        _raising(TypeError("unexpected argument")),
    ),
    "header refused by the writer": (ClientConfig, "headers", _bad_header),
    "socket refused by the system": (aiohappyeyeballs, "start_connection", _async_raising),
}


@pytest.mark.parametrize(("target", "name", "failure"), STEPS.values(), ids=STEPS.keys())
async def test_a_failure_at_a_step_before_sending_is_safe_never_unknown(
    server: ScriptedServer,
    monkeypatch: pytest.MonkeyPatch,
    target: Any,
    name: str,
    failure: Any,
) -> None:
    monkeypatch.setattr(target, name, failure)
    async with tgm.AsyncTelnyx(
        api_key=KEY, base_url=server.base_url, retry=fast_retry(max_attempts=1)
    ) as client:
        with pytest.raises(tgm.APIConnectionError, match="nothing was sent") as info:
            await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")

    assert info.value.outcome is tgm.Outcome.SAFE
    assert classify(info.value) is tgm.Outcome.SAFE
    assert info.value.outcome_unknown is False
    assert server.posts == 0

    # Safe means just that: sending again, the fault gone, sends the message once.
    # (It also lets the server take in a connection the failure opened and dropped at
    # once, before the server stops: asyncio 3.11 leaks one accepted while closing.)
    monkeypatch.undo()
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=server.base_url) as client:
        await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
    assert server.posts == 1


@pytest.mark.parametrize(
    "error",
    [ValueError("x"), TypeError("x"), aiohttp.InvalidURL("x"), aiohttp.NonHttpUrlClientError("x")],
    ids=["ValueError", "TypeError", "InvalidURL", "NonHttpUrlClientError"],
)
def test_a_local_refusal_is_safe_before_the_answer_and_unknown_after_it(error: Exception) -> None:
    before = exchange_error(error, answered=False, timeout=1.0)
    after = exchange_error(error, answered=True, timeout=1.0)

    assert before.outcome is tgm.Outcome.SAFE
    assert after.outcome is tgm.Outcome.UNKNOWN


def test_an_unexpected_exception_during_the_exchange_is_unknown_never_safe() -> None:
    for error in (RuntimeError("x"), KeyError("x"), aiohttp.ServerDisconnectedError()):
        assert exchange_error(error, answered=False, timeout=1.0).outcome is tgm.Outcome.UNKNOWN
