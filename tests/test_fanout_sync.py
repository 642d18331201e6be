"""The sync twin of send_many: the same engine on the client's private loop."""

from __future__ import annotations

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.sandbox import Fault, Sandbox

from .conftest import KEY
from .fanout_support import CountingSource, make_requests


def test_the_sync_twin_yields_every_result(telnyx_sandbox: Sandbox) -> None:
    telnyx_sandbox.faults.script(Fault.status(422))
    with tgm.Telnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        results = list(client.messages.send_many(make_requests(20), concurrency=5))
    assert sorted(r.index for r in results) == list(range(20))
    assert sum(r.ok for r in results) == 19
    assert [type(r.error) for r in results if not r.ok] == [tgm.UnprocessableEntityError]


def test_the_sync_twin_reads_its_input_lazily(telnyx_sandbox: Sandbox) -> None:
    source = CountingSource(make_requests(1_000_000))
    with tgm.Telnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        for seen, _ in enumerate(client.messages.send_many(source, concurrency=3), start=1):
            assert source.pulled <= seen + 6
            if seen == 50:
                break
    assert telnyx_sandbox.request_count <= source.pulled <= 50 + 6


def test_the_sync_twin_checks_its_settings_before_any_iteration(telnyx_sandbox: Sandbox) -> None:
    with tgm.Telnyx(api_key=KEY, base_url=telnyx_sandbox.base_url, max_connections=2) as client:
        with pytest.raises(ValueError, match="max_connections=2"):
            client.messages.send_many([], concurrency=3)
        with pytest.raises(ValueError, match="rate_limit"):
            client.messages.send_many([], concurrency=2, rate_limit=-1)
    with pytest.raises(tgm.TelnyxError, match="closed"):
        client.messages.send_many([])
