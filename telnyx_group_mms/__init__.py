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
    from .account_refusal import (
        BatchStoppedError as BatchStoppedError,
    )
    from .account_refusal import (
        is_account_refusal as is_account_refusal,
    )
    from .bulk import (
        run_bulk as run_bulk,
    )
    from .bulk_files import (
        BulkPathError as BulkPathError,
    )
    from .bulk_input import (
        InputError as InputError,
    )
    from .bulk_report import (
        BulkBadRow as BulkBadRow,
    )
    from .bulk_report import (
        BulkPreview as BulkPreview,
    )
    from .bulk_report import (
        BulkProgress as BulkProgress,
    )
    from .bulk_report import (
        BulkSummary as BulkSummary,
    )
    from .client import (
        AsyncTelnyx as AsyncTelnyx,
    )
    from .client import (
        ClientState as ClientState,
    )
    from .config import (
        ClientConfig as ClientConfig,
    )
    from .delivery_tracker import (
        DeliveryTracker as DeliveryTracker,
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
    from .facade import (
        Messages as Messages,
    )
    from .facade import (
        Telnyx as Telnyx,
    )
    from .fanout import (
        SendResult as SendResult,
    )
    from .ledger import (
        LedgerError as LedgerError,
    )
    from .models import (
        FINAL_STATUSES as FINAL_STATUSES,
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
    from .numbers import (
        SenderKind as SenderKind,
    )
    from .request import (
        MAX_MEDIA_URLS as MAX_MEDIA_URLS,
    )
    from .request import (
        MAX_RECIPIENTS as MAX_RECIPIENTS,
    )
    from .request import (
        GroupMmsRequest as GroupMmsRequest,
    )
    from .resources import (
        AsyncMessages as AsyncMessages,
    )
    from .retry import (
        RetryEvent as RetryEvent,
    )
    from .retry import (
        RetryPolicy as RetryPolicy,
    )
    from .sender_rates import (
        PerSenderRate as PerSenderRate,
    )
    from .sender_rates import (
        SenderRateRule as SenderRateRule,
    )
    from .sender_rates import (
        SenderRates as SenderRates,
    )
    from .webhook_dedupe import (
        EventDeduplicator as EventDeduplicator,
    )
    from .webhook_models import (
        WebhookEvent as WebhookEvent,
    )
    from .webhook_models import (
        WebhookEventType as WebhookEventType,
    )
    from .webhook_models import (
        WebhookMeta as WebhookMeta,
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
    "AsyncMessages": "resources",
    "AsyncTelnyx": "client",
    "AuthenticationError": "errors",
    "BackendUnavailableError": "errors",
    "BadRequestError": "errors",
    "BatchStoppedError": "account_refusal",
    "BulkBadRow": "bulk_report",
    "BulkPathError": "bulk_files",
    "BulkPreview": "bulk_report",
    "BulkProgress": "bulk_report",
    "BulkSummary": "bulk_report",
    "ClientConfig": "config",
    "ClientState": "client",
    "ConflictError": "errors",
    "CostBreakdown": "models",
    "DeliveryTracker": "delivery_tracker",
    "Direction": "models",
    "ErrorSource": "models",
    "EventDeduplicator": "webhook_dedupe",
    "FINAL_STATUSES": "models",
    "GroupMmsRequest": "request",
    "InputError": "bulk_input",
    "InternalServerError": "errors",
    "LedgerError": "ledger",
    "MAX_MEDIA_URLS": "request",
    "MAX_RECIPIENTS": "request",
    "Media": "models",
    "Message": "models",
    "MessageError": "models",
    "MessageType": "models",
    "Messages": "facade",
    "Money": "models",
    "NotFoundError": "errors",
    "Outcome": "errors",
    "PerSenderRate": "sender_rates",
    "PermissionDeniedError": "errors",
    "RateLimitError": "errors",
    "Recipient": "models",
    "RecipientStatus": "models",
    "RequestValidationError": "errors",
    "RetryEvent": "retry",
    "RetryPolicy": "retry",
    "SendResult": "fanout",
    "Sender": "models",
    "SenderKind": "numbers",
    "SenderRateRule": "sender_rates",
    "SenderRates": "sender_rates",
    "Telnyx": "facade",
    "TelnyxError": "errors",
    "UnprocessableEntityError": "errors",
    "WebhookEvent": "webhook_models",
    "WebhookEventType": "webhook_models",
    "WebhookMeta": "webhook_models",
    "WebhookVerificationError": "errors",
    "is_account_refusal": "account_refusal",
    "run_bulk": "bulk",
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
