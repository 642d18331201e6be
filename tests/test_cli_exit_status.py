"""Exit statuses: "outcome unknown" (3) is never a plain failure (1) a shell loop would retry."""

from __future__ import annotations

import shlex
import subprocess
import sys

import pytest

from telnyx_group_mms import _exit_status as exit_status
from telnyx_group_mms.sandbox import Fault, Sandbox

from .cli_runner import run
from .conftest import FROM, KEY, TO


def _send(sandbox: Sandbox) -> list[str]:
    return [
        "send", "--api-key", KEY, "--base-url", sandbox.base_url,
        "--from", FROM, "--to", TO[0], "--text", "Hi",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "fault",
    [Fault.status(500), Fault.status(502), Fault.status(504), Fault.drop()],
    ids=["500", "502", "504", "dropped after the request was read"],
)
def test_send_says_the_message_may_have_gone_out_and_exits_3(
    telnyx_sandbox: Sandbox, fault: Fault
) -> None:
    telnyx_sandbox.faults.script(fault)

    result = run(*_send(telnyx_sandbox))

    assert result.code == exit_status.OUTCOME_UNKNOWN == 3
    (line,) = result.error_lines
    assert line.startswith("Error: the message may have been sent: ")
    assert line.endswith("before sending it again")
    assert "Traceback" not in result.stderr
    # Not retried: the default policy never resends what may have gone out.
    assert telnyx_sandbox.request_count == 1


def test_send_exits_1_when_telnyx_certainly_took_nothing(telnyx_sandbox: Sandbox) -> None:
    # 503 is answered before Telnyx takes the message in: safe, retried, then a failure.
    telnyx_sandbox.faults.script(Fault.status(503), Fault.status(503), Fault.status(503))

    result = run(*_send(telnyx_sandbox))

    assert result.code == exit_status.FAILURE
    (line,) = result.error_lines
    assert "may have been sent" not in line
    assert line.startswith("Error: Telnyx answered 503")


def test_a_shell_loop_retrying_on_status_1_does_not_resend_an_unknown_outcome(
    telnyx_sandbox: Sandbox,
) -> None:
    # The loop a user would write: try again while the command fails with 1.
    telnyx_sandbox.faults.script(Fault.status(502))
    command = shlex.join([sys.executable, "-m", "telnyx_group_mms", *_send(telnyx_sandbox)])
    script = f"for i in 1 2 3; do {command} 2>/dev/null; s=$?; [ $s -eq 1 ] || exit $s; done"

    done = subprocess.run(["sh", "-c", script], capture_output=True, timeout=60, check=False)

    assert done.returncode == 3
    # With 1 for an unknown outcome, the second try would have been sent (and accepted).
    assert telnyx_sandbox.request_count == 1


@pytest.mark.parametrize(
    ("command", "statuses"),
    [
        ("send", ["0", "1", "2", "3"]),
        ("bulk", ["0", "1", "2", "3", "130"]),
    ],
)
def test_help_documents_every_exit_status(command: str, statuses: list[str]) -> None:
    result = run(command, "--help")

    assert result.code == 0
    text = result.stdout
    section = text[text.index("Exit status:") :]
    listed = [line.split()[0] for line in section.splitlines()[1:] if line[:6].strip().isdigit()]
    assert listed == statuses
    assert "outcome unknown" in section or "outcome is unknown" in section
