"""The checks of a sandbox's settings, made before anything is built or listened on."""

from __future__ import annotations

from collections.abc import Mapping

from .._url_checks import http_url_problem, is_loopback_host

__all__ = ["check_settings"]


def check_settings(
    *,
    host: str,
    port: int,
    api_key: str | None,
    webhook_urls: Mapping[str, str | None],
    webhook_max_attempts: int,
    history_limits: Mapping[str, int | None],
) -> None:
    """Refuse settings a sandbox cannot work with, naming the setting.

    Raises:
        ValueError: A setting is out of range, or a sandbox beyond loopback has no key.
    """
    if api_key is not None and not api_key.strip():
        raise ValueError("api_key must not be empty; leave it None to accept any key")
    if api_key is None and not is_loopback_host(host):
        raise ValueError(
            f"a sandbox listening beyond loopback (host {host!r}) needs an api_key: "
            "without one, anyone who can reach it could read what it records"
        )
    if not 0 <= port <= 65535:
        raise ValueError(f"port must be between 0 and 65535, got {port!r}")
    if webhook_max_attempts < 1:
        raise ValueError(f"webhook_max_attempts must be at least 1, got {webhook_max_attempts}")
    for name, url in webhook_urls.items():
        problem = None if url is None else http_url_problem(url)
        if problem is not None:
            raise ValueError(f"{name} {url!r} {problem}")
    for name, limit in history_limits.items():
        if limit is not None and limit < 0:
            raise ValueError(f"{name} must not be negative, got {limit}")
