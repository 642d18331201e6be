"""Client settings, resolved once from arguments and the environment."""

from __future__ import annotations

import hashlib
import os
import platform
import re
from urllib.parse import urlsplit

import attrs

from ._url_checks import http_url_problem, is_loopback_host
from ._version import __version__
from .errors import TelnyxError
from .retry import RetryPolicy

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_KEEPALIVE_EXPIRY",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "ClientConfig",
    "check_base_url",
    "resolve_config",
]

#: Telnyx's API, used when neither ``base_url`` nor ``TELNYX_BASE_URL`` is set.
DEFAULT_BASE_URL = "https://api.telnyx.com/v2"
USER_AGENT = f"telnyx-group-mms/{__version__} Python/{platform.python_version()}"
#: Idle pooled connections are retired after this many seconds: well before the idle
#: timeouts of common servers and load balancers (60-75 s), so that a send rarely goes
#: out on a connection the server is closing, which would make its outcome unknown.
DEFAULT_KEEPALIVE_EXPIRY = 5.0
#: A response body larger than this is refused without being read in full.
DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024


class Secret(str):
    """Text whose ``repr`` hides it: the API key, and the header that carries it.

    It is a ``str`` (aiohttp writes it to the wire unchanged), but every ``repr`` of it,
    and so of any container, exception or traceback frame that holds it (aiohttp's
    ``RequestInfo`` headers, ``capture_locals``, ``pytest --showlocals``), shows
    ``'<redacted>'``. Only ``str()`` and formatting give the text itself.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<redacted>'"


@attrs.frozen(kw_only=True)
class ClientConfig:
    """Everything a client needs, validated. The key never appears in ``repr``."""

    api_key: str = attrs.field(repr=False, converter=Secret)
    base_url: str
    timeout: float
    retry: RetryPolicy
    max_connections: int
    keepalive_expiry: float
    max_response_bytes: int

    @property
    def scope(self) -> str:
        """A digest of the API key: what shared records and limits are kept under, so that
        two accounts never mix and no store holds the key itself."""
        return hashlib.sha256(f"telnyx-group-mms:{self.api_key}".encode()).hexdigest()[:32]

    def headers(self) -> dict[str, str]:
        """The headers every request carries."""
        return {
            "Authorization": Secret(f"Bearer {self.api_key}"),
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }


_USERINFO = re.compile(r"^([^:/?#]*://)[^/]*@")
_QUERY_OR_FRAGMENT = re.compile(r"[?#].*", re.DOTALL)


def _shown(url: str) -> str:
    """The URL as an error may quote it: never a user name, password, query or fragment."""
    return _QUERY_OR_FRAGMENT.sub("?...", _USERINFO.sub(r"\1***@", url))


def check_base_url(url: str, *, setting: str = "base_url") -> str:
    """The base URL, without a trailing slash, if a request can be sent to it.

    Everything a request to it needs is checked here, once, so that no send can fail
    on it later (a failure then would leave the message's fate unknown): an http(s)
    scheme, a host, a port from 1 to 65535, no user name or password, no query or
    fragment, no space or control character, and plain ``http`` only on loopback.

    Args:
        url: The URL to check.
        setting: How the caller names it in errors (``base_url``, ``TELNYX_BASE_URL``,
            ``--base-url``).

    Raises:
        TelnyxError: One line naming ``setting``; it never quotes a user name,
            password, query or fragment.
    """
    shown = f"{setting} {_shown(url)!r}"
    if any(c.isspace() or not c.isprintable() for c in url):
        raise TelnyxError(f"{shown} contains a space or a control character")
    # urllib's own messages are not quoted: they may echo part of a password.
    try:
        parts = urlsplit(url)
    except ValueError:
        raise TelnyxError(f"{shown} is not a valid URL (a '[' left open?)") from None
    try:
        port = parts.port
    except ValueError:  # out of range, or not a number
        port = 0
    if port == 0:
        raise TelnyxError(f"{shown} has a port that is not a number from 1 to 65535")
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise TelnyxError(f"{shown} is not an http(s) URL with a host")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise TelnyxError(
            f"{shown} is plain http off loopback; the API key would travel in clear "
            "text. Use https (plain http is allowed only for 127.0.0.0/8, ::1 and localhost)"
        )
    if "@" in parts.netloc:
        raise TelnyxError(
            f"{shown} holds a user name or password; the API key is the only credential, "
            "and it never goes in the URL"
        )
    if "?" in url or "#" in url:
        raise TelnyxError(f"{shown} has a query or a fragment; give the API root only")
    # The rest is what any URL the client sends to must be (one reading, the request
    # model's and the sandbox's too).
    problem = http_url_problem(url)
    if problem is not None:
        raise TelnyxError(f"{shown} {problem}")
    return url.rstrip("/")


def resolve_config(
    *,
    api_key: str | None,
    base_url: str | None,
    timeout: float,
    retry: RetryPolicy | None,
    max_connections: int,
    keepalive_expiry: float | None,
    max_response_bytes: int | None,
) -> ClientConfig:
    """Fill defaults from the environment and check every setting.

    Raises:
        TelnyxError: No API key, or an unusable base URL or setting.
    """
    # Held as Secret from here on, so that no traceback frame (capture_locals) shows it.
    key = Secret(api_key if api_key is not None else os.environ.get("TELNYX_API_KEY", ""))
    api_key = None
    if not key.strip():
        raise TelnyxError("no API key: pass api_key=... or set TELNYX_API_KEY")
    key = Secret(key.strip())
    # Caught here, not as a raw ValueError from the HTTP layer at the first send; the
    # message never quotes the key.
    if not key.isprintable() or any(c.isspace() for c in key):
        raise TelnyxError(
            "the API key contains a space or an unprintable character (a line break "
            "copied with it?), which no HTTP header can carry"
        )
    if base_url:
        url, setting = base_url, "base_url"
    else:
        url, setting = os.environ.get("TELNYX_BASE_URL") or DEFAULT_BASE_URL, "TELNYX_BASE_URL"
    if not timeout > 0:
        raise TelnyxError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if max_connections < 1:
        raise TelnyxError(f"max_connections must be at least 1, got {max_connections!r}")
    return ClientConfig(
        api_key=key,
        base_url=check_base_url(url, setting=setting),
        timeout=float(timeout),
        retry=retry if retry is not None else RetryPolicy(),
        max_connections=max_connections,
        keepalive_expiry=DEFAULT_KEEPALIVE_EXPIRY if keepalive_expiry is None else keepalive_expiry,
        max_response_bytes=(
            DEFAULT_MAX_RESPONSE_BYTES if max_response_bytes is None else max_response_bytes
        ),
    )
