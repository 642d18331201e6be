"""A request's URLs are well formed or refused: what is accepted, any URL parser can read."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
import yarl
from hypothesis import HealthCheck, given, settings, strategies as st

import telnyx_group_mms as tgm
from telnyx_group_mms import _url_checks as url_checks
from telnyx_group_mms._url_checks import http_url_problem, is_loopback_host

from .conftest import FROM, TO
from .test_fuzz_core import is_http_url

URL_FIELDS = ["webhook_url", "webhook_failover_url", "media_urls"]


def _request(field: str, url: str) -> tgm.GroupMmsRequest:
    value: Any = [url] if field == "media_urls" else url
    return tgm.GroupMmsRequest(from_=FROM, to=TO, text="Hello", **{field: value})


MALFORMED = [
    pytest.param("http://[::1/x", "cannot be parsed", id="unclosed bracket"),
    pytest.param("http://::1]/x", "cannot be parsed", id="unopened bracket"),
    pytest.param("http://[::1]x/hooks", "text after its bracketed host", id="text after bracket"),
    pytest.param("http://[zz]/", "cannot be parsed", id="bracketed non-address"),
    pytest.param("http://[127.0.0.1]/", "cannot be parsed", id="bracketed IPv4"),
    pytest.param("http://[v1.x]/", "not an IPv6 address", id="bracketed IPvFuture"),
    pytest.param("http://[fe80::1%25eth0]/", "not an IPv6 address", id="IPv6 zone"),
    pytest.param("http://example.com:99999/", "port", id="port out of range"),
    pytest.param("http://example.com:abc/", "port", id="port not a number"),
    pytest.param("http://example.com:+80/", "port", id="port with a sign"),
    pytest.param("http://example.com:0/", "port 0", id="port zero"),
    pytest.param("http://user:pass@example.com/", "user name or password", id="credentials"),
    pytest.param("http://exa<mple>.com/", "not a host name", id="angle brackets in host"),
    pytest.param("http://a..b/", "not a host name", id="empty label"),
    pytest.param("http://" + "a" * 64 + ".com/", "not a host name", id="label too long"),
    pytest.param("http://example.com/a\x00b", "control character", id="NUL in path"),
    pytest.param("http://example.com/a\x7fb", "control character", id="DEL in path"),
    pytest.param("http:/example.com/", "not an http(s) URL", id="one slash"),
    pytest.param("https:example.com", "not an http(s) URL", id="no slashes"),
]


@pytest.mark.parametrize("field", URL_FIELDS)
@pytest.mark.parametrize(("url", "problem"), MALFORMED)
def test_a_malformed_url_is_refused_naming_the_field_and_the_problem(
    field: str, url: str, problem: str
) -> None:
    with pytest.raises(tgm.RequestValidationError) as info:
        _request(field, url)

    assert info.value.field == (f"{field}[0]" if field == "media_urls" else field)
    assert problem in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/hooks",
        "HTTPS://EXAMPLE.COM/a.png",
        "http://127.0.0.1:8080/hooks?token=x#frag",
        "http://[::1]:8080/hooks",
        "http://[2001:db8::1]/",
        "http://[::1]:/",
        "https://example.com.:443/",
        "https://bücher.example/bild.png",
        "https://cdn_1.example.com/a",
    ],
)
def test_a_well_formed_url_is_accepted_unchanged(url: str) -> None:
    assert _request("webhook_url", url).webhook_url == url
    assert _request("media_urls", url).media_urls == (url,)


# Characters that make or break an authority, so that random URLs meet the edge cases.
_AUTHORITY_CHARS = st.sampled_from([*"[]:@/?#.%-_ aZ09\\", "\t", "\u00e9", "\uff03", "\uff11"])
_urls = st.builds(
    "".join,
    st.tuples(
        st.sampled_from(["http://", "https://", "HTTP://", "http:/", "ftp://"]),
        st.lists(_AUTHORITY_CHARS, max_size=14).map("".join),
        st.text(max_size=8),
    ),
)


@settings(max_examples=1000, suppress_health_check=[HealthCheck.too_slow])
@given(url=_urls)
def test_every_url_accepted_is_read_alike_by_urllib_and_by_yarl(url: str) -> None:
    try:
        request = _request("webhook_url", url)
    except tgm.RequestValidationError:
        return
    assert request.webhook_url == url
    parts = urlsplit(url)
    parsed = yarl.URL(url)
    assert parts.hostname
    assert parsed.scheme in ("http", "https")
    assert parsed.host
    assert parts.port == parsed.explicit_port
    assert parts.port is None or 1 <= parts.port <= 65535


@settings(max_examples=1000, suppress_health_check=[HealthCheck.too_slow])
@given(url=st.from_regex(url_checks._PLAIN_URL, fullmatch=True))
def test_the_fast_reading_of_common_urls_agrees_with_the_rules(url: str) -> None:
    # Every send with URLs takes the fast path; it must never accept what the rules refuse.
    assert (http_url_problem(url) is None) == is_http_url(url)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("192.168.1.5", False),
        ("127.0.0.1.example.com", False),
        ("localhost.example.com", False),
    ],
)
def test_loopback_hosts_are_told_from_the_rest_without_resolving_names(
    host: str, loopback: bool
) -> None:
    assert is_loopback_host(host) is loopback
