"""Idempotency keys: what a store records for a key, and the one decision every store makes.

A store (SQLite, PostgreSQL, or one of the caller's own) keeps one record per
``(scope, key)`` and, inside one transaction, hands the record to :func:`decide_claim`, then
writes what it says. The rules therefore cannot differ between backends.
"""

from __future__ import annotations

import contextlib
import enum
import json
from typing import Protocol, runtime_checkable

import attrs

from ._states import SendState

# What a store of one's own needs is public; effective_state and status_of serve the
# package's stores.
__all__ = [
    "DEFAULT_RETENTION",
    "Claim",
    "ClaimKind",
    "IdempotencyStore",
    "KeyRecord",
    "KeyStatus",
    "decide_claim",
]

#: Records are kept this long after their last change (Telnyx's own idempotency window,
#: where it has one, is 24 hours), then pruned by the store as it goes.
DEFAULT_RETENTION = 24 * 3600.0


@attrs.frozen(kw_only=True)
class KeyRecord:
    """One key's record, as a store holds it.

    Attributes:
        state: ``IN_FLIGHT``, ``SENT``, ``FAILED`` or ``UNKNOWN``.
        digest: The digest of the request first sent under the key.
        owner: The token of the send that holds (or last held) the key.
        holder: A backend's way to tell whether the holder still runs (a process, a
            database session); empty when it cannot tell.
        deadline: When an ``IN_FLIGHT`` record's send must have ended (epoch seconds).
        updated: When the record last changed (epoch seconds).
        message: The message Telnyx returned, as JSON, for ``SENT``.
        error: What the failure was, for ``FAILED`` and ``UNKNOWN``.
    """

    state: SendState
    digest: str
    owner: str
    holder: str
    deadline: float
    updated: float
    message: str | None = None
    error: str | None = None


class ClaimKind(enum.Enum):
    """What a claim of a key found."""

    CLAIMED = "claimed"
    """The key is now held ``IN_FLIGHT`` by the claimant, who may send."""
    SENT = "sent"
    """Sent before: the stored message is the answer."""
    IN_PROGRESS = "in_progress"
    """Another live holder is sending; wait for its outcome."""
    UNKNOWN = "unknown"
    """An earlier send may have reached Telnyx; send nothing."""
    REUSED = "reused"
    """The key belongs to a different request."""


@attrs.frozen(kw_only=True)
class Claim:
    """The answer of :meth:`IdempotencyStore.claim`."""

    kind: ClaimKind
    message: str | None = None


@attrs.frozen(kw_only=True)
class KeyStatus:
    """Where an idempotency key stands, as ``idempotency_keys.status(key)`` reports it.

    Attributes:
        state: ``IN_FLIGHT``, ``SENT``, ``FAILED`` or ``UNKNOWN`` (an ``IN_FLIGHT`` record
            whose holder died or overran its deadline reads as ``UNKNOWN``).
        message_id: The id of the message sent under the key, for ``SENT``.
        error: What went wrong, for ``FAILED`` and ``UNKNOWN``.
        updated_at: When the record last changed (epoch seconds).
    """

    state: SendState
    message_id: str | None
    error: str | None
    updated_at: float


def decide_claim(
    record: KeyRecord | None,
    *,
    digest: str,
    now: float,
    retention: float,
    holder_alive: bool | None,
) -> tuple[Claim, SendState | None]:
    """What a claim of a key finds, and what the store must write.

    Args:
        record: The key's record, read under the transaction's lock; ``None`` if absent.
        digest: The digest of the request being sent now.
        now: The store's clock (the database server's, for a shared store).
        retention: Records older than this are as good as absent.
        holder_alive: For an ``IN_FLIGHT`` record, whether its holder still runs
            (``None``: the backend cannot tell, so the deadline decides).

    Returns:
        The claim's answer, and the state to write: ``IN_FLIGHT`` (take the key for this
        send), ``UNKNOWN`` (its holder is gone), or ``None`` (write nothing).
    """
    if record is None or (
        record.updated < now - retention
        and (record.state is not SendState.IN_FLIGHT or record.deadline < now)
    ):
        return Claim(kind=ClaimKind.CLAIMED), SendState.IN_FLIGHT
    if record.digest != digest:
        return Claim(kind=ClaimKind.REUSED), None
    if record.state is SendState.SENT:
        return Claim(kind=ClaimKind.SENT, message=record.message), None
    if record.state is SendState.FAILED:
        # Telnyx took nothing (a safe failure or a refusal): sending again cannot double-send.
        return Claim(kind=ClaimKind.CLAIMED), SendState.IN_FLIGHT
    if record.state is SendState.IN_FLIGHT:
        if effective_state(record, now=now, holder_alive=holder_alive) is SendState.UNKNOWN:
            return Claim(kind=ClaimKind.UNKNOWN), SendState.UNKNOWN
        return Claim(kind=ClaimKind.IN_PROGRESS), None
    return Claim(kind=ClaimKind.UNKNOWN), None


def check_retention(retention: object) -> float:
    """``retention`` in seconds, if it is a positive number.

    Raises:
        ValueError: It is not.
    """
    if isinstance(retention, bool) or not isinstance(retention, int | float) or retention <= 0:
        raise ValueError(f"retention must be a positive number of seconds, got {retention!r}")
    return float(retention)


def effective_state(record: KeyRecord, *, now: float, holder_alive: bool | None) -> SendState:
    """The record's state, an ``IN_FLIGHT`` one whose holder is gone read as ``UNKNOWN``."""
    if record.state is SendState.IN_FLIGHT and (holder_alive is False or record.deadline < now):
        return SendState.UNKNOWN
    return record.state


def status_of(
    record: KeyRecord | None, *, now: float, holder_alive: bool | None
) -> KeyStatus | None:
    """What ``status(key)`` reports for ``record``."""
    if record is None:
        return None
    message_id = None
    if record.message is not None:
        with contextlib.suppress(ValueError, AttributeError):
            message_id = json.loads(record.message).get("id")
    return KeyStatus(
        state=effective_state(record, now=now, holder_alive=holder_alive),
        message_id=message_id if isinstance(message_id, str) else None,
        error=record.error,
        updated_at=record.updated,
    )


@runtime_checkable
class IdempotencyStore(Protocol):
    """Where a client records idempotency keys; give one as ``idempotency_store=``.

    :class:`SqliteIdempotencyStore` and :class:`PostgresIdempotencyStore` implement it; a
    store of your own (another database) must make :meth:`claim` atomic (one key, one
    winner, across every process using the store) and durable before it returns, and
    should use :func:`decide_claim` for its answer. ``scope`` separates API keys (a digest,
    never the key itself); ``owner`` is a token unique to one send.
    """

    async def claim(self, *, scope: str, key: str, digest: str, owner: str, hold: float) -> Claim:
        """Take ``key`` for a send lasting at most ``hold`` seconds, or say why not."""
        ...

    async def settle(
        self,
        *,
        scope: str,
        key: str,
        owner: str,
        state: SendState,
        message: str | None = None,
        error: str | None = None,
    ) -> None:
        """Record a send's outcome, if ``owner`` still holds the key (or its unknown record)."""
        ...

    async def status(self, *, scope: str, key: str) -> KeyStatus | None:
        """Where ``key`` stands, or ``None`` if no record of it is kept."""
        ...

    async def resolve(self, *, scope: str, key: str, message: str) -> bool:
        """Record an ``UNKNOWN`` (or dead ``IN_FLIGHT``) key as sent; False if it was not."""
        ...

    async def mark_not_sent(self, *, scope: str, key: str) -> bool:
        """Record an ``UNKNOWN`` (or dead ``IN_FLIGHT``) key as not sent, so it may be sent.

        False if it was not unknown.
        """
        ...

    async def aclose(self) -> None:
        """Release connections; the store may be used again afterwards."""
        ...
