"""The error hierarchy, and the one piece of data every retry decision rests on.

Each :class:`APIError` carries an :class:`Outcome`: whether Telnyx certainly did not
accept the message (``SAFE`` to send again), may have accepted it (``UNKNOWN``), or gave
a definitive answer (``FINAL``). :func:`telnyx_group_mms.retry.classify` reads it;
``outcome_unknown`` exposes it to callers, so nobody resends blindly and texts eight
people twice.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # an annotation only: models imports errors for its validation
    from .models import MessageError

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BackendUnavailableError",
    "BadRequestError",
    "ClientClosedError",
    "ConflictError",
    "IdempotencyKeyReusedError",
    "InternalServerError",
    "NotFoundError",
    "Outcome",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestValidationError",
    "SendInProgressError",
    "TelnyxError",
    "UnprocessableEntityError",
    "WebhookVerificationError",
    "outcome_for_status",
    "status_error_class",
]


class Outcome(enum.Enum):
    """What a failed attempt says about whether the message went out."""

    SAFE = "safe"
    """Telnyx certainly did not accept the message: sending again cannot double-send."""
    UNKNOWN = "unknown"
    """Telnyx may have accepted the message: sending again may double-send."""
    FINAL = "final"
    """A definitive answer: sending the same request again will not help."""


class TelnyxError(Exception):
    """Base class of every error this package raises."""


class ClientClosedError(TelnyxError):
    """The client (or the loop thread it runs on) is closed; create a new one.

    Raised by every call on a closed :class:`AsyncTelnyx` or :class:`Telnyx`, and by a
    sandbox that was stopped. Nothing was sent.
    """

    def __init__(self, what: str = "client") -> None:
        super().__init__(f"this {what} is closed; create a new one")


class BackendUnavailableError(TelnyxError):
    """A store or shared limit this client was configured with cannot be used.

    Raised before anything is sent: the PostgreSQL or Redis server is unreachable, refuses
    the credentials, or its driver is not installed. Nothing reached Telnyx.

    Attributes:
        backend: ``"postgresql"`` or ``"redis"``.
        where: ``host:port/database`` (or ``host:port`` for Redis), never a password.
    """

    def __init__(self, message: str, *, backend: str, where: str) -> None:
        super().__init__(message)
        self.backend = backend
        self.where = where


class RequestValidationError(TelnyxError, ValueError):
    """A request was refused before anything was sent.

    Attributes:
        field: The Python name of the offending field (``"from_"``, ``"to"``, ...).
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class WebhookVerificationError(TelnyxError):
    """A webhook could not be verified as coming from Telnyx, or is not an event."""


class APIError(TelnyxError):
    """An attempt to call Telnyx failed.

    Attributes:
        outcome: What the failure says about whether the message went out.
    """

    outcome: Outcome = Outcome.FINAL

    def __init__(self, message: str, *, outcome: Outcome | None = None) -> None:
        super().__init__(message)
        if outcome is not None:
            self.outcome = outcome

    @property
    def outcome_unknown(self) -> bool:
        """True when Telnyx may have accepted the message: a blind resend may double-send."""
        return self.outcome is Outcome.UNKNOWN


class OutcomeUnknownError(APIError):
    """An earlier send under this idempotency key may have reached Telnyx; nothing was sent now.

    Its holder died while the message was in flight, or the answer was lost. Check
    Telnyx's message records, then settle the key with the client's
    ``idempotency_keys.resolve(key, message_id=...)`` or ``.mark_not_sent(key)``.

    Attributes:
        key: The idempotency key.
    """

    outcome = Outcome.UNKNOWN

    def __init__(self, key: str) -> None:
        super().__init__(
            f"idempotency key {key!r}: an earlier send under it may have reached Telnyx "
            "(its outcome is unknown), so nothing was sent; check Telnyx's message records, "
            "then call idempotency_keys.resolve(key, message_id=...) or "
            "idempotency_keys.mark_not_sent(key)"
        )
        self.key = key


class SendInProgressError(TelnyxError):
    """Another task, thread or process is sending under this idempotency key; nothing was sent.

    Raised after waiting for its outcome up to the client's ``timeout``. Call again later:
    it then returns that send's message, or raises what its outcome calls for.

    Attributes:
        key: The idempotency key.
    """

    def __init__(self, key: str, *, waited: float) -> None:
        super().__init__(
            f"idempotency key {key!r}: another send under it is still in flight after "
            f"waiting {waited:g}s; nothing was sent, call again later"
        )
        self.key = key


class IdempotencyKeyReusedError(TelnyxError, ValueError):
    """An idempotency key was given with a different request than its first use; nothing was sent.

    Attributes:
        key: The idempotency key.
    """

    def __init__(self, key: str) -> None:
        super().__init__(
            f"idempotency key {key!r} was first used for a different message (sender, "
            "recipients, text, subject or media); nothing was sent, use a new key"
        )
        self.key = key


class APIConnectionError(APIError):
    """The HTTP exchange with Telnyx failed (no connection, dropped connection, ...).

    ``outcome`` is ``SAFE`` when the connection could not be established, and ``UNKNOWN``
    when the request may have been written before the failure.
    """

    outcome = Outcome.SAFE


class APITimeoutError(APIConnectionError):
    """An attempt did not complete within the client's timeout."""


class APIResponseValidationError(APIError):
    """Telnyx answered 2xx but the body is not a message.

    Telnyx very probably accepted the message, so ``outcome_unknown`` is True, yet the
    error is never retried: resending would very probably double-send.
    """

    def __init__(self, message: str, *, status_code: int, body: bytes | None = None) -> None:
        super().__init__(message, outcome=Outcome.FINAL)
        self.status_code = status_code
        self.body = body

    @property
    def outcome_unknown(self) -> bool:
        return True


class APIStatusError(APIError):
    """Telnyx answered with a non-2xx status.

    Attributes:
        status_code: The HTTP status.
        errors: Telnyx's ``errors`` list, empty when the body was not that shape.
        request_id: The ``x-request-id`` response header, for Telnyx support.
        retry_after: Seconds the server asked us to wait, if it said.
        body: The raw response body.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        errors: Sequence[MessageError] = (),
        request_id: str | None = None,
        retry_after: float | None = None,
        body: bytes | None = None,
        outcome: Outcome | None = None,
    ) -> None:
        super().__init__(message, outcome=outcome or outcome_for_status(status_code))
        self.status_code = status_code
        self.errors = list(errors)
        self.request_id = request_id
        self.retry_after = retry_after
        self.body = body

    @property
    def code(self) -> str | None:
        """The code of Telnyx's first error (``"40300"``), if any."""
        return self.errors[0].code if self.errors else None


class BadRequestError(APIStatusError):
    """400: Telnyx refused the request as malformed."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing or wrong."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this."""


class NotFoundError(APIStatusError):
    """404."""


class ConflictError(APIStatusError):
    """409: for example a recipient who replied STOP (code 40300). Final."""


class UnprocessableEntityError(APIStatusError):
    """422: Telnyx understood the request but will not send it."""


class RateLimitError(APIStatusError):
    """429: Telnyx took nothing in; ``retry_after`` says how long to wait, when it says.

    Code 10011: too many API requests. Code 40318: the sending number's message queue
    is full ("wait before resending"). Either way the outcome is ``SAFE``: sending again
    cannot double-send, though it succeeds only once the limit or the queue allows.
    """

    @property
    def queue_full(self) -> bool:
        """True for code 40318: the sending number's queue is full, which drains at that
        number's rate (minutes for a long code), not the account's request rate."""
        return self.code == "40318"


class InternalServerError(APIStatusError):
    """5xx: Telnyx failed; unless the status is 503 the message may have gone out."""


_STATUS_CLASSES: Mapping[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}

# 429 and 503 are answered before Telnyx takes the message in; every other 5xx may come
# after it did.
_SAFE_STATUSES: frozenset[int] = frozenset({429, 503})


def outcome_for_status(status_code: int) -> Outcome:
    """The outcome a non-2xx status stands for."""
    if status_code in _SAFE_STATUSES:
        return Outcome.SAFE
    if status_code >= 500:
        return Outcome.UNKNOWN
    return Outcome.FINAL


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The most specific :class:`APIStatusError` subclass for a status."""
    if status_code >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status_code, APIStatusError)
