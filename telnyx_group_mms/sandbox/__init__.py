"""A local stand-in for Telnyx's group MMS endpoint: :class:`Sandbox` and its faults.

>>> from telnyx_group_mms.sandbox import Sandbox
>>> with Sandbox() as sb:                                  # doctest: +SKIP
...     client = Telnyx(api_key="test", base_url=sb.base_url)
"""

from ._control import SandboxStats
from ._faults import Fault, FaultKind, FaultPlan, FaultRates
from ._queues import SenderQueues
from ._records import DEFAULT_HISTORY_BYTES, RecordedHeaders, RecordedRequest
from ._server import Sandbox
from ._webhooks import DeliveryOutcomes, WebhookAttempt

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
