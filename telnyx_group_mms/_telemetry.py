"""OpenTelemetry spans and metrics of sends, through ``opentelemetry-api`` only.

The application chooses the SDK and its exporters, as OpenTelemetry asks of libraries.
Whether a client records anything is decided once, at its first send: with no SDK
configured (nor providers given to the client), or without ``opentelemetry-api``
installed, or with ``telemetry=False``, the client keeps its plain send path and pays
nothing per send.

Nothing here ever records a phone number, a message text, a URL or a key: spans and
data points carry counts, status codes, Telnyx's error codes, message ids and error
class names only (an error's text can quote a number; it is never recorded).
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any, Final

from ._version import __version__
from .errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    Outcome,
    TelnyxError,
)
from .retry import RetryEvent

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import Span, TracerProvider

    from .models import Message

__all__ = ["SEND_SPAN", "SEND_MANY_SPAN"]

#: The span around one send, retries included.
SEND_SPAN: Final = "telnyx.group_mms.send"
#: The span around one ``send_many``, parent of its sends' spans.
SEND_MANY_SPAN: Final = "telnyx.group_mms.send_many"
_SCOPE: Final = "telnyx_group_mms"
# Waits shorter than this are the gate's own bookkeeping, not a rate limit's.
_NOTICEABLE_WAIT: Final = 0.001
# Providers that record nothing: OpenTelemetry's defaults until an SDK is installed.
_IDLE_PROVIDERS: Final = frozenset(
    {"ProxyTracerProvider", "NoOpTracerProvider", "_ProxyMeterProvider", "NoOpMeterProvider"}
)


def preload() -> None:
    """Import the OpenTelemetry API, if installed (off the event loop, with the send path)."""
    try:
        import opentelemetry.metrics
        import opentelemetry.trace  # noqa: F401
    except ImportError:
        pass


def telemetry_for(
    *,
    enabled: bool,
    tracer_provider: TracerProvider | None,
    meter_provider: MeterProvider | None,
) -> Telemetry | None:
    """What a client records, or ``None`` when it records nothing."""
    if not enabled:
        return None
    try:
        from opentelemetry import metrics, trace
    except ImportError:
        return None
    tracers = tracer_provider or trace.get_tracer_provider()
    meters = meter_provider or metrics.get_meter_provider()
    tracing = type(tracers).__name__ not in _IDLE_PROVIDERS
    measuring = type(meters).__name__ not in _IDLE_PROVIDERS
    if not (tracing or measuring):
        return None
    return Telemetry(
        tracer=tracers.get_tracer(_SCOPE, __version__) if tracing else None,
        meter=meters.get_meter(_SCOPE, __version__) if measuring else None,
    )


def _cause(error: BaseException) -> str:
    """A retry's cause, as the ``cause`` attribute names it."""
    if isinstance(error, APIStatusError):
        return str(error.status_code)
    if isinstance(error, APITimeoutError):
        return "timeout"
    if isinstance(error, APIConnectionError):
        return "connection"
    return type(error).__name__


class Telemetry:
    """A client's tracer and instruments (either may be absent)."""

    def __init__(self, *, tracer: Any, meter: Any) -> None:
        from opentelemetry import trace

        self.api = trace  # opentelemetry.trace, imported only when telemetry is live
        self.tracer = tracer
        self.meter = meter
        if meter is not None:
            self.sends = meter.create_counter(
                "telnyx.group_mms.sends", unit="{message}", description="Sends, by outcome"
            )
            self.retries = meter.create_counter(
                "telnyx.group_mms.retries", unit="{retry}", description="Retries, by cause"
            )
            self.duration = meter.create_histogram(
                "telnyx.group_mms.duration",
                unit="s",
                description="One send, from its first attempt to its outcome, waits included",
            )
            self.rate_limit_wait = meter.create_histogram(
                "telnyx.group_mms.rate_limit_wait",
                unit="s",
                description="Time a send waited for a rate limit or a 429 pause",
            )

    def begin(self, *, recipients: int, parent: Context | None) -> SendRecord:
        """Start recording one send."""
        span = None
        if self.tracer is not None:
            span = self.tracer.start_span(
                SEND_SPAN,
                context=parent,
                kind=self.api.SpanKind.CLIENT,
                attributes={"telnyx.recipients": recipients},
            )
        return SendRecord(self, span)

    def fan_out(self) -> tuple[Context | None, Span | None]:
        """Start the span of a ``send_many``; its context parents the sends."""
        if self.tracer is None:
            return None, None
        span = self.tracer.start_span(SEND_MANY_SPAN, kind=self.api.SpanKind.INTERNAL)
        return self.api.set_span_in_context(span), span

    def end_fan_out(self, span: Span | None, *, results: int, error: BaseException | None) -> None:
        if span is None:
            return
        span.set_attribute("telnyx.results", results)
        if error is not None:
            span.set_attribute("error.type", type(error).__name__)
            span.set_status(self.api.StatusCode.ERROR, type(error).__name__)
        span.end()


class SendRecord:
    """What one send did, recorded as it goes, then ended once."""

    __slots__ = ("span", "started", "telemetry")

    def __init__(self, telemetry: Telemetry, span: Span | None) -> None:
        self.telemetry = telemetry
        self.span = span
        self.started = time.perf_counter()

    def current(self) -> contextlib.AbstractContextManager[object]:
        """The send's span as the current one (so an HTTP client's own spans nest under
        it), or nothing when only metrics are recorded."""
        if self.span is None:
            return contextlib.nullcontext()
        using: contextlib.AbstractContextManager[object] = self.telemetry.api.use_span(
            self.span, end_on_exit=False, record_exception=False, set_status_on_exception=False
        )
        return using

    def retried(self, event: RetryEvent) -> None:
        cause = _cause(event.cause)
        if self.span is not None:
            attributes: dict[str, str | int | float] = {
                "telnyx.attempt": event.attempt,
                "telnyx.wait": event.wait,
                "cause": cause,
            }
            self.span.add_event("retry", attributes)
        if self.telemetry.meter is not None:
            self.telemetry.retries.add(1, {"cause": cause})

    def waited(self, seconds: float) -> None:
        if seconds < _NOTICEABLE_WAIT:
            return
        if self.span is not None:
            self.span.add_event("rate_limit_wait", {"telnyx.wait": seconds})
        if self.telemetry.meter is not None:
            self.telemetry.rate_limit_wait.record(seconds)

    def sent(self, message: Message, *, status: int | None, attempts: int) -> None:
        span = self.span
        if span is not None:
            if status is not None:
                span.set_attribute("http.response.status_code", status)
            if message.id is not None:
                span.set_attribute("telnyx.message_id", message.id)
        self._end("sent", attempts)

    def failed(self, error: BaseException, *, attempts: int) -> None:
        # A store or a shared limit that failed (TelnyxError) failed before its POST; a
        # cancellation or a bug may have cut one short.
        if isinstance(error, APIError):
            unknown = error.outcome is Outcome.UNKNOWN
        else:
            unknown = not isinstance(error, TelnyxError)
        span = self.span
        if span is not None:
            if isinstance(error, APIStatusError):
                span.set_attribute("http.response.status_code", error.status_code)
                if error.code:
                    span.set_attribute("telnyx.error_code", error.code)
            span.set_attribute("error.type", type(error).__name__)
            span.set_status(self.telemetry.api.StatusCode.ERROR, type(error).__name__)
        self._end("unknown" if unknown else "failed", attempts)

    def _end(self, outcome: str, attempts: int) -> None:
        elapsed = time.perf_counter() - self.started
        if self.span is not None:
            self.span.set_attribute("telnyx.attempts", attempts)
            self.span.set_attribute("telnyx.outcome", outcome)
            self.span.end()
        telemetry = self.telemetry
        if telemetry.meter is not None:
            telemetry.sends.add(1, {"outcome": outcome})
            telemetry.duration.record(elapsed, {"outcome": outcome})
