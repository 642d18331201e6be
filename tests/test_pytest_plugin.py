"""The ``telnyx_sandbox`` fixture, used from a test file as a user would use it."""

from __future__ import annotations

import subprocess
import sys

import pytest

USER_TESTS = """
import pytest
from telnyx_group_mms import AsyncTelnyx, AuthenticationError, Telnyx

FROM, TO = "+13125551234", ["+18655551234", "+14155551234"]


def test_a_sync_test_sends_through_the_fixture(telnyx_sandbox):
    with Telnyx(api_key="test", base_url=telnyx_sandbox.base_url) as client:
        message = client.messages.send_group_mms(from_=FROM, to=TO, text="hi")
    assert [m.id for m in telnyx_sandbox.messages] == [message.id]


async def test_an_async_test_sends_through_the_fixture(telnyx_sandbox):
    async with AsyncTelnyx(api_key="test", base_url=telnyx_sandbox.base_url) as client:
        message = await client.messages.send_group_mms(from_=FROM, to=TO, text="hi")
    assert [m.id for m in telnyx_sandbox.messages] == [message.id]


def test_each_test_gets_a_fresh_sandbox(telnyx_sandbox):
    assert telnyx_sandbox.messages == []


def test_the_factory_takes_sandbox_settings(telnyx_sandbox_factory):
    sandbox = telnyx_sandbox_factory(api_key="secret")
    with Telnyx(api_key="wrong", base_url=sandbox.base_url) as client:
        with pytest.raises(AuthenticationError):
            client.messages.send_group_mms(from_=FROM, to=TO, text="hi")
"""

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
filterwarnings = error
"""


def test_a_users_test_file_gets_a_running_sandbox_with_no_setup(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_user=USER_TESTS)

    # A subprocess, so the plugin is found the way a user's pytest finds it: its entry point.
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")

    result.assert_outcomes(passed=4)


def test_the_fixtures_are_listed_with_their_documentation(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider")

    result.stdout.fnmatch_lines(["*telnyx_sandbox*", "*A running sandbox*"])


def test_loading_the_plugin_imports_no_sandbox_or_web_server() -> None:
    code = (
        "import sys, telnyx_group_mms.pytest_plugin; "
        "print(sorted(m for m in ('telnyx_group_mms.sandbox', 'aiohttp.web') if m in sys.modules))"
    )

    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout

    assert out.strip() == "[]"
