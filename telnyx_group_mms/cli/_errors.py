"""How the commands report failures: one line on stderr, and an exit code that says why."""

from __future__ import annotations

import click

from .. import _exit_status as exit_status
from ..errors import APIError, APIStatusError, RequestValidationError, TelnyxError

__all__ = [
    "EXIT_FAILURE",
    "EXIT_OUTCOME_UNKNOWN",
    "EXIT_USAGE",
    "Failure",
    "OutcomeUnknown",
    "SettingError",
    "failure",
    "ledger_error",
]

#: The request was refused (by this package's checks or by Telnyx), or sending failed.
EXIT_FAILURE = exit_status.FAILURE
#: The command line itself is wrong (click's own code for usage errors).
EXIT_USAGE = click.UsageError.exit_code
#: The message may or may not have gone out: never a plain failure, which a script
#: may retry.
EXIT_OUTCOME_UNKNOWN = exit_status.OUTCOME_UNKNOWN

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


class OutcomeUnknown(Failure):
    """A send that may have gone out anyway: ``Error: <one line>``, exit code 3."""

    exit_code = EXIT_OUTCOME_UNKNOWN


class SettingError(click.ClickException):
    """A missing or unusable setting (no API key, a bad base URL): one line, exit code 2."""

    exit_code = EXIT_USAGE


def _one_line(text: str) -> str:
    return " ".join(text.split())


def ledger_error(error: Exception) -> str:
    """``error`` on one line, naming ``--ledger`` where the library names its setting."""
    text = _one_line(str(error))
    return "--" + text if text.startswith("ledger: ") else text


def failure(error: TelnyxError) -> click.ClickException:
    """The exception that reports ``error`` on one line, with the right exit code."""
    message = _one_line(str(error))
    if isinstance(error, RequestValidationError):
        field = error.field or ""
        option = _OPTIONS.get(field.split("[")[0])
        if option is not None:
            # The option names the field; the Python name ("from_: ...") would not
            # mean anything to the person at the command line.
            message = f"invalid {option}: {message.removeprefix(f'{field}: ')}"
    elif isinstance(error, APIStatusError) and error.request_id:
        message = f"{message} (x-request-id {error.request_id})"
    if isinstance(error, APIError) and error.outcome_unknown:
        return OutcomeUnknown(
            f"the message may have been sent: {message}; check (e.g. in Telnyx's message "
            "detail records) before sending it again"
        )
    return Failure(message)
