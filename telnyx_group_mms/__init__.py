"""telnyx-group-mms: send a group MMS through Telnyx, safely, from any kind of Python code.

>>> import telnyx_group_mms as tgm
>>> async with tgm.AsyncTelnyx() as client:              # doctest: +SKIP
...     msg = await client.messages.send_group_mms(
...         from_="+13125551234", to=["+18655551234", "+14155551234"], text="Hello")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from ._config import (
        ClientConfig as ClientConfig,
    )
    from ._numbers import (
        SenderKind as SenderKind,
    )
    from ._resources import (
        AsyncMessages as AsyncMessages,
    )
    from .bulk._files import (
        BulkPathError as BulkPathError,
    )
    from .bulk._input import (
        InputError as InputError,
    )
    from .bulk._report import (
        BulkBadRow as BulkBadRow,
    )
    from .bulk._report import (
        BulkPreview as BulkPreview,
    )
    from .bulk._report import (
        BulkProgress as BulkProgress,
    )
    from .bulk._report import (
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
    )
    from .client import (
        ClientState as ClientState,
    )
    from .errors import (
        APIConnectionError as APIConnectionError,
    )
    from .errors import (
        APIError as APIError,
    )
    from .errors import (
        APIResponseValidationError as APIResponseValidationError,
    )
    from .errors import (
        APIStatusError as APIStatusError,
    )
    from .errors import (
        APITimeoutError as APITimeoutError,
    )
    from .errors import (
        AuthenticationError as AuthenticationError,
    )
    from .errors import (
        BackendUnavailableError as BackendUnavailableError,
    )
    from .errors import (
        BadRequestError as BadRequestError,
    )
    from .errors import (
        ConflictError as ConflictError,
    )
    from .errors import (
        InternalServerError as InternalServerError,
    )
    from .errors import (
        NotFoundError as NotFoundError,
    )
    from .errors import (
        Outcome as Outcome,
    )
    from .errors import (
        PermissionDeniedError as PermissionDeniedError,
    )
    from .errors import (
        RateLimitError as RateLimitError,
    )
    from .errors import (
        RequestValidationError as RequestValidationError,
    )
    from .errors import (
        TelnyxError as TelnyxError,
    )
    from .errors import (
        UnprocessableEntityError as UnprocessableEntityError,
    )
    from .errors import (
        WebhookVerificationError as WebhookVerificationError,
    )
    from .fanout._account_refusal import (
        BatchStoppedError as BatchStoppedError,
    )
    from .fanout._account_refusal import (
        is_account_refusal as is_account_refusal,
    )
    from .fanout._engine import (
        SendResult as SendResult,
    )
    from .limits._sender_rates import (
        PerSenderRate as PerSenderRate,
    )
    from .limits._sender_rates import (
        SenderRateRule as SenderRateRule,
    )
    from .limits._sender_rates import (
        SenderRates as SenderRates,
    )
    from .models import (
        FINAL_STATUSES as FINAL_STATUSES,
    )
    from .models import (
        MAX_MEDIA_URLS as MAX_MEDIA_URLS,
    )
    from .models import (
        MAX_RECIPIENTS as MAX_RECIPIENTS,
    )
    from .models import (
        CostBreakdown as CostBreakdown,
    )
    from .models import (
        Direction as Direction,
    )
    from .models import (
        ErrorSource as ErrorSource,
    )
    from .models import (
        GroupMmsRequest as GroupMmsRequest,
    )
    from .models import (
        Media as Media,
    )
    from .models import (
        Message as Message,
    )
    from .models import (
        MessageError as MessageError,
    )
    from .models import (
        MessageType as MessageType,
    )
    from .models import (
        Money as Money,
    )
    from .models import (
        Recipient as Recipient,
    )
    from .models import (
        RecipientStatus as RecipientStatus,
    )
    from .models import (
        Sender as Sender,
    )
    from .retry import (
        RetryEvent as RetryEvent,
    )
    from .retry import (
        RetryPolicy as RetryPolicy,
    )
    from .sync import (
        Messages as Messages,
    )
    from .sync import (
        Telnyx as Telnyx,
    )
    from .webhooks._dedupe import (
        EventDeduplicator as EventDeduplicator,
    )
    from .webhooks._models import (
        WebhookEvent as WebhookEvent,
    )
    from .webhooks._models import (
        WebhookEventType as WebhookEventType,
    )
    from .webhooks._models import (
        WebhookMeta as WebhookMeta,
    )
    from .webhooks._tracker import (
        DeliveryTracker as DeliveryTracker,
    )

# Each public name and the module that defines it. Importing the package imports none
# of them: a name is loaded on first use (PEP 562), so the pytest plugin, the command
# line's --help and a webhook receiver do not pay for aiohttp and the HTTP client.
_EXPORTS: dict[str, str] = {
    "APIConnectionError": "errors",
    "APIError": "errors",
    "APIResponseValidationError": "errors",
    "APIStatusError": "errors",
    "APITimeoutError": "errors",
    "AsyncMessages": "_resources",
    "AsyncTelnyx": "client",
    "AuthenticationError": "errors",
    "BackendUnavailableError": "errors",
    "BadRequestError": "errors",
    "BatchStoppedError": "fanout._account_refusal",
    "BulkBadRow": "bulk._report",
    "BulkPathError": "bulk._files",
    "BulkPreview": "bulk._report",
    "BulkProgress": "bulk._report",
    "BulkSummary": "bulk._report",
    "ClientConfig": "_config",
    "ClientState": "client",
    "ConflictError": "errors",
    "CostBreakdown": "models",
    "DeliveryTracker": "webhooks._tracker",
    "Direction": "models",
    "ErrorSource": "models",
    "EventDeduplicator": "webhooks._dedupe",
    "FINAL_STATUSES": "models",
    "GroupMmsRequest": "models",
    "InputError": "bulk._input",
    "InternalServerError": "errors",
    "LedgerError": "bulk.ledger._sqlite",
    "MAX_MEDIA_URLS": "models",
    "MAX_RECIPIENTS": "models",
    "Media": "models",
    "Message": "models",
    "MessageError": "models",
    "MessageType": "models",
    "Messages": "sync",
    "Money": "models",
    "NotFoundError": "errors",
    "Outcome": "errors",
    "PerSenderRate": "limits._sender_rates",
    "PermissionDeniedError": "errors",
    "RateLimitError": "errors",
    "Recipient": "models",
    "RecipientStatus": "models",
    "RequestValidationError": "errors",
    "RetryEvent": "retry",
    "RetryPolicy": "retry",
    "SendResult": "fanout._engine",
    "Sender": "models",
    "SenderKind": "_numbers",
    "SenderRateRule": "limits._sender_rates",
    "SenderRates": "limits._sender_rates",
    "Telnyx": "sync",
    "TelnyxError": "errors",
    "UnprocessableEntityError": "errors",
    "WebhookEvent": "webhooks._models",
    "WebhookEventType": "webhooks._models",
    "WebhookMeta": "webhooks._models",
    "WebhookVerificationError": "errors",
    "is_account_refusal": "fanout._account_refusal",
    "run_bulk": "bulk._runner",
}

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncMessages",
    "AsyncTelnyx",
    "AuthenticationError",
    "BackendUnavailableError",
    "BadRequestError",
    "BatchStoppedError",
    "BulkBadRow",
    "BulkPathError",
    "BulkPreview",
    "BulkProgress",
    "BulkSummary",
    "ClientConfig",
    "ClientState",
    "ConflictError",
    "CostBreakdown",
    "DeliveryTracker",
    "Direction",
    "ErrorSource",
    "EventDeduplicator",
    "FINAL_STATUSES",
    "GroupMmsRequest",
    "InputError",
    "InternalServerError",
    "LedgerError",
    "MAX_MEDIA_URLS",
    "MAX_RECIPIENTS",
    "Media",
    "Message",
    "MessageError",
    "MessageType",
    "Messages",
    "Money",
    "NotFoundError",
    "Outcome",
    "PerSenderRate",
    "PermissionDeniedError",
    "RateLimitError",
    "Recipient",
    "RecipientStatus",
    "RequestValidationError",
    "RetryEvent",
    "RetryPolicy",
    "SendResult",
    "Sender",
    "SenderKind",
    "SenderRateRule",
    "SenderRates",
    "Telnyx",
    "TelnyxError",
    "UnprocessableEntityError",
    "WebhookEvent",
    "WebhookEventType",
    "WebhookMeta",
    "WebhookVerificationError",
    "__version__",
    "is_account_refusal",
    "run_bulk",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
