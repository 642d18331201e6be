"""The ``telnyx_sandbox`` fixture, used from a test file as a user would use it."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

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


README = Path(__file__).resolve().parent.parent / "README.md"


def readme_pytest_example() -> str:
    """The first Python block of the README's section on the pytest fixture, verbatim."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Testing your code with the sandbox", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the README's pytest section has no Python example"
    return match.group(1)


@pytest.mark.parametrize(
    "config",
    [None, "[pytest]\nasyncio_mode = auto\n"],
    ids=["no-pytest-configuration", "asyncio-mode-auto"],
)
def test_the_readme_example_passes_as_copied_into_a_project(
    pytester: pytest.Pytester, config: str | None
) -> None:
    # pytester's directory lies outside this repository: none of its configuration (its
    # asyncio_mode = auto above all) applies, as in a user's project.
    assert not Path(pytester.path).resolve().is_relative_to(README.parent)
    example = readme_pytest_example()
    if config is not None:
        pytester.makeini(config)
    pytester.makepyfile(test_readme_example=example)
    tests = [
        node.name
        for node in ast.parse(example).body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    ]

    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")

    assert any(isinstance(node, ast.AsyncFunctionDef) for node in ast.parse(example).body)
    result.assert_outcomes(passed=len(tests))
