"""OpenTelemetry spans and metrics of sends, read back with the SDK's in-memory exporter
and metric reader, the providers given to the client (no global state touched)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import telnyx_group_mms as tgm
from telnyx_group_mms.sandbox import Fault, Sandbox

from .conftest import FROM, KEY, TO, fast_retry
from .scripted_server import Reply, ScriptedServer

TEXT = "Your table for four is ready"


class Recorded:
    """A tracer provider and a meter provider that keep what they are given."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def providers(self) -> dict[str, Any]:
        return {"tracer_provider": self.tracer_provider, "meter_provider": self.meter_provider}

    def spans(self, name: str = "telnyx.group_mms.send") -> list[ReadableSpan]:
        return [s for s in self.exporter.get_finished_spans() if s.name == name]

    def points(self, metric: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        found: list[Any] = []
        for resource in data.resource_metrics if data else []:
            for scope in resource.scope_metrics:
                for each in scope.metrics:
                    if each.name == metric:
                        found.extend(each.data.data_points)
        return found

    def every_value(self) -> Iterator[str]:
        """Every attribute value of every span, event and data point, as text."""
        for span in self.exporter.get_finished_spans():
            yield from (str(v) for v in (span.attributes or {}).values())
            yield str(span.status.description)
            for event in span.events:
                yield event.name
                yield from (str(v) for v in (event.attributes or {}).values())
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data else []:
            for scope in resource.scope_metrics:
                for each in scope.metrics:
                    for point in each.data.data_points:
                        yield from (str(v) for v in (point.attributes or {}).values())


@pytest.fixture
def recorded() -> Recorded:
    return Recorded()


async def send(sandbox: Sandbox, recorded: Recorded, **settings: Any) -> tgm.Message:
    async with tgm.AsyncTelnyx(
        api_key=KEY, base_url=sandbox.base_url, **recorded.providers(), **settings
    ) as client:
        return await client.messages.send_group_mms(from_=FROM, to=TO, text=TEXT)


def test_a_successful_send_is_one_client_span_and_one_sent_data_point(recorded: Recorded) -> None:
    async def scenario() -> tgm.Message:
        async with Sandbox() as sandbox:
            return await send(sandbox, recorded)

    message = asyncio.run(scenario())
    (span,) = recorded.spans()
    assert span.kind is SpanKind.CLIENT
    assert dict(span.attributes or {}) == {
        "telnyx.recipients": 2,
        "telnyx.attempts": 1,
        "telnyx.outcome": "sent",
        "http.response.status_code": 200,
        "telnyx.message_id": message.id,
    }
    assert span.status.status_code is StatusCode.UNSET
    (sent,) = recorded.points("telnyx.group_mms.sends")
    assert (dict(sent.attributes), sent.value) == ({"outcome": "sent"}, 1)
    (duration,) = recorded.points("telnyx.group_mms.duration")
    assert duration.count == 1 and duration.sum > 0


def test_a_retried_503_is_one_span_with_a_retry_event_and_a_retry_data_point(
    recorded: Recorded,
) -> None:
    async def scenario() -> None:
        async with Sandbox() as sandbox:
            sandbox.faults.script(Fault.status(503))
            await send(sandbox, recorded, retry=fast_retry())

    asyncio.run(scenario())
    (span,) = recorded.spans()
    assert span.attributes is not None
    assert span.attributes["telnyx.attempts"] == 2
    assert span.attributes["telnyx.outcome"] == "sent"
    (event,) = span.events
    assert event.name == "retry"
    assert dict(event.attributes or {})["cause"] == "503"
    assert dict(event.attributes or {})["telnyx.attempt"] == 1
    (retry,) = recorded.points("telnyx.group_mms.retries")
    assert (dict(retry.attributes), retry.value) == ({"cause": "503"}, 1)


def test_an_unknown_500_is_an_error_span_with_outcome_unknown(recorded: Recorded) -> None:
    async def scenario() -> None:
        async with Sandbox() as sandbox:
            sandbox.faults.script(Fault.status(500))
            with pytest.raises(tgm.InternalServerError) as caught:
                await send(sandbox, recorded)
            assert caught.value.outcome_unknown

    asyncio.run(scenario())
    (span,) = recorded.spans()
    attributes = dict(span.attributes or {})
    assert attributes["telnyx.outcome"] == "unknown"
    assert attributes["http.response.status_code"] == 500
    assert attributes["error.type"] == "InternalServerError"
    assert "telnyx.error_code" in attributes
    assert span.status.status_code is StatusCode.ERROR
    (point,) = recorded.points("telnyx.group_mms.sends")
    assert dict(point.attributes) == {"outcome": "unknown"}


def test_a_refusal_is_an_error_span_with_outcome_failed_and_the_telnyx_code(
    recorded: Recorded,
) -> None:
    async def scenario() -> None:
        async with Sandbox() as sandbox:
            sandbox.faults.script(Fault.status(409))
            with pytest.raises(tgm.ConflictError):
                await send(sandbox, recorded)

    asyncio.run(scenario())
    (span,) = recorded.spans()
    attributes = dict(span.attributes or {})
    assert attributes["telnyx.outcome"] == "failed"
    assert attributes["http.response.status_code"] == 409
    assert str(attributes["telnyx.error_code"]).isdigit()


def test_a_validation_error_raises_before_any_span(recorded: Recorded) -> None:
    async def scenario() -> None:
        async with (
            Sandbox() as sandbox,
            tgm.AsyncTelnyx(
                api_key=KEY, base_url=sandbox.base_url, **recorded.providers()
            ) as client,
        ):
            with pytest.raises(tgm.RequestValidationError):
                await client.messages.send_group_mms(from_="not a number", to=TO, text="x")

    asyncio.run(scenario())
    assert recorded.exporter.get_finished_spans() == ()
    assert recorded.points("telnyx.group_mms.sends") == []


def test_a_send_many_of_20_is_one_trace_under_one_parent_with_rate_limit_waits(
    recorded: Recorded,
) -> None:
    requests = [tgm.GroupMmsRequest(from_=FROM, to=TO, text=f"{TEXT} {i}") for i in range(20)]

    async def scenario() -> None:
        async with (
            Sandbox() as sandbox,
            tgm.AsyncTelnyx(
                api_key=KEY, base_url=sandbox.base_url, **recorded.providers()
            ) as client,
        ):
            results = [r async for r in client.messages.send_many(requests, rate_limit=10)]
            assert all(r.ok for r in results)

    asyncio.run(scenario())
    (parent,) = recorded.spans("telnyx.group_mms.send_many")
    sends = recorded.spans()
    assert len(sends) == 20
    assert parent.context is not None
    for span in sends:
        assert span.parent is not None and span.parent.span_id == parent.context.span_id
        assert span.context is not None and span.context.trace_id == parent.context.trace_id
    assert dict(parent.attributes or {}) == {"telnyx.results": 20}
    # A bucket of 10/s lets a second's burst through, then makes the rest wait.
    waits = [e for s in sends for e in s.events if e.name == "rate_limit_wait"]
    assert waits
    (histogram,) = recorded.points("telnyx.group_mms.rate_limit_wait")
    assert histogram.count == len(waits)


def test_no_attribute_holds_a_number_text_url_or_key(
    recorded: Recorded, server: ScriptedServer
) -> None:
    # Telnyx echoes numbers and text in its error details; none of it may be recorded.
    echo = {"errors": [{"code": "40002", "title": "Bad", "detail": f"{TO[0]}: {TEXT}"}]}
    server.push(Reply(status=503, body=echo), Reply(status=422, body=echo))

    async def failing() -> None:
        async with tgm.AsyncTelnyx(
            api_key=KEY, base_url=server.base_url, retry=fast_retry(), **recorded.providers()
        ) as client:
            with pytest.raises(tgm.UnprocessableEntityError, match="table for four"):
                await client.messages.send_group_mms(from_=FROM, to=TO, text=TEXT)

    asyncio.run(failing())

    async def more() -> None:
        async with Sandbox() as sandbox:
            await send(sandbox, recorded)
            requests = [tgm.GroupMmsRequest(from_=FROM, to=TO, text=TEXT)] * 3
            async with tgm.AsyncTelnyx(
                api_key=KEY, base_url=sandbox.base_url, **recorded.providers()
            ) as client:
                [r async for r in client.messages.send_many(requests, rate_limit=50)]

    asyncio.run(more())
    values = list(recorded.every_value())
    assert len(values) > 30
    forbidden = [FROM, *TO, FROM[2:], *(n[2:] for n in TO), TEXT, KEY, "127.0.0.1", "http"]
    leaks = [(v, f) for v in values for f in forbidden if f in v]
    assert leaks == []


def test_telemetry_false_records_nothing(recorded: Recorded) -> None:
    async def scenario() -> None:
        async with Sandbox() as sandbox:
            await send(sandbox, recorded, telemetry=False)

    asyncio.run(scenario())
    assert recorded.exporter.get_finished_spans() == ()
    assert recorded.points("telnyx.group_mms.sends") == []


def test_without_an_sdk_the_client_keeps_its_plain_send_path() -> None:
    # The global providers are OpenTelemetry's idle defaults in this test process.
    async def scenario() -> tgm.AsyncTelnyx:
        async with (
            Sandbox() as sandbox,
            tgm.AsyncTelnyx(api_key=KEY, base_url=sandbox.base_url) as client,
        ):
            await client.messages.send_group_mms(from_=FROM, to=TO, text=TEXT)
            return client

    client = asyncio.run(scenario())
    assert client._telemetry is None


def test_the_sync_client_records_the_same_span(recorded: Recorded) -> None:
    with (
        Sandbox() as sandbox,
        tgm.Telnyx(api_key=KEY, base_url=sandbox.base_url, **recorded.providers()) as client,
    ):
        message = client.messages.send_group_mms(from_=FROM, to=TO, text=TEXT)
        raw = client.messages.with_raw_response.send_group_mms(from_=FROM, to=TO, text=TEXT)
    spans = recorded.spans()
    assert [dict(s.attributes or {})["telnyx.message_id"] for s in spans] == [
        message.id,
        raw.parse().id,
    ]


def test_a_bulk_run_is_one_trace(recorded: Recorded, tmp_path: Any) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        "".join(f'{{"from": "{FROM}", "to": ["{TO[0]}"], "text": "row {i}"}}\n' for i in range(5))
    )

    async def scenario() -> tgm.BulkSummary:
        async with (
            Sandbox() as sandbox,
            tgm.AsyncTelnyx(api_key=KEY, base_url=sandbox.base_url, **recorded.providers()) as c,
        ):
            return await tgm.run_bulk(rows, client=c, rate=None)

    summary = asyncio.run(scenario())
    assert summary.sent == 5
    (parent,) = recorded.spans("telnyx.group_mms.send_many")
    sends = recorded.spans()
    assert len(sends) == 5
    assert parent.context is not None
    assert {s.context.trace_id for s in sends if s.context} == {parent.context.trace_id}


def test_aiohttps_own_instrumentation_nests_its_http_span_under_the_send(
    recorded: Recorded,
) -> None:
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor

    instrumentor = AioHttpClientInstrumentor()
    instrumentor.instrument(tracer_provider=recorded.tracer_provider)
    try:

        async def scenario() -> None:
            async with Sandbox() as sandbox:
                await send(sandbox, recorded)

        asyncio.run(scenario())
    finally:
        instrumentor.uninstrument()
    (ours,) = recorded.spans()
    http = [s for s in recorded.exporter.get_finished_spans() if s.kind is SpanKind.CLIENT]
    http = [s for s in http if s.name != "telnyx.group_mms.send"]
    assert len(http) == 1
    assert ours.context is not None and http[0].parent is not None
    assert http[0].parent.span_id == ours.context.span_id
