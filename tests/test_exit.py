"""The interpreter exits promptly and silently, whatever the sync client leaves behind.

Each case runs a script in a fresh interpreter (``-X dev``, so that unclosed resources
and unawaited coroutines would be reported) against a server in this process.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from .conftest import FROM, KEY, TO
from .scripted_server import Reply, ScriptedServer

# Far beyond what a clean exit takes (well under a second), far below a hang.
EXIT_BOUND = 30.0

_PRELUDE = f"""
import sys, threading
import telnyx_group_mms as tgm
client = tgm.Telnyx(api_key={KEY!r}, base_url=sys.argv[1])
requests = [
    tgm.GroupMmsRequest(from_={FROM!r}, to={TO!r}, text=f"n{{i}}") for i in range(20)
]
"""


def _run(script: str, server: ScriptedServer) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-X", "dev", "-c", _PRELUDE + textwrap.dedent(script), server.base_url],
        capture_output=True,
        text=True,
        timeout=EXIT_BOUND,
    )


KEPT_ITERATORS = {
    "advanced with next": "results = client.messages.send_many(requests)\nnext(results)\n",
    "broken out of": (
        "results = client.messages.send_many(requests)\nfor result in results:\n    break\n"
    ),
}


@pytest.mark.parametrize("closed", [True, False], ids=["closed", "never closed"])
@pytest.mark.parametrize("kept", KEPT_ITERATORS.values(), ids=KEPT_ITERATORS.keys())
def test_exit_is_prompt_and_silent_with_a_send_many_iterator_still_referenced(
    server: ScriptedServer, kept: str, closed: bool
) -> None:
    script = kept + ("client.close()\n" if closed else "") + "print('done')\n"
    done = _run(script, server)  # a hang is a TimeoutExpired, never a pass

    assert done.returncode == 0, done.stderr
    assert done.stdout == "done\n"
    assert done.stderr == ""


def test_iterating_send_many_after_close_raises_closed_without_starting_a_loop(
    server: ScriptedServer,
) -> None:
    done = _run(
        """
        results = client.messages.send_many(requests)
        client.close()
        try:
            next(results)
        except tgm.TelnyxError as exc:
            print(exc)
        print(sorted(t.name for t in threading.enumerate()))
        """,
        server,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["this client is closed; create a new one", "['MainThread']"]
    assert done.stderr == ""
    assert server.posts == 0


MID_SEND = {
    "send_group_mms": f"client.messages.send_group_mms(from_={FROM!r}, to={TO!r}, text='late')",
    "send_many": "for result in client.messages.send_many(requests[:1]): pass",
}


@pytest.mark.parametrize("call", MID_SEND.values(), ids=MID_SEND.keys())
def test_a_daemon_thread_mid_send_at_exit_prints_nothing(server: ScriptedServer, call: str) -> None:
    # The answer would come long after the exit: the send is cut off in flight.
    server.default = Reply(delay=EXIT_BOUND)
    script = f"""
        def work():
            {call}
            print("completed", flush=True)

        threading.Thread(target=work, daemon=True).start()
        sys.stdin.readline()  # until the request is in flight at the server
        print("exiting", flush=True)
        """
    process = subprocess.Popen(
        [sys.executable, "-X", "dev", "-c", _PRELUDE + textwrap.dedent(script), server.base_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + EXIT_BOUND
    while server.in_flight == 0 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    assert server.in_flight == 1
    stdout, stderr = process.communicate("go\n", timeout=EXIT_BOUND)

    assert process.returncode == 0, stderr
    assert stdout == "exiting\n"
    assert stderr == ""
    assert server.posts == 1
