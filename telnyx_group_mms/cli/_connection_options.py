"""The options that say where to send and with which key: ``--api-key``, ``--base-url``.

Shared by the commands that talk to Telnyx, so each reads them the same way (the option,
else its environment variable) and reports a missing key in the command line's terms.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from .._config import check_base_url
from ..errors import TelnyxError
from ._errors import SettingError

__all__ = ["api_key_option", "base_url_option", "check_base_url_option", "require_api_key"]

F = TypeVar("F", bound=Callable[..., object])

api_key_option: Callable[[F], F] = click.option(
    "--api-key", envvar="TELNYX_API_KEY", show_envvar=True, metavar="KEY",
    help="Your Telnyx API key.",
)  # fmt: skip

base_url_option: Callable[[F], F] = click.option(
    "--base-url", envvar="TELNYX_BASE_URL", show_envvar=True, metavar="URL",
    help="The API root (default https://api.telnyx.com/v2; a sandbox's URL to test).",
)  # fmt: skip


def require_api_key(api_key: str | None) -> str:
    """``api_key``, or a usage error (exit 2) naming the option and the variable.

    Raises:
        SettingError: No key, or only blanks.
    """
    if not api_key or not api_key.strip():
        raise SettingError("no API key: pass --api-key or set TELNYX_API_KEY")
    return api_key


def check_base_url_option(base_url: str | None) -> None:
    """A usage error (exit 2) for a base URL no request can be sent to, named as given.

    Raises:
        SettingError: The URL is refused; the message names ``--base-url`` or
            ``TELNYX_BASE_URL``, whichever it came from.
    """
    if not base_url:
        return
    source = click.get_current_context().get_parameter_source("base_url")
    setting = "TELNYX_BASE_URL" if source is click.ParameterSource.ENVIRONMENT else "--base-url"
    try:
        check_base_url(base_url, setting=setting)
    except TelnyxError as exc:
        raise SettingError(str(exc)) from exc
