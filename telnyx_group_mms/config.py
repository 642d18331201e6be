"""Client settings, resolved once from arguments and the environment."""

from __future__ import annotations

import ipaddress
import os
import platform
from urllib.parse import urlsplit

import attrs

from ._version import __version__
from .errors import TelnyxError
from .retry import RetryPolicy
from .transport import DEFAULT_KEEPALIVE_EXPIRY, DEFAULT_MAX_RESPONSE_BYTES

__all__ = ["DEFAULT_BASE_URL", "ClientConfig", "resolve_config"]

#: Telnyx's API, used when neither ``base_url`` nor ``TELNYX_BASE_URL`` is set.
DEFAULT_BASE_URL = "https://api.telnyx.com/v2"
USER_AGENT = f"telnyx-group-mms/{__version__} Python/{platform.python_version()}"


@attrs.frozen(kw_only=True)
class ClientConfig:
    """Everything a client needs, validated. The key never appears in ``repr``."""

    api_key: str = attrs.field(repr=False)
    base_url: str
    timeout: float
    retry: RetryPolicy
    max_connections: int
    keepalive_expiry: float
    max_response_bytes: int

    def headers(self) -> dict[str, str]:
        """The headers every request carries."""
        return {
            "Authorization": f"Bearer {self.api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_base_url(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return url.rstrip("/")
    if parts.scheme == "http" and host:
        if _is_loopback(host):
            return url.rstrip("/")
        raise TelnyxError(
            f"base_url {url!r} is plain http off loopback; the API key would travel in "
            "clear text. Use https (plain http is allowed only for 127.0.0.0/8, ::1 and localhost)"
        )
    raise TelnyxError(f"base_url {url!r} is not an http(s) URL")


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
    key = api_key if api_key is not None else os.environ.get("TELNYX_API_KEY")
    if key is None or not key.strip():
        raise TelnyxError("no API key: pass api_key=... or set TELNYX_API_KEY")
    key = key.strip()
    # Caught here, not as a raw ValueError from the HTTP layer at the first send; the
    # message never quotes the key.
    if not key.isprintable() or any(c.isspace() for c in key):
        raise TelnyxError(
            "the API key contains a space or an unprintable character (a line break "
            "copied with it?), which no HTTP header can carry"
        )
    url = base_url or os.environ.get("TELNYX_BASE_URL") or DEFAULT_BASE_URL
    if not timeout > 0:
        raise TelnyxError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if max_connections < 1:
        raise TelnyxError(f"max_connections must be at least 1, got {max_connections!r}")
    return ClientConfig(
        api_key=key,
        base_url=_check_base_url(url),
        timeout=float(timeout),
        retry=retry if retry is not None else RetryPolicy(),
        max_connections=max_connections,
        keepalive_expiry=DEFAULT_KEEPALIVE_EXPIRY if keepalive_expiry is None else keepalive_expiry,
        max_response_bytes=(
            DEFAULT_MAX_RESPONSE_BYTES if max_response_bytes is None else max_response_bytes
        ),
    )
