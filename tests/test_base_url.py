"""The base URL is checked in full when a client is built, never found wanting at a send.

A URL no request can be sent to would otherwise fail every send after the fact, each
failure reported as "the message may have been sent" though nothing left the machine.
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path

import pytest

import telnyx_group_mms as tgm

from .cli_runner import run
from .conftest import FROM, KEY, TO

IMPOSSIBLE = {
    "port out of range": "http://127.0.0.1:99999/v2",
    "port not a number": "http://127.0.0.1:abc/v2",
    "port 0": "http://127.0.0.1:0/v2",
    "bracket left open": "http://[::1/v2",
    "query": "http://127.0.0.1:8000/v2?debug=1",
    "fragment": "https://api.telnyx.com/v2#top",
    "empty query": "https://api.telnyx.com/v2?",
    "space": "https://api.telnyx.com /v2",
    "line break": "https://api.telnyx.com/v2\n",
    "empty label": "https://api..telnyx.com/v2",
    "escaped host": "https://api%2Etelnyx.com/v2",
    "no host": "https://:443/v2",
}


@pytest.mark.parametrize("url", IMPOSSIBLE.values(), ids=IMPOSSIBLE.keys())
def test_an_impossible_base_url_is_refused_at_construction_naming_base_url(url: str) -> None:
    with pytest.raises(tgm.TelnyxError, match=r"^base_url '") as info:
        tgm.AsyncTelnyx(api_key=KEY, base_url=url)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("url", IMPOSSIBLE.values(), ids=IMPOSSIBLE.keys())
def test_an_impossible_base_url_from_the_environment_is_refused_naming_the_variable(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELNYX_BASE_URL", url)
    with pytest.raises(tgm.TelnyxError, match=r"^TELNYX_BASE_URL '"):
        tgm.Telnyx(api_key=KEY)


CREDENTIALS = [
    "http://alice:s3cret@127.0.0.1:8000/v2",
    "https://alice:s3cret@api.telnyx.com/v2",
    "http://:s3cret@localhost/v2",
    "https://s3cret@api.telnyx.com/v2",
    "https://alice:s3cret@api.telnyx.com:99999/v2",
    "https://alice:s3c?ret@api.telnyx.com/v2",
]


@pytest.mark.parametrize("url", CREDENTIALS)
def test_credentials_in_the_base_url_are_refused_and_never_shown(url: str) -> None:
    for cls in (tgm.AsyncTelnyx, tgm.Telnyx):
        with pytest.raises(tgm.TelnyxError, match=r"^base_url '") as info:
            cls(api_key=KEY, base_url=url)
        shown = "".join(traceback.format_exception(info.value))
        assert "s3c" not in shown
        assert "alice" not in shown


@pytest.mark.parametrize(
    "url",
    [
        "https://api.telnyx.com/v2/",
        "https://api.telnyx.com:8443/v2",
        "http://127.0.0.1:1/v2",
        "http://[::1]:65535/v2",
        "https://internal_host.example/v2",
        "https://bücher.example/v2",
        "https://api.telnyx.com./v2",
    ],
)
def test_every_usable_base_url_is_accepted(url: str) -> None:
    assert tgm.AsyncTelnyx(api_key=KEY, base_url=url).base_url == url.rstrip("/")


def _send(*args: str, env: dict[str, str] | None = None) -> list[str]:
    result = run("send", "--from", FROM, "--to", TO[0], "--text", "Hi", *args, env=env)
    assert result.code == 2
    assert result.stdout == ""
    return result.error_lines


@pytest.mark.parametrize("url", IMPOSSIBLE.values(), ids=IMPOSSIBLE.keys())
def test_send_exits_2_naming_the_option_for_an_impossible_base_url(url: str) -> None:
    (line,) = _send("--api-key", KEY, "--base-url", url)
    assert line.startswith("Error: --base-url '")


def test_send_exits_2_naming_the_variable_for_a_bad_base_url_from_the_environment() -> None:
    env = {**os.environ, "TELNYX_API_KEY": KEY, "TELNYX_BASE_URL": "http://127.0.0.1:99999/v2"}
    assert _send(env=env) == [
        "Error: TELNYX_BASE_URL 'http://127.0.0.1:99999/v2' has a port that is not a number "
        "from 1 to 65535"
    ]


def test_send_exits_2_for_credentials_in_the_base_url_without_showing_them() -> None:
    (line,) = _send("--api-key", KEY, "--base-url", "http://user:s3cret@127.0.0.1:9/v2")
    assert line.startswith("Error: --base-url 'http://***@127.0.0.1:9/v2' holds a user name")
    assert "s3cret" not in line


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:99999/v2", "'http://127.0.0.1:99999/v2' has a port"),
        ("http://user:s3cret@127.0.0.1:9/v2", "'http://***@127.0.0.1:9/v2' holds a user name"),
    ],
    ids=["port", "credentials"],
)
def test_bulk_exits_2_for_a_bad_base_url_before_a_ledger_row_is_written(
    tmp_path: Path, url: str, shown: str
) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text(f'{{"from": "{FROM}", "to": ["{TO[0]}"], "text": "Hi"}}\n')
    result = run("bulk", str(rows), "--api-key", KEY, "--base-url", url)
    assert result.code == 2
    (line,) = result.error_lines
    assert line.startswith(f"Error: --base-url {shown}")
    assert "s3cret" not in result.stderr
    assert not (tmp_path / "rows.jsonl.ledger.sqlite").exists()
