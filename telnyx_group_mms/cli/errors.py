"""How the commands report failures: one line on stderr, and an exit code that says why."""

from __future__ import annotations

import click

from ..errors import APIStatusError, RequestValidationError, TelnyxError

__all__ = ["EXIT_FAILURE", "EXIT_USAGE", "Failure", "SettingError", "failure"]

#: The request was refused (by this package's checks or by Telnyx), or sending failed.
EXIT_FAILURE = 1
#: The command line itself is wrong (click's own code for usage errors).
EXIT_USAGE = click.UsageError.exit_code

# The command-line option behind each request field, to name it in an error.
_OPTIONS = {
    "from_": "--from",
    "to": "--to",
    "text": "--text",
    "subject": "--subject",
    "media_urls": "--media-url",
    "webhook_url": "--webhook-url",
    "webhook_failover_url": "--webhook-failover-url",
}


class Failure(click.ClickException):
    """A failure reported as ``Error: <one line>`` on stderr, exit code 1."""

    exit_code = EXIT_FAILURE


class SettingError(click.ClickException):
    """A missing or unusable setting (no API key, a bad base URL): one line, exit code 2."""

    exit_code = EXIT_USAGE


def _one_line(text: str) -> str:
    return " ".join(text.split())


def failure(error: TelnyxError) -> click.ClickException:
    """The exception that reports ``error`` on one line, with the right exit code."""
    message = _one_line(str(error))
    if isinstance(error, RequestValidationError):
        option = _OPTIONS.get((error.field or "").split("[")[0])
        if option is not None:
            message = f"invalid {option}: {message}"
    elif isinstance(error, APIStatusError) and error.request_id:
        message = f"{message} (x-request-id {error.request_id})"
    return Failure(message)
