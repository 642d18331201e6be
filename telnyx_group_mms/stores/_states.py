"""The states of a durable send record, shared by the bulk ledgers and idempotency keys."""

from __future__ import annotations

import enum


class SendState(enum.StrEnum):
    """Where one send stands, as a store records it.

    ``PENDING`` was certainly not sent; ``IN_FLIGHT`` was committed right before its POST by a
    holder that may still be working; ``SENT`` and ``FAILED`` are settled; ``UNKNOWN`` may have
    reached Telnyx (its holder died, or the answer was lost) and is never sent again silently.
    """

    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"
