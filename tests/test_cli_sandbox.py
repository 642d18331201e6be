"""``telnyx-group-mms sandbox``, run as a separate process until it is interrupted."""

from __future__ import annotations

import re
import signal

import pytest
from click.testing import CliRunner

import telnyx_group_mms as tgm
from telnyx_group_mms._numbers import TOLL_FREE_PREFIXES
from telnyx_group_mms.cli import main
from telnyx_group_mms.cli._sandbox import announcement
from telnyx_group_mms.sandbox import Sandbox

from .cli_runner import Server, run
from .conftest import FROM, TO, fast_retry
from .fanout_support import wait_until
from .scripted_server import Reply, ScriptedServer
from .wire_client import control


def _announced(server: Server) -> dict[str, str]:
    """What the command printed before serving: its address line and export lines."""
    lines = [server.readline() for _ in range(3)]
    assert lines[0] is not None
    assert lines[0].startswith("Telnyx sandbox listening at http://127.0.0.1:")
    found = dict(re.findall(r"export (TELNYX_\w+)=(\S+)", "\n".join(filter(None, lines))))
    assert set(found) == {"TELNYX_BASE_URL", "TELNYX_PUBLIC_KEY"}
    return found


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl-C", "SIGTERM"])
def test_the_sandbox_command_serves_until_interrupted_then_stops_cleanly(
    stop: signal.Signals,
) -> None:
    server = Server(["sandbox", "--port", "0"])
    try:
        announced = _announced(server)
        with tgm.Telnyx(api_key="k", base_url=announced["TELNYX_BASE_URL"]) as client:
            message = client.messages.send_group_mms(from_=FROM, to=TO, text="hi")
    finally:
        server.process.send_signal(stop)
        result = server.finish()

    assert message.to[0].status == tgm.RecipientStatus.QUEUED
    assert result.code == 0
    assert result.stderr.strip() == "Sandbox stopped."


def test_the_sandbox_command_takes_key_faults_and_rate_settings() -> None:
    server = Server(
        ["sandbox", "--port", "0", "--api-key", "secret", "--fault-rate", "503=1", "--seed", "1"]
    )
    try:
        base_url = _announced(server)["TELNYX_BASE_URL"]
        with (
            tgm.Telnyx(api_key="other", base_url=base_url) as client,
            pytest.raises(tgm.AuthenticationError),
        ):
            client.messages.send_group_mms(from_=FROM, to=TO, text="hi")
        retry = fast_retry(max_attempts=1)
        with (
            tgm.Telnyx(api_key="secret", base_url=base_url, retry=retry) as client,
            pytest.raises(tgm.InternalServerError) as caught,
        ):
            client.messages.send_group_mms(from_=FROM, to=TO, text="hi")
    finally:
        server.process.send_signal(signal.SIGINT)
        assert server.finish().code == 0

    assert caught.value.status_code == 503


def test_the_sandbox_command_applies_the_rate_limit() -> None:
    server = Server(["sandbox", "--port", "0", "--mps", "1"])
    try:
        base_url = _announced(server)["TELNYX_BASE_URL"]
        retry = fast_retry(max_attempts=1)
        with tgm.Telnyx(api_key="k", base_url=base_url, retry=retry) as client:
            errors = []
            # One of two back-to-back sends in the same second is over a 1/s limit; a
            # stall across a window boundary is allowed for by sending three.
            for _ in range(3):
                try:
                    client.messages.send_group_mms(from_=FROM, to=TO, text="hi")
                except tgm.RateLimitError as exc:
                    errors.append(exc)
    finally:
        server.process.send_signal(signal.SIGINT)
        server.finish()

    assert errors
    assert errors[0].code == "10011"


def test_the_sandbox_command_queues_per_sender_and_refuses_a_full_queue_with_40318() -> None:
    server = Server(
        ["sandbox", "--port", "0", "--long-code-mps", "0.001", "--max-queue-seconds", "1000"]
    )
    try:
        base_url = _announced(server)["TELNYX_BASE_URL"]
        retry = fast_retry(max_attempts=1)
        with tgm.Telnyx(api_key="k", base_url=base_url, retry=retry) as client:
            first = client.messages.send_group_mms(from_=FROM, to=TO, text="hi")
            # One message per 1000 s of real time, and a queue that holds one.
            with pytest.raises(tgm.RateLimitError) as caught:
                client.messages.send_group_mms(from_=FROM, to=TO, text="hi")
        stats = control(base_url, "stats", key="k").json()["data"]
    finally:
        server.process.send_signal(signal.SIGINT)
        assert server.finish().code == 0

    assert first.wait_seconds == 0.0
    assert (caught.value.code, caught.value.outcome) == ("40318", tgm.Outcome.SAFE)
    assert (stats["requests"], stats["accepted"]) == (2, 1)


def test_the_sandbox_command_serves_its_record_and_keeps_max_history_messages() -> None:
    server = Server(["sandbox", "--port", "0", "--api-key", "secret", "--max-history", "2"])
    try:
        base_url = _announced(server)["TELNYX_BASE_URL"]
        with tgm.Telnyx(api_key="secret", base_url=base_url) as client:
            for i in range(3):
                client.messages.send_group_mms(from_=FROM, to=TO, text=f"hi {i}")
        stats = control(base_url, "stats", key="secret").json()["data"]
        listed = control(base_url, "messages", key="secret").json()
        refused = control(base_url, "stats", key="other").status
    finally:
        server.process.send_signal(signal.SIGINT)
        assert server.finish().code == 0

    assert stats == {"requests": 3, "accepted": 3, "in_flight": 0, "faults": {}}
    assert [m["text"] for m in listed["data"]] == ["hi 1", "hi 2"]
    assert refused == 401


def test_the_sandbox_command_keeps_at_most_max_history_bytes_of_messages() -> None:
    # 2,000 bytes hold one record of a few bytes' content plus its 1 KiB, not two.
    server = Server(["sandbox", "--port", "0", "--max-history-bytes", "2000"])
    try:
        base_url = _announced(server)["TELNYX_BASE_URL"]
        with tgm.Telnyx(api_key="k", base_url=base_url) as client:
            for i in range(3):
                client.messages.send_group_mms(from_=FROM, to=TO, text=f"hi {i}")
        listed = control(base_url, "messages", key="k").json()
    finally:
        server.process.send_signal(signal.SIGINT)
        assert server.finish().code == 0

    assert [m["text"] for m in listed["data"]] == ["hi 2"]


def test_the_sandbox_command_prints_a_line_per_failed_webhook_attempt(
    server: ScriptedServer,
) -> None:
    # message.sent fails three times, message.finalized twice then arrives: its arrival
    # shows that the five failures before it have been reported.
    server.push(*[Reply(status=500)] * 5)
    hooks = server.base_url + "/hooks?token=s3cret"
    sandbox = Server(["sandbox", "--port", "0", "--webhook-url", hooks])
    try:
        base_url = _announced(sandbox)["TELNYX_BASE_URL"]
        with tgm.Telnyx(api_key="k", base_url=base_url) as client:
            client.messages.send_group_mms(from_=FROM, to=[TO[0]], text="hi")
        wait_until(lambda: server.posts == 6, within=30)
    finally:
        sandbox.process.send_signal(signal.SIGINT)
        result = sandbox.finish()

    failed = [line for line in result.error_lines if "failed" in line]
    assert len(failed) == 5
    assert all(line.startswith("sandbox webhook message.") for line in failed)
    assert all("answered 500" in line and server.base_url + "/hooks" in line for line in failed)
    assert not any(TO[0] in line or "s3cret" in line for line in failed)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.5", "lan.example"])
def test_listening_beyond_loopback_without_an_api_key_is_a_one_line_usage_error(
    host: str,
) -> None:
    result = run("sandbox", "--host", host, "--port", "0")

    assert result.code == 2
    (line,) = result.error_lines
    assert line.startswith(f"Error: --api-key is required with --host {host}: ")


def test_on_every_interface_it_prints_a_base_url_the_client_accepts_and_needs_the_key() -> None:
    server = Server(["sandbox", "--host", "0.0.0.0", "--port", "0", "--api-key", "secret"])
    try:
        lines = [server.readline() or "" for _ in range(8)]
        found = dict(re.findall(r"export (TELNYX_\w+)=(\S+)", "\n".join(lines)))
        base_url = found["TELNYX_BASE_URL"]
        with tgm.Telnyx(api_key="secret", base_url=base_url) as client:
            message = client.messages.send_group_mms(from_=FROM, to=TO, text="hi")
        wrong_key = control(base_url, "messages", key="any-other").status
    finally:
        server.process.send_signal(signal.SIGINT)
        assert server.finish().code == 0

    assert lines[0].startswith("Telnyx sandbox listening on every interface (0.0.0.0), port ")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v2", base_url)
    assert "clear text" in "\n".join(lines)
    assert message.to[0].status == tgm.RecipientStatus.QUEUED
    assert wrong_key == 401


def test_on_another_address_it_prints_a_tunnel_and_the_loopback_url_at_its_near_end() -> None:
    box = Sandbox(host="192.0.2.5", port=8765, api_key="secret")  # not started

    lines = announcement(box)

    assert lines[0] == "Telnyx sandbox listening on 192.0.2.5, port 8765 (Ctrl-C to stop)"
    assert "  #   ssh -N -L 8765:192.0.2.5:8765 THIS_HOST" in lines
    assert "  export TELNYX_BASE_URL=http://127.0.0.1:8765/v2" in lines
    assert all(line.startswith("  # ") for line in lines[1:-2])  # harmless if pasted
    tgm.Telnyx(api_key="secret", base_url="http://127.0.0.1:8765/v2").close()


def test_a_port_in_use_is_one_line_and_exit_1() -> None:
    with Sandbox() as taken:
        result = run("sandbox", "--port", str(taken.port))

    assert result.code == 1
    (line,) = result.error_lines
    assert line.startswith(f"Error: cannot listen on http://127.0.0.1:{taken.port}/v2")


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--fault-rate", "boom=0.1"], "unknown fault 'boom'"),
        (["--fault-rate", "503"], "expected FAULT=RATE"),
        (["--fault-rate", "503=0.7", "--fault-rate", "drop=0.7"], "add up to more than 1"),
        (["--mps", "0"], "--mps"),
        (["--max-history", "0"], "--max-history"),
        (["--max-history-bytes", "0"], "--max-history-bytes"),
        (["--delivery-failure-rate", "2"], "--delivery-failure-rate"),
        (["--long-code-mps", "0"], "--long-code-mps"),
        (["--time-scale", "-1"], "--time-scale"),
        (["--sender-mps", "+13125551234"], "expected NUMBER=MPS"),
        (["--sender-mps", "3125551234=1"], "keys must be +E.164 numbers"),
        (["--max-queue-seconds", "5"], "every message would be refused"),
        (["--toll-free-mps", "inf"], "--toll-free-mps must be a positive number"),
        (["--long-code-mps", "nan"], "--long-code-mps must be a positive number"),
        (["--time-scale", "inf"], "--time-scale must be a positive number"),
        (["--sender-mps", "3125551234=1"], "--sender-mps keys must be +E.164"),
    ],
)
def test_bad_sandbox_settings_are_usage_errors(args: list[str], complaint: str) -> None:
    result = run("sandbox", "--port", "0", *args)

    assert result.code == 2
    assert complaint in result.stderr
    assert "Traceback" not in result.stderr


def test_the_help_names_exactly_the_area_codes_the_queues_treat_as_toll_free() -> None:
    # Not "+1 8XX": +1 822 and +1 899, say, are long codes to the queues.
    help_text = " ".join(CliRunner().invoke(main, ["sandbox", "--help"]).output.split())
    area_codes = "/".join(prefix.removeprefix("+1") for prefix in TOLL_FREE_PREFIXES)

    assert f"toll-free number (+1 {area_codes}) sends" in help_text
