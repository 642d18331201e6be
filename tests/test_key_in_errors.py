"""The API key appears nowhere an error can be shown: its whole chain, and its frames' locals.

Error trackers and ``pytest --showlocals`` print more than ``str(error)``: every chained
cause and context, their attributes, and the local variables of every frame of every
traceback. aiohttp's errors carry the request's headers (``RequestInfo``), and its
frames hold them as locals; the key travels as a :class:`Secret`, whose ``repr`` is
redacted while its text, on the wire, is the key.
"""

from __future__ import annotations

import gzip
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms._config import Secret
from telnyx_group_mms.sandbox import Fault, Sandbox

from .conftest import FROM, KEY, TO
from .raw_server import RawServer
from .scripted_server import ScriptedServer
from .test_security import FAULTS, _send_once


def _chain(error: BaseException) -> list[BaseException]:
    """The error, and every cause and context it chains to, each once."""
    found: list[BaseException] = []
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop()
        if current is None or any(current is seen for seen in found):
            continue
        found.append(current)
        todo += [current.__cause__, current.__context__]
    return found


_TESTS = str(Path(__file__).parent)


def _frame_locals(error: BaseException) -> list[str]:
    """The locals an error tracker records (``capture_locals``), of every frame of every
    traceback in the chain, but for this test suite's own frames: the key is the test's."""
    found: list[str] = []
    todo = [traceback.TracebackException.from_exception(error, capture_locals=True)]
    while todo:
        captured = todo.pop()
        for frame in captured.stack:
            if not frame.filename.startswith(_TESTS):
                found += [
                    f"{frame.name}: {name} = {value}"
                    for name, value in (frame.locals or {}).items()
                ]
        todo += [c for c in (captured.__cause__, captured.__context__) if c is not None]
    return found


def shown_by(error: BaseException) -> str:
    """All an error tracker could show of an error, frame locals included."""
    texts: list[str] = []
    for link in _chain(error):
        texts += [str(link), repr(link), repr(link.args), repr(getattr(link, "__dict__", {}))]
    texts.append("".join(traceback.format_exception(error)))
    texts += _frame_locals(error)
    return "\n".join(texts)


_OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
MALFORMED: dict[str, list[bytes]] = {
    "broken status line": [b"HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n"],
    "broken header line": [_OK + b"this is no header\r\nContent-Length: 0\r\n\r\n"],
    "bad chunk size": [_OK + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"],
    "bad gzip body": [_OK + b"Content-Encoding: gzip\r\nContent-Length: 5\r\n\r\nabcde"],
    "body shorter than its length": [_OK + b"Content-Length: 100\r\n\r\n{}"],
    "closed mid-headers": [b"HTTP/1.1 200 OK\r\nContent-Ty"],
    "gzip of garbage after a good start": [
        _OK + b"Content-Encoding: gzip\r\nContent-Length: 40\r\n\r\n",
        gzip.compress(b'{"data": {')[:20] + b"x" * 20,
    ],
}


@pytest.fixture
def raw_server() -> Iterator[RawServer]:
    server = RawServer().start()
    yield server
    server.stop()


@pytest.mark.parametrize("sync", [False, True], ids=["async", "sync"])
@pytest.mark.parametrize("answer", MALFORMED.values(), ids=MALFORMED.keys())
def test_no_malformed_answer_shows_the_key_in_the_error_chain_or_frame_locals(
    raw_server: RawServer, answer: list[bytes], sync: bool
) -> None:
    raw_server.answer = lambda: answer
    with pytest.raises(tgm.APIError) as info:
        _send_once(raw_server.base_url, sync=sync)

    assert info.value.outcome is not tgm.Outcome.SAFE  # the request had gone out
    assert KEY not in shown_by(info.value)


@pytest.mark.parametrize("sync", [False, True], ids=["async", "sync"])
@pytest.mark.parametrize("faults", FAULTS.values(), ids=FAULTS.keys())
def test_no_failure_shows_the_key_in_the_error_chain_or_frame_locals(
    telnyx_sandbox: Sandbox, faults: list[Fault], sync: bool
) -> None:
    telnyx_sandbox.faults.script(*faults)
    with pytest.raises(tgm.APIError) as info:
        _send_once(telnyx_sandbox.base_url, sync=sync)

    assert KEY not in shown_by(info.value)


BUILDERS: dict[str, Callable[..., object]] = {"AsyncTelnyx": tgm.AsyncTelnyx, "Telnyx": tgm.Telnyx}


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS.keys())
@pytest.mark.parametrize(
    "base_url", ["http://127.0.0.1:99999/v2", "http://api.telnyx.com/v2", "ftp://x"]
)
def test_a_refused_setting_shows_the_key_in_no_frame_local(
    build: Callable[..., object], base_url: str
) -> None:
    with pytest.raises(tgm.TelnyxError) as info:
        build(api_key=KEY, base_url=base_url)

    assert KEY not in shown_by(info.value)


SHOWLOCALS_TEST = """
import asyncio
import telnyx_group_mms as tgm


def test_a_send_that_meets_a_malformed_answer():
    async def send():
        async with tgm.AsyncTelnyx(api_key={key!r}, base_url={base_url!r}) as client:
            await client.messages.send_group_mms(
                from_="+13125551234", to=["+18655551234"], text="x"
            )

    asyncio.run(send())
"""


def test_pytest_showlocals_of_a_failing_send_shows_no_key(
    pytester: pytest.Pytester, raw_server: RawServer
) -> None:
    raw_server.answer = lambda: MALFORMED["broken status line"]
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_user=SHOWLOCALS_TEST.format(key=KEY, base_url=raw_server.base_url))

    result = pytester.runpytest_subprocess("--showlocals", "--tb=long", "-p", "no:cacheprovider")

    result.assert_outcomes(failed=1)
    output = result.stdout.str() + result.stderr.str()
    assert "headers " in output  # aiohttp's own headers local is shown...
    assert "'<redacted>'" in output  # ...with the key redacted
    assert KEY not in output.replace(repr(KEY), "")  # the test's own source line aside


async def test_the_key_goes_on_the_wire_as_given(server: ScriptedServer) -> None:
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=server.base_url) as client:
        await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")

    (seen,) = server.seen
    assert seen.headers["Authorization"] == f"Bearer {KEY}"


def test_a_secret_is_its_text_everywhere_but_in_repr() -> None:
    secret = Secret(KEY)
    assert str(secret) == f"{secret}" == KEY
    assert secret == KEY
    assert repr(secret) == repr([secret])[1:-1] == "'<redacted>'"
