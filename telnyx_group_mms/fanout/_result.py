"""The outcome of one request of a fan-out."""

from __future__ import annotations

import attrs

from ..errors import APIError, TelnyxError
from ..models import GroupMmsRequest, Message

__all__ = ["SendResult"]


@attrs.frozen(kw_only=True)
class SendResult:
    """The outcome of one request of :meth:`AsyncMessages.send_many`.

    Attributes:
        index: The 0-based position of the request in the input.
        request: The request.
        message: The message Telnyx accepted, or ``None`` when the send failed.
        error: Why it failed, or ``None``. ``error.outcome_unknown`` (when the error is
            an :class:`APIError`) says Telnyx may have accepted it anyway.
        attempts: POSTs made for this request (0 when none could be made).
        elapsed: Seconds from the first POST to the outcome (rate-limit waits before
            the first POST excluded).
    """

    index: int
    request: GroupMmsRequest
    message: Message | None = None
    error: TelnyxError | None = None
    attempts: int = 0
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        """True when Telnyx accepted the message."""
        return self.message is not None

    @property
    def outcome_unknown(self) -> bool:
        """True when the send failed in a way that may have let the message out."""
        return isinstance(self.error, APIError) and self.error.outcome_unknown
