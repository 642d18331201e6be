"""Refusals that concern the account or the API key rather than the request, and the
error that ends a fan-out stopped by one.

Telnyx answers such a refusal the same way for every request that follows it: a batch
that carries on sends each of its remaining requests into the same answer (a 20,000-row
file at 15/s takes 22 minutes to fail). So ``send_many`` and ``bulk`` stop at the first
one, after the requests already in flight.
"""

from __future__ import annotations

from typing import Final, TypeGuard

from ..errors import APIStatusError, TelnyxError

__all__ = ["BatchStoppedError", "is_account_refusal"]

#: Statuses that refuse the key or the account, whatever the request.
ACCOUNT_STATUSES: Final = frozenset({401, 403})

#: Telnyx error codes that mean the same, whatever status they come with (from Telnyx's
#: API error codes and messaging error codes references).
ACCOUNT_CODES: Final = frozenset(
    {
        "10009",  # Authentication failed
        "10010",  # Authorization failed
        "20002",  # API key revoked
        "20006",  # Expired access token
        "20012",  # Account inactive (possibly insufficient funds)
        "20013",  # Account blocked
        "20014",  # Account unverified
        "20015",  # Feature not enabled
        "20016",  # Account not Level 1 verified
        "20017",  # Account not Level 2 verified
        "20100",  # Insufficient funds
        "40314",  # Messaging disabled on account
    }
)


def is_account_refusal(error: BaseException | None) -> TypeGuard[APIStatusError]:
    """True when ``error`` is Telnyx refusing the account or key, not the request.

    That is a 401 or a 403, or a Telnyx error code that means the same (authentication
    or authorization failed, a revoked key, an inactive, blocked or unverified account,
    insufficient funds, messaging disabled on the account). A refusal of one sending
    number or its messaging profile is not: other senders of a batch may still send.
    """
    if not isinstance(error, APIStatusError):
        return False
    if error.status_code in ACCOUNT_STATUSES:
        return True
    return any(item.code in ACCOUNT_CODES for item in error.errors)


class BatchStoppedError(TelnyxError):
    """``send_many`` stopped early: Telnyx refused the account or API key.

    Raised by the iteration once the requests that were in flight have finished and
    been yielded (the refused one among them, with its error). Requests not yet sent
    when the refusal came were not sent and are not yielded.

    Attributes:
        refusal: Telnyx's answer (also ``__cause__``).
        index: The input position of the request that was refused.
    """

    def __init__(self, refusal: APIStatusError, *, index: int) -> None:
        super().__init__(
            f"stopped: Telnyx refused the account or API key ({refusal}); "
            "requests not sent by then were not sent"
        )
        self.refusal = refusal
        self.index = index
        self.__cause__ = refusal
