"""A local stand-in for Telnyx's group MMS endpoint: :class:`Sandbox` and its faults.

>>> from telnyx_group_mms.sandbox import Sandbox
>>> with Sandbox() as sb:                                  # doctest: +SKIP
...     client = Telnyx(api_key="test", base_url=sb.base_url)
"""

from .control import SandboxStats
from .faults import Fault, FaultKind, FaultPlan, FaultRates
from .queues import SenderQueues
from .records import DEFAULT_HISTORY_BYTES, RecordedHeaders, RecordedRequest
from .server import Sandbox
from .webhooks import DeliveryOutcomes, WebhookAttempt

__all__ = [
    "DEFAULT_HISTORY_BYTES",
    "DeliveryOutcomes",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "FaultRates",
    "RecordedHeaders",
    "RecordedRequest",
    "Sandbox",
    "SandboxStats",
    "SenderQueues",
    "WebhookAttempt",
]
