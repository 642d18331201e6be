"""What makes two requests "the same message": the digest that the bulk ledger and
idempotency keys compare."""

from __future__ import annotations

import hashlib

from ..models import GroupMmsRequest
from .json_codec import compact

__all__ = ["request_digest"]


def request_digest(request: GroupMmsRequest) -> str:
    """A digest of what the recipients would receive, normalised.

    Recipients are sorted (the same group in another order is the same group); webhook
    settings are left out (changing where delivery reports go must not text anyone again).
    """
    identity = (
        request.from_,
        sorted(request.to),
        request.text,
        request.subject,
        list(request.media_urls or ()),
    )
    return hashlib.sha256(compact(identity).encode("utf-8", "surrogatepass")).hexdigest()
