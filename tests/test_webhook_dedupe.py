"""EventDeduplicator lets each event id through once, in bounded memory."""

from __future__ import annotations

import threading

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.webhooks import parse_event

from .webhook_support import envelope


def test_a_retried_event_is_seen_only_once() -> None:
    dedupe = tgm.EventDeduplicator()
    first = parse_event(envelope(event_id="evt-1", meta={"attempt": 1}))
    retry = parse_event(envelope(event_id="evt-1", meta={"attempt": 2}))
    assert dedupe.first_time(first)
    assert not dedupe.first_time(retry)
    assert first in dedupe
    assert len(dedupe) == 1


def test_event_ids_work_as_well_as_events() -> None:
    dedupe = tgm.EventDeduplicator()
    assert dedupe.first_time("evt-1")
    assert not dedupe.first_time(parse_event(envelope(event_id="evt-1")))
    assert 42 not in dedupe


def test_memory_is_bounded_by_forgetting_the_least_recently_seen() -> None:
    dedupe = tgm.EventDeduplicator(max_size=2)
    for event_id in ("a", "b"):
        dedupe.first_time(event_id)
    assert not dedupe.first_time("a")  # seen again: now the most recent
    assert dedupe.first_time("c")  # evicts "b"
    assert len(dedupe) == 2
    assert "a" in dedupe
    assert "b" not in dedupe
    assert dedupe.first_time("b")


def test_a_forgotten_event_counts_as_new_again() -> None:
    dedupe = tgm.EventDeduplicator()
    dedupe.first_time("evt-1")
    dedupe.forget("evt-1")
    dedupe.forget("never-seen")
    assert dedupe.first_time("evt-1")


def test_threads_racing_on_one_event_let_exactly_one_through() -> None:
    dedupe = tgm.EventDeduplicator()
    winners: list[bool] = []
    barrier = threading.Barrier(8)

    def race() -> None:
        barrier.wait()
        winners.append(dedupe.first_time("evt-1"))

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert winners.count(True) == 1


def test_a_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_size"):
        tgm.EventDeduplicator(max_size=0)
