"""Retries that never double-send by default: a policy, one classification, tenacity inside.

Every decision reads :func:`classify`: ``SAFE`` failures (Telnyx certainly did not take
the message) are retried, ``UNKNOWN`` ones only when the policy opts in, ``FINAL`` ones
never. tenacity is used only here and only once an attempt has failed, so the happy path
costs one ``await``.
"""

from __future__ import annotations

import functools
import importlib
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final, TypeVar

import attrs

from ._off_loop import Once
from .errors import APIError, APIStatusError, Outcome, RateLimitError

__all__ = ["RATE_LIMIT_REQUEUES", "RetryEvent", "RetryPolicy", "classify", "should_requeue"]

logger = logging.getLogger("telnyx_group_mms")

T = TypeVar("T")

if TYPE_CHECKING:  # imported for real on the first failure (see Retrier)
    import tenacity

# Off the event loop, once, on the first failure.
_TENACITY = Once(lambda: importlib.import_module("tenacity"), name="telnyx-group-mms-loader")


@attrs.frozen(kw_only=True)
class RetryEvent:
    """What :attr:`RetryPolicy.on_retry` is told before each retry.

    Attributes:
        attempt: The 1-based number of the attempt that failed.
        wait: Seconds about to be slept before the next attempt.
        cause: The error that attempt raised.
    """

    attempt: int
    wait: float
    cause: APIError


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must not be negative, got {value!r}")


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How failed sends are retried.

    Args:
        max_attempts: POSTs at most, the first included (1 turns retries off).
        initial_backoff: Upper bound, in seconds, of the first jittered wait; it doubles
            per attempt ("full jitter" exponential backoff).
        max_backoff: Cap of the jittered wait.
        max_retry_after: When Telnyx asks for a longer wait than this (``Retry-After``),
            the error is raised at once with ``retry_after`` set.
        retry_unknown_outcome: Also retry failures after which the message may have
            been sent (500, 502, 504, read timeouts, dropped connections). Off by
            default: Telnyx has no idempotency key, so such a retry can double-send.
        on_retry: Called with a :class:`RetryEvent` before each retry's wait.
    """

    max_attempts: int = attrs.field(default=3)
    initial_backoff: float = attrs.field(default=0.5, validator=_positive)
    max_backoff: float = attrs.field(default=8.0, validator=_positive)
    max_retry_after: float = attrs.field(default=60.0, validator=_positive)
    retry_unknown_outcome: bool = False
    on_retry: Callable[[RetryEvent], None] | None = None

    @max_attempts.validator
    def _check_attempts(self, attribute: attrs.Attribute[int], value: int) -> None:
        if value < 1:
            raise ValueError(f"max_attempts must be at least 1, got {value!r}")


def classify(error: BaseException) -> Outcome:
    """Whether a failure is safe to retry, of unknown outcome, or final."""
    if isinstance(error, APIError):
        return error.outcome
    return Outcome.FINAL


#: A fan-out request that ends in a 429 after its retries is sent again, after the
#: shared pause, this many times at most; a 429 is safe to resend, and the bound makes a
#: batch under sustained throttling end.
RATE_LIMIT_REQUEUES: Final = 8


def should_requeue(error: RateLimitError, *, requeues: int, max_pause: float) -> bool:
    """Whether the fan-out sends a request again after its retries ended in ``error``.

    Never for a full sender queue (code 40318): it drains at the sender's rate, often far
    slower than the rounds of a pause. Nor when Telnyx asks for a longer wait than
    ``max_pause``, or after :data:`RATE_LIMIT_REQUEUES` rounds.

    Args:
        error: The 429 the request's last attempt got.
        requeues: How many times the request was already sent again.
        max_pause: The longest ``Retry-After`` the fan-out waits out.
    """
    if error.queue_full or requeues >= RATE_LIMIT_REQUEUES:
        return False
    return error.retry_after is None or error.retry_after <= max_pause


def _describe(error: BaseException) -> str:
    # Never the detail text: Telnyx echoes phone numbers there, and INFO logs must not.
    if isinstance(error, APIStatusError):
        code = f" code {error.code}" if error.code else ""
        return f"{type(error).__name__} {error.status_code}{code}"
    return type(error).__name__


class Retrier:
    """Runs one send under a :class:`RetryPolicy`."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy

    @functools.cached_property
    def _backoff(self) -> tenacity.wait.wait_base:
        # tenacity is imported on the first failure: a script that sends and exits
        # without one never pays for loading it.
        import tenacity

        return tenacity.wait_random_exponential(
            multiplier=self.policy.initial_backoff, max=self.policy.max_backoff
        )

    def should_retry(self, error: BaseException) -> bool:
        """True when the policy retries this failure (attempts left aside)."""
        outcome = classify(error)
        if outcome is Outcome.FINAL:
            return False
        if outcome is Outcome.UNKNOWN and not self.policy.retry_unknown_outcome:
            return False
        retry_after = getattr(error, "retry_after", None)
        return retry_after is None or retry_after <= self.policy.max_retry_after

    def _wait(self, state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return float(retry_after)
        return float(self._backoff(state))

    def _before_sleep(
        self, state: tenacity.RetryCallState, observe: Callable[[RetryEvent], None] | None = None
    ) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        assert isinstance(error, APIError)
        logger.info(
            "group MMS attempt %d of %d failed (%s); retrying in %.2f s",
            state.attempt_number,
            self.policy.max_attempts,
            _describe(error),
            wait,
        )
        event = RetryEvent(attempt=state.attempt_number, wait=wait, cause=error)
        if observe is not None:
            observe(event)
        if self.policy.on_retry is not None:
            self.policy.on_retry(event)

    async def call(
        self,
        attempt: Callable[[], Awaitable[T]],
        *,
        observe: Callable[[RetryEvent], None] | None = None,
    ) -> T:
        """Await ``attempt()`` until it succeeds or the policy gives up; raise its error.

        ``observe`` is told of each retry, before the policy's own ``on_retry``.
        """
        try:
            return await attempt()
        except APIError as exc:
            if self.policy.max_attempts <= 1 or not self.should_retry(exc):
                raise
            failed: APIError | None = exc

        if "tenacity" not in sys.modules:  # the first failure: load it without blocking
            await _TENACITY.get()
        import tenacity

        retrying = tenacity.AsyncRetrying(
            stop=tenacity.stop_after_attempt(self.policy.max_attempts),
            wait=self._wait,
            retry=tenacity.retry_if_exception(self.should_retry),
            before_sleep=functools.partial(self._before_sleep, observe=observe),
            reraise=True,
        )
        async for state in retrying:
            with state:
                # The first attempt already ran outside tenacity; replay its failure so
                # tenacity owns every wait, log line and callback.
                if failed is not None:
                    error, failed = failed, None
                    raise error
                return await attempt()
        raise AssertionError("tenacity stopped without an outcome")  # pragma: no cover
