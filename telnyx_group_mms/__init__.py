"""telnyx-group-mms: send a group MMS through Telnyx, safely, from any kind of Python code.

>>> import telnyx_group_mms as tgm
>>> async with tgm.AsyncTelnyx() as client:              # doctest: +SKIP
...     msg = await client.messages.send_group_mms(
...         from_="+13125551234", to=["+18655551234", "+14155551234"], text="Hello")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__ as __version__

if TYPE_CHECKING:  # for type checkers and IDEs; tests/test_public_api.py checks it against _MODULES
    from ._config import (
        ClientConfig as ClientConfig,
    )
    from ._idempotency import (
        AsyncIdempotencyKeys as AsyncIdempotencyKeys,
    )
    from ._numbers import (
        SenderKind as SenderKind,
    )
    from ._private_files import (
        BulkPathError as BulkPathError,
    )
    from ._resources import (
        AsyncMessages as AsyncMessages,
        AsyncMessagesWithRawResponse as AsyncMessagesWithRawResponse,
    )
    from .bulk._input import (
        InputError as InputError,
    )
    from .bulk._report import (
        BulkBadRow as BulkBadRow,
        BulkPreview as BulkPreview,
        BulkProgress as BulkProgress,
        BulkSummary as BulkSummary,
    )
    from .bulk._runner import (
        run_bulk as run_bulk,
    )
    from .bulk.ledger._sqlite import (
        LedgerError as LedgerError,
    )
    from .client import (
        AsyncTelnyx as AsyncTelnyx,
        ClientState as ClientState,
    )
    from .errors import (
        APIConnectionError as APIConnectionError,
        APIError as APIError,
        APIResponseValidationError as APIResponseValidationError,
        APIStatusError as APIStatusError,
        APITimeoutError as APITimeoutError,
        AuthenticationError as AuthenticationError,
        BackendUnavailableError as BackendUnavailableError,
        BadRequestError as BadRequestError,
        ClientClosedError as ClientClosedError,
        ConflictError as ConflictError,
        IdempotencyKeyReusedError as IdempotencyKeyReusedError,
        InternalServerError as InternalServerError,
        NotFoundError as NotFoundError,
        Outcome as Outcome,
        OutcomeUnknownError as OutcomeUnknownError,
        PermissionDeniedError as PermissionDeniedError,
        RateLimitError as RateLimitError,
        RequestValidationError as RequestValidationError,
        SendInProgressError as SendInProgressError,
        TelnyxError as TelnyxError,
        UnprocessableEntityError as UnprocessableEntityError,
        WebhookVerificationError as WebhookVerificationError,
    )
    from .fanout._account_refusal import (
        BatchStoppedError as BatchStoppedError,
        is_account_refusal as is_account_refusal,
    )
    from .fanout._engine import (
        SendResult as SendResult,
    )
    from .limits._sender_rates import (
        PerSenderRate as PerSenderRate,
        SenderRateRule as SenderRateRule,
        SenderRates as SenderRates,
    )
    from .limits._shared import (
        RateLimits as RateLimits,
    )
    from .models import (
        FINAL_STATUSES as FINAL_STATUSES,
        MAX_MEDIA_URLS as MAX_MEDIA_URLS,
        MAX_RECIPIENTS as MAX_RECIPIENTS,
        CostBreakdown as CostBreakdown,
        Direction as Direction,
        ErrorSource as ErrorSource,
        GroupMmsRequest as GroupMmsRequest,
        Media as Media,
        Message as Message,
        MessageError as MessageError,
        MessageType as MessageType,
        Money as Money,
        RateLimitInfo as RateLimitInfo,
        RawResponse as RawResponse,
        Recipient as Recipient,
        RecipientStatus as RecipientStatus,
        Sender as Sender,
    )
    from .retry import (
        RetryEvent as RetryEvent,
        RetryPolicy as RetryPolicy,
    )
    from .stores._keys import (
        Claim as Claim,
        ClaimKind as ClaimKind,
        IdempotencyStore as IdempotencyStore,
        KeyRecord as KeyRecord,
        KeyStatus as KeyStatus,
        decide_claim as decide_claim,
    )
    from .stores._postgres_keys import (
        PostgresIdempotencyStore as PostgresIdempotencyStore,
    )
    from .stores._sqlite_keys import (
        SqliteIdempotencyStore as SqliteIdempotencyStore,
    )
    from .stores._states import (
        SendState as SendState,
    )
    from .sync import (
        IdempotencyKeys as IdempotencyKeys,
        Messages as Messages,
        MessagesWithRawResponse as MessagesWithRawResponse,
        Telnyx as Telnyx,
    )
    from .webhooks._dedupe import (
        EventDeduplicator as EventDeduplicator,
    )
    from .webhooks._models import (
        WebhookEvent as WebhookEvent,
        WebhookEventType as WebhookEventType,
        WebhookMeta as WebhookMeta,
    )
    from .webhooks._tracker import (
        DeliveryTracker as DeliveryTracker,
    )

# Each module and the public names it defines. Importing the package imports none of
# them: a name is loaded on first use (PEP 562), so the pytest plugin, the command
# line's --help and a webhook receiver do not pay for aiohttp and the HTTP client.
_MODULES: dict[str, tuple[str, ...]] = {
    "_config": ("ClientConfig",),
    "_idempotency": ("AsyncIdempotencyKeys",),
    "_numbers": ("SenderKind",),
    "_private_files": ("BulkPathError",),
    "_resources": ("AsyncMessages", "AsyncMessagesWithRawResponse"),
    "bulk._input": ("InputError",),
    "bulk._report": ("BulkBadRow", "BulkPreview", "BulkProgress", "BulkSummary"),
    "bulk._runner": ("run_bulk",),
    "bulk.ledger._sqlite": ("LedgerError",),
    "client": ("AsyncTelnyx", "ClientState"),
    "errors": (
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
    ),
    "fanout._account_refusal": ("BatchStoppedError", "is_account_refusal"),
    "fanout._engine": ("SendResult",),
    "limits._sender_rates": ("PerSenderRate", "SenderRateRule", "SenderRates"),
    "limits._shared": ("RateLimits",),
    "models": (
        "CostBreakdown",
        "Direction",
        "ErrorSource",
        "FINAL_STATUSES",
        "GroupMmsRequest",
        "MAX_MEDIA_URLS",
        "MAX_RECIPIENTS",
        "Media",
        "Message",
        "MessageError",
        "MessageType",
        "Money",
        "RateLimitInfo",
        "RawResponse",
        "Recipient",
        "RecipientStatus",
        "Sender",
    ),
    "retry": ("RetryEvent", "RetryPolicy"),
    "stores._keys": (
        "Claim",
        "ClaimKind",
        "IdempotencyStore",
        "KeyRecord",
        "KeyStatus",
        "decide_claim",
    ),
    "stores._postgres_keys": ("PostgresIdempotencyStore",),
    "stores._sqlite_keys": ("SqliteIdempotencyStore",),
    "stores._states": ("SendState",),
    "sync": ("IdempotencyKeys", "Messages", "MessagesWithRawResponse", "Telnyx"),
    "webhooks._dedupe": ("EventDeduplicator",),
    "webhooks._models": ("WebhookEvent", "WebhookEventType", "WebhookMeta"),
    "webhooks._tracker": ("DeliveryTracker",),
}
_EXPORTS: dict[str, str] = {name: module for module, names in _MODULES.items() for name in names}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
