"""telnyx-group-mms: send a group MMS through Telnyx, safely, from any kind of Python code.

>>> import telnyx_group_mms as tgm
>>> async with tgm.AsyncTelnyx() as client:              # doctest: +SKIP
...     msg = await client.messages.send_group_mms(
...         from_="+13125551234", to=["+18655551234", "+14155551234"], text="Hello")
"""

from ._version import __version__
from .bulk import BulkProgress, BulkSummary, run_bulk
from .bulk_input import InputError
from .client import AsyncTelnyx, ClientState
from .config import ClientConfig
from .delivery_tracker import DeliveryTracker
from .errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    Outcome,
    PermissionDeniedError,
    RateLimitError,
    RequestValidationError,
    TelnyxError,
    UnprocessableEntityError,
    WebhookVerificationError,
)
from .facade import Messages, Telnyx
from .fanout import SendResult
from .ledger import LedgerError
from .models import (
    FINAL_STATUSES,
    CostBreakdown,
    Direction,
    ErrorSource,
    Media,
    Message,
    MessageError,
    MessageType,
    Money,
    Recipient,
    RecipientStatus,
    Sender,
)
from .request import MAX_MEDIA_URLS, MAX_RECIPIENTS, GroupMmsRequest
from .resources import AsyncMessages
from .retry import RetryEvent, RetryPolicy
from .webhook_models import WebhookEvent, WebhookEventType, WebhookMeta
from .webhooks import EventDeduplicator

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncMessages",
    "AsyncTelnyx",
    "AuthenticationError",
    "BadRequestError",
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
    "PermissionDeniedError",
    "RateLimitError",
    "Recipient",
    "RecipientStatus",
    "RequestValidationError",
    "RetryEvent",
    "RetryPolicy",
    "SendResult",
    "Sender",
    "Telnyx",
    "TelnyxError",
    "UnprocessableEntityError",
    "WebhookEvent",
    "WebhookEventType",
    "WebhookMeta",
    "WebhookVerificationError",
    "__version__",
    "run_bulk",
]
