"""Whether a URL is a well-formed http(s) URL, and whether a host is loopback.

Both use only the standard library (``urllib.parse``, ``ipaddress``), so the request
model, the sandbox and the settings can share one reading of a URL.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

__all__ = ["http_url_problem", "is_loopback_host"]

# Host names as DNS spells them: letters and digits (any script: an internationalised
# name), hyphens and underscores, between dots.
_HOST_PUNCTUATION = frozenset("-_")
_MAX_HOST = 253
_MAX_LABEL = 63
# The common case, read by one regular expression: printable ASCII, a DNS name of ASCII
# labels, no port. It accepts only what the full reading below accepts (a test holds it
# to that), and saves that reading's cost on every send that carries URLs. Up to this
# length the host cannot exceed its 253 characters.
_PLAIN_URL = re.compile(r"https?://(?:[\w-]{1,63}\.)*[\w-]{1,63}\.?(?:[/?#][!-~]*)?", re.I | re.A)
_PLAIN_URL_MAX = 260


def http_url_problem(url: str) -> str | None:
    """Why ``url`` is not a well-formed absolute http(s) URL, or ``None`` when it is.

    Well formed means: ``http`` or ``https``; a host, either a DNS name or an IP address
    (IPv6 in brackets, nothing but a port after them); a port, if any, from 1 to 65535;
    no user name or password; no space or control character anywhere; valid Unicode.

    Returns:
        A short phrase to follow the URL in an error message (``"has no host"``).
    """
    if len(url) <= _PLAIN_URL_MAX and _PLAIN_URL.fullmatch(url) is not None:
        return None
    return _problem_read_in_full(url)


def _problem_read_in_full(url: str) -> str | None:
    try:
        url.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text"
    if any(c.isspace() or _is_control(c) for c in url):
        return "has a space or a control character in it"
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # an unbalanced or invalid bracketed host
        return f"cannot be parsed ({exc})"
    if parts.scheme not in ("http", "https") or not url[len(parts.scheme) :].startswith("://"):
        return "is not an http(s) URL"
    if "@" in parts.netloc:
        return "has a user name or password in it"
    host = parts.hostname
    if not host:
        return "has no host"
    if parts.netloc.startswith("["):
        # urllib reads "[::1]junk" as host ::1 and ignores the rest; only a port may follow.
        after = parts.netloc.partition("]")[2]
        if after and not after.startswith(":"):
            return "has text after its bracketed host"
        if not _is_ipv6(host):
            return "has a bracketed host that is not an IPv6 address"
    elif not _is_host_name(host):
        return "has a host that is not a host name or an IP address"
    try:
        port = parts.port
    except ValueError:
        return "has a port that is not a number from 1 to 65535"
    if port == 0:
        return "has port 0, which nothing listens on"
    return None


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ``::1``), brackets or not.

    A name is not resolved: ``127.0.0.1.example.com`` is not loopback.
    """
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_control(c: str) -> bool:
    # Unicode's "Cc" category: C0, DEL and C1.
    return c < " " or "\x7f" <= c <= "\x9f"


def _is_ipv6(host: str) -> bool:
    if "%" in host:  # a zone ("fe80::1%eth0") names an interface of one machine only
        return False
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return True


def _is_host_name(host: str) -> bool:
    if len(host) > _MAX_HOST:
        return False
    labels = host.removesuffix(".").split(".")  # one trailing dot: a fully qualified name
    return all(
        0 < len(label) <= _MAX_LABEL and all(c.isalnum() or c in _HOST_PUNCTUATION for c in label)
        for label in labels
    )
