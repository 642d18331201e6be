"""Rate limits shared through Redis: one atomic round trip per attempt, on Redis's clock.

Each bucket is a GCRA "theoretical arrival time" in one key. A script takes the
account's token and the sender's token together or neither, and says how long to wait
when it cannot, so waiters sleep instead of polling; a 429's pause is a key every
process reads. Time is the Redis server's (``TIME``), so the hosts' clocks may disagree.

When Redis cannot be reached the send fails before its POST, within the client's
timeout, with :class:`BackendUnavailableError` naming the host, never the password: the
limits you set are a promise, so they fail closed.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from ..errors import BackendUnavailableError, RateLimitError
from ._buckets import DEFAULT_PAUSE
from ._sender_rates import rule_for
from ._shared import RateLimits, sender_key

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__: list[str] = []  # internal: RateLimits(redis_url=...) is the public face

EXTRA_HINT: Final = "pip install 'telnyx-group-mms[redis]'"
# Clients a forked child inherited: never used, never closed (their sockets are shared).
_INHERITED: list[Any] = []

# KEYS: account bucket, sender bucket, account pause, sender pause.
# ARGV: account interval (ms, 0 = no limit), account burst, sender interval, burst.
# Returns the milliseconds to wait (as text, to keep fractions), "0" once admitted.
_ADMIT: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local wait = 0
for i = 3, 4 do
  local until_ = tonumber(redis.call('GET', KEYS[i]) or '0')
  if until_ - now > wait then wait = until_ - now end
end
if wait > 0 then return tostring(wait) end
local tats = {}
for i = 1, 2 do
  local interval = tonumber(ARGV[2 * i - 1])
  if interval > 0 then
    local burst = tonumber(ARGV[2 * i])
    local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
    if tat < now then tat = now end
    local next_tat = tat + interval
    local w = next_tat - burst * interval - now
    if w > wait then wait = w end
    tats[i] = next_tat
  end
end
if wait > 0 then return tostring(wait) end
for i = 1, 2 do
  if tats[i] then
    redis.call('SET', KEYS[i], tostring(tats[i]), 'PX', math.ceil(tats[i] - now) + 1000)
  end
end
return '0'
"""

# KEYS: a pause key. ARGV: milliseconds. Extends the pause, never shortens it.
_PAUSE: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local until_ = now + tonumber(ARGV[1])
if until_ > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], tostring(until_), 'PX', math.ceil(tonumber(ARGV[1])) + 1000)
end
return 1
"""


def _where(url: str) -> str:
    """``host:port/db`` of a Redis URL, for messages: never its password."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "an unreadable redis URL"
    if parts.scheme == "unix":
        return parts.path
    return f"{parts.hostname or 'localhost'}:{port or 6379}{parts.path or '/0'}"


class RedisAdmission:
    """:class:`RateLimits` shared through Redis."""

    def __init__(self, limits: RateLimits, *, scope: str, timeout: float, max_pause: float) -> None:
        assert limits.redis_url is not None
        self._url = limits.redis_url
        self.where = _where(limits.redis_url)
        self._timeout = timeout
        self._max_pause = max_pause
        prefix = f"{limits.namespace}:{scope}"
        self._account_key = f"{prefix}:account"
        self._account_pause = f"{prefix}:pause"
        self._prefix = prefix
        self._account = _shape(limits.rate_limit)
        rule = limits.per_sender_rate
        self._rule = None if rule is None else rule_for(rule)
        self._sender_shapes: dict[str, tuple[float, float]] = {}
        self._redis: Redis | None = None
        self._admit: Any = None
        self._pause: Any = None

    def _connect(self) -> None:
        try:
            asyncio_redis = importlib.import_module("redis.asyncio")
            retry = importlib.import_module("redis.asyncio.retry")
            backoff = importlib.import_module("redis.backoff")
        except ImportError:
            raise BackendUnavailableError(
                f"shared rate limits need the redis extra: {EXTRA_HINT}",
                backend="redis",
                where=self.where,
            ) from None
        # No retries of its own: a send must fail (safely) within the client's timeout.
        self._redis = asyncio_redis.Redis.from_url(
            self._url,
            socket_timeout=self._timeout,
            socket_connect_timeout=self._timeout,
            retry=retry.Retry(backoff.NoBackoff(), 0),
        )
        self._admit = self._redis.register_script(_ADMIT)
        self._pause = self._redis.register_script(_PAUSE)

    def _sender_shape(self, sender: str) -> tuple[float, float]:
        shape = self._sender_shapes.get(sender)
        if shape is None:
            rate = None if self._rule is None else self._rule(sender)
            shape = self._sender_shapes[sender] = _shape(rate)
        return shape

    async def admit(self, sender: str) -> None:
        """Wait until this send may go: both tokens taken, no pause in force."""
        if self._redis is None:
            self._connect()
        digest = sender_key(sender)
        keys = [
            self._account_key,
            f"{self._prefix}:sender:{digest}",
            self._account_pause,
            f"{self._prefix}:pause:{digest}",
        ]
        args = [*self._account, *self._sender_shape(sender)]
        while True:
            wait_ms = float(await self._call(self._admit, keys, args))
            if wait_ms <= 0:
                return
            await asyncio.sleep(wait_ms / 1000.0)

    async def pause(self, error: RateLimitError) -> None:
        """Pause every process after a 429: the sender alone for a full sender queue."""
        if self._redis is None:
            self._connect()
        wait = DEFAULT_PAUSE if error.retry_after is None else error.retry_after
        seconds = min(wait, self._max_pause)
        if error.queue_full:
            return  # its sender's queue drains at the sender's rate; the bucket paces it
        await self._call(self._pause, [self._account_pause], [seconds * 1000.0])

    async def _call(self, script: Any, keys: list[str], args: list[float]) -> Any:
        redis = importlib.import_module("redis")
        try:
            return await script(keys=keys, args=args)
        except (TimeoutError, redis.RedisError, OSError) as exc:
            raise BackendUnavailableError(
                f"shared rate limits: Redis at {self.where} failed "
                f"({type(exc).__name__}); nothing was sent",
                backend="redis",
                where=self.where,
            ) from None

    def forget(self) -> None:
        """In a forked child: drop the parent's connections unclosed; connect afresh."""
        if self._redis is not None:
            _INHERITED.append(self._redis)
            self._redis = None

    async def aclose(self) -> None:
        redis, self._redis = self._redis, None
        if redis is not None:
            await redis.aclose()


def _shape(rate: float | None) -> tuple[float, float]:
    """A rate as (interval in ms, burst): one second's worth, and at least one."""
    if rate is None:
        return (0.0, 0.0)
    return (1000.0 / rate, max(1.0, rate))
