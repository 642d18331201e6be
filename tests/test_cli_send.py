"""``telnyx-group-mms send``, run as a separate process against a sandbox."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from telnyx_group_mms import __version__
from telnyx_group_mms.sandbox import Sandbox

from .cli_runner import run
from .conftest import FROM, TO


def _send_args(sandbox: Sandbox, *extra: str, key: str = "KEY_cli") -> list[str]:
    args = ["send", "--api-key", key, "--base-url", sandbox.base_url, "--from", FROM]
    for number in TO:
        args += ["--to", number]
    return [*args, *extra]


def test_send_prints_the_message_as_json_with_wire_names(telnyx_sandbox: Sandbox) -> None:
    result = run(*_send_args(telnyx_sandbox, "--text", "Hello"))

    assert result.code == 0, result.stderr
    assert result.stderr == ""
    printed = json.loads(result.stdout)
    (accepted,) = telnyx_sandbox.messages
    assert printed["id"] == accepted.id
    assert printed["from"]["phone_number"] == FROM
    assert [r["phone_number"] for r in printed["to"]] == TO
    assert printed["cost"]["amount"] == str(accepted.cost.amount if accepted.cost else None)


def test_send_passes_every_option_to_the_api(telnyx_sandbox: Sandbox) -> None:
    result = run(
        *_send_args(telnyx_sandbox),
        "--text", "Hi", "--subject", "Subj",
        "--media-url", "https://x.test/a.png", "--media-url", "https://x.test/b.png",
        "--webhook-url", "https://hooks.test/a", "--webhook-failover-url", "https://hooks.test/b",
    )  # fmt: skip

    assert result.code == 0, result.stderr
    assert telnyx_sandbox.requests[0].json() == {
        "from": FROM,
        "to": TO,
        "text": "Hi",
        "subject": "Subj",
        "media_urls": ["https://x.test/a.png", "https://x.test/b.png"],
        "webhook_url": "https://hooks.test/a",
        "webhook_failover_url": "https://hooks.test/b",
    }
    assert telnyx_sandbox.requests[0].headers["Authorization"] == "Bearer KEY_cli"


def test_send_reads_the_key_and_base_url_from_the_environment(telnyx_sandbox: Sandbox) -> None:
    env = {**os.environ, "TELNYX_API_KEY": "KEY_env", "TELNYX_BASE_URL": telnyx_sandbox.base_url}

    result = run("send", "--from", FROM, "--to", TO[0], "--text", "Hi", env=env)

    assert result.code == 0, result.stderr
    assert telnyx_sandbox.requests[0].headers["Authorization"] == "Bearer KEY_env"


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--to", "12", "--text", "Hi"], "invalid --to"),
        (["--to", TO[0]], "invalid --text"),
        (["--to", TO[0], "--text", "Hi", "--media-url", "ftp://x"], "invalid --media-url"),
        (["--to", TO[0], "--to", TO[0], "--text", "Hi"], "invalid --to"),
    ],
)
def test_bad_input_is_one_line_naming_the_option_and_exit_1_with_nothing_sent(
    telnyx_sandbox: Sandbox, args: list[str], named: str
) -> None:
    base = ["send", "--api-key", "k", "--base-url", telnyx_sandbox.base_url, "--from", FROM]

    result = run(*base, *args)

    assert result.code == 1
    assert len(result.error_lines) == 1
    assert result.error_lines[0].startswith(f"Error: {named}: ")
    assert result.stdout == ""
    assert telnyx_sandbox.requests == []


def test_an_api_error_is_one_line_with_status_code_and_request_id_and_exit_1(
    telnyx_sandbox_factory: Callable[..., Sandbox],
) -> None:
    sandbox = telnyx_sandbox_factory(api_key="KEY_right")

    result = run(*_send_args(sandbox, "--text", "Hi", key="KEY_wrong"))

    assert result.code == 1
    (line,) = result.error_lines
    assert line.startswith("Error: Telnyx answered 401 (code 10009)")
    assert "x-request-id" in line
    assert "Traceback" not in result.stderr


def test_a_number_the_sandbox_refuses_is_reported_as_telnyx_said(telnyx_sandbox: Sandbox) -> None:
    result = run(
        "send", "--api-key", "k", "--base-url", telnyx_sandbox.base_url,
        "--from", "+447911123456", "--to", TO[0], "--text", "Hi",
    )  # fmt: skip

    assert result.code == 1
    (line,) = result.error_lines
    assert "400 (code 10002)" in line


def test_an_unreachable_api_is_one_line_and_exit_1() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens there now: every attempt is refused.

    result = run(
        "send", "--api-key", "k", "--base-url", f"http://127.0.0.1:{port}/v2",
        "--from", FROM, "--to", TO[0], "--text", "Hi", "--timeout", "5",
    )  # fmt: skip

    assert result.code == 1
    (line,) = result.error_lines
    assert line.startswith("Error: could not connect")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--to", TO[0], "--text", "Hi"],
            "Error: no API key: pass --api-key or set TELNYX_API_KEY",
        ),
        (
            ["--api-key", "k", "--base-url", "ftp://x", "--to", TO[0], "--text", "Hi"],
            "Error: --base-url 'ftp://x' is not an http(s) URL with a host",
        ),
    ],
    ids=["no key", "bad base url"],
)
def test_a_missing_or_unusable_setting_is_one_line_and_exit_2(
    args: list[str], message: str
) -> None:
    result = run("send", "--from", FROM, *args)

    assert result.code == 2
    assert result.error_lines == [message]


def test_a_missing_required_option_is_a_usage_error_exit_2() -> None:
    result = run("send", "--api-key", "k", "--from", FROM, "--text", "Hi")

    assert result.code == 2
    assert "Missing option '--to'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [[], ["send"], ["sandbox"]], ids=["main", "send", "sandbox"])
def test_every_level_has_help(args: list[str]) -> None:
    result = run(*args, "--help")

    assert result.code == 0
    assert "Usage:" in result.stdout
    assert "--help" in result.stdout


def test_the_main_help_lists_the_commands() -> None:
    result = run("--help")

    assert "send " in result.stdout
    assert "sandbox " in result.stdout


def test_version_prints_the_package_version() -> None:
    result = run("--version")

    assert result.code == 0
    assert result.stdout.strip() == f"telnyx-group-mms, version {__version__}"


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("telnyx-group-mms")
    if not script.exists():
        pytest.skip("the package is not installed with its scripts in this environment")

    done = subprocess.run([script, "--version"], capture_output=True, text=True, check=False)

    assert done.returncode == 0
    assert __version__ in done.stdout
