"""``RateLimits``: one description of a client's limits, in this process or shared through Redis.

A client built with ``rate_limits=`` puts every send (single sends included) through
them: the account-wide rate, each sender's rate, and the pause after a 429. Without a
``redis_url`` they hold in this process, like ``send_many``'s own; with one, every
process and host that uses the same Redis and ``namespace`` shares them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final, Protocol

import attrs

from ..errors import RateLimitError
from ._buckets import PauseGate, SenderLimiters, check_rate, limiter_for
from ._sender_rates import PerSenderRate, check_per_sender_rate, rule_for

if TYPE_CHECKING:
    from ..models import Message

__all__ = ["DEFAULT_NAMESPACE", "RateLimits"]

#: The key prefix shared limits use in Redis unless told otherwise.
DEFAULT_NAMESPACE: Final = "telnyx-group-mms"


def _check_rate(instance: object, attribute: attrs.Attribute[float | None], value: object) -> None:
    check_rate(attribute.name, value)


def _check_sender_rate(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    check_per_sender_rate(value)


def _check_redis_url(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str) or value.split("://", 1)[0].lower() not in (
        "redis",
        "rediss",
        "unix",
    ):
        raise ValueError(f"redis_url must be a redis://, rediss:// or unix:// URL, got {value!r}")


def _check_namespace(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        raise ValueError(f"namespace must be a non-empty string without spaces, got {value!r}")


@attrs.frozen(kw_only=True)
class RateLimits:
    """The rate limits of every send of a client.

    Args:
        rate_limit: Account-wide messages per second (Telnyx's default is 15 MMS/s);
            ``None`` for no limit. Up to one second's worth may go out in a burst.
        per_sender_rate: Messages per second per ``from_`` number: a number, a
            :class:`SenderRates`, or a ``(from_) -> rate`` callable, as for ``send_many``.
        redis_url: Share the limits through this Redis (the ``redis`` extra): every
            process and host using it and ``namespace`` draws on the same buckets, and a
            429 answered to any of them pauses them all. ``None``: this process only.
        namespace: The prefix of the Redis keys; limits with different namespaces are
            independent. Buckets are kept per API key within it.

    Raises:
        ValueError: A setting is out of range (named in the message).
    """

    rate_limit: float | None = attrs.field(default=None, validator=_check_rate)
    per_sender_rate: PerSenderRate | None = attrs.field(default=None, validator=_check_sender_rate)
    redis_url: str | None = attrs.field(default=None, validator=_check_redis_url, repr=False)
    namespace: str = attrs.field(default=DEFAULT_NAMESPACE, validator=_check_namespace)


class Admission(Protocol):
    """Where a send waits its turn: this process's buckets, or Redis."""

    async def admit(self, sender: str) -> None: ...

    async def pause(self, error: RateLimitError) -> None: ...

    async def aclose(self) -> None: ...

    def forget(self) -> None: ...


class LocalAdmission:
    """:class:`RateLimits` held in this process."""

    def __init__(self, limits: RateLimits, *, max_pause: float) -> None:
        self._account = None if limits.rate_limit is None else limiter_for(limits.rate_limit)
        rule = limits.per_sender_rate
        self._senders = None if rule is None else SenderLimiters(rule_for(rule))
        self._gate = PauseGate(max_pause=max_pause)

    async def admit(self, sender: str) -> None:
        await self._gate.wait()
        if self._senders is not None:
            limiter = self._senders.get(sender)
            if limiter is not None:
                await self._senders.acquire(sender, limiter)
        if self._account is not None:
            await self._account.acquire()
        await self._gate.wait()

    async def pause(self, error: RateLimitError) -> None:
        if not error.queue_full:
            self._gate.pause(error.retry_after)

    async def aclose(self) -> None:
        return None

    def forget(self) -> None:
        return None


def sender_key(sender: str) -> str:
    """A sender's bucket name: a digest, so no phone number is written to Redis."""
    return hashlib.sha256(sender.encode()).hexdigest()[:20]


def admission_for(limits: RateLimits, *, scope: str, timeout: float, max_pause: float) -> Admission:
    """The admission a client with ``limits`` uses (no I/O: Redis connects on first use)."""
    if limits.redis_url is None:
        return LocalAdmission(limits, max_pause=max_pause)
    from ._redis import RedisAdmission

    return RedisAdmission(limits, scope=scope, timeout=timeout, max_pause=max_pause)


Attempt = Callable[[], Awaitable["Message"]]
Wrapper = Callable[[Attempt], Awaitable["Message"]]


def gate_with(admission: Admission, sender: str, inner: Wrapper | None) -> Wrapper:
    """An attempt wrapper: ``admission`` first, then ``inner`` (a fan-out's own gate and
    write-ahead record, if any), then the POST; a 429 pauses whoever shares the limits.

    The shared token is taken before the fan-out's ``before_send``, so a request that
    waits for it (or meets Redis down) has not been marked in flight yet.
    """

    async def gate(post: Attempt) -> Message:
        await admission.admit(sender)

        async def posted() -> Message:
            try:
                return await post()
            except RateLimitError as exc:
                await admission.pause(exc)
                raise

        return await (posted() if inner is None else inner(posted))

    return gate
