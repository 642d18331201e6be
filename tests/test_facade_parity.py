"""The sync facade cannot drift from the async core: same parameters, defaults and kinds."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from telnyx_group_mms import (
    AsyncIdempotencyKeys,
    AsyncMessagesWithRawResponse,
    AsyncTelnyx,
    IdempotencyKeys,
    MessagesWithRawResponse,
    Telnyx,
)
from telnyx_group_mms._resources import AsyncMessages
from telnyx_group_mms.sync import Messages

# Where a sync signature must differ from the async one, and only in its annotation:
# the facade takes plain iterables and callables and yields from a plain generator.
SYNC_ANNOTATIONS = {
    ("send_many", "requests"): "Iterable[GroupMmsRequest]",
    ("send_many", "before_send"): "Callable[[int, GroupMmsRequest], None] | None",
    ("send_many", "return"): "Generator[SendResult, None, None]",
}


def public_methods(cls: type) -> set[str]:
    return {n for n, v in vars(cls).items() if not n.startswith("_") and callable(v)}


def shape(function: Callable[..., Any], method: str | None = None) -> list[tuple[object, ...]]:
    """Each parameter's name, kind, default and annotation, then the return annotation.

    With ``method``, the annotations the facade may change are replaced by what the
    facade must say instead, so an async shape becomes the sync shape it requires.
    """

    def annotation(name: str, given: object) -> object:
        return given if method is None else SYNC_ANNOTATIONS.get((method, name), given)

    signature = inspect.signature(function)
    rows: list[tuple[object, ...]] = [
        (p.name, p.kind, p.default, annotation(p.name, p.annotation))
        for p in signature.parameters.values()
    ]
    rows.append(("return", annotation("return", signature.return_annotation)))
    return rows


def test_the_sync_client_takes_exactly_the_async_clients_settings() -> None:
    assert shape(Telnyx.__init__) == shape(AsyncTelnyx.__init__)


def test_the_sync_and_async_messages_offer_the_same_methods() -> None:
    assert public_methods(Messages) == public_methods(AsyncMessages)


@pytest.mark.parametrize("method", sorted(public_methods(AsyncMessages)))
def test_each_sync_method_mirrors_its_async_twin(method: str) -> None:
    assert shape(getattr(Messages, method)) == shape(getattr(AsyncMessages, method), method)


@pytest.mark.parametrize(
    ("sync_class", "async_class"),
    [
        (IdempotencyKeys, AsyncIdempotencyKeys),
        (MessagesWithRawResponse, AsyncMessagesWithRawResponse),
        (Telnyx, AsyncTelnyx),
    ],
)
def test_the_other_sync_classes_mirror_their_async_twins(
    sync_class: type, async_class: type
) -> None:
    # The async client's extra methods (aclose) and properties (state) aside, every
    # method of the sync class has its twin, with the same shape.
    for method in sorted(public_methods(sync_class)):
        assert method in public_methods(async_class), method
        sync = shape(getattr(sync_class, method))
        mirrored = shape(getattr(async_class, method))
        assert sync == [*mirrored[:-1], ("return", sync[-1][1])], method


def test_the_parity_check_sees_a_drifted_default() -> None:
    def drifted() -> None:
        raise NotImplementedError

    signature = inspect.signature(Messages.send_group_mms)
    params = [
        p.replace(default="hi") if p.name == "text" else p for p in signature.parameters.values()
    ]
    drifted.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    mirrored = shape(AsyncMessages.send_group_mms, "send_group_mms")
    assert shape(Messages.send_group_mms) == mirrored
    assert shape(drifted) != mirrored
