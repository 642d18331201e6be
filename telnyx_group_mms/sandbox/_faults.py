"""Misbehaviour on demand: scripted and random faults, and a per-account rate limit."""

from __future__ import annotations

import enum
import math
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping

import attrs

__all__ = [
    "Fault",
    "FaultKind",
    "FaultPlan",
    "FaultRates",
    "RateLimiter",
    "RateVerdict",
    "seconds_text",
]


class FaultKind(enum.Enum):
    """What a :class:`Fault` does to one request."""

    STATUS = "status"
    """Answer with an error status and a Telnyx error body; the message is not taken in."""
    DROP = "drop"
    """Read the request, then close the connection without answering; not taken in."""
    DELAY = "delay"
    """Wait, then handle the request as usual (so it is taken in, even if the client gave up)."""
    MALFORMED = "malformed"
    """Take the message in, then answer 200 with a body that is not JSON."""


def seconds_text(seconds: float) -> str:
    """Seconds as Telnyx writes them: ``1``, ``2.5`` (plain decimals, never an exponent)."""
    return format(seconds, "f").rstrip("0").rstrip(".") or "0"


def _non_negative(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"{attribute.name} must not be negative, got {value!r}")


@attrs.frozen(kw_only=True)
class Fault:
    """One deliberate misbehaviour of the sandbox, for one request.

    Build one with :meth:`status`, :meth:`drop`, :meth:`delay` or :meth:`malformed`;
    ``str(fault)`` is its short name, the one :meth:`parse` reads (``503``, ``429:1``,
    ``drop``, ``delay:2.5``, ``malformed``).
    """

    kind: FaultKind
    status_code: int | None = None
    code: str | None = None
    retry_after: float | None = attrs.field(default=None)
    seconds: float = attrs.field(default=0.0, validator=_non_negative)

    @retry_after.validator
    def _check_retry_after(self, attribute: attrs.Attribute[float], value: float | None) -> None:
        if value is not None:
            _non_negative(self, attribute, value)

    def __attrs_post_init__(self) -> None:
        if (self.kind is FaultKind.STATUS) != (self.status_code is not None):
            raise ValueError("a status fault, and only a status fault, has a status_code")
        if self.status_code is not None and not 400 <= self.status_code <= 599:
            raise ValueError(f"a fault status must be 4xx or 5xx, got {self.status_code}")

    def __str__(self) -> str:
        if self.kind is FaultKind.STATUS:
            if self.retry_after is None:
                return str(self.status_code)
            return f"{self.status_code}:{seconds_text(self.retry_after)}"
        if self.kind is FaultKind.DELAY:
            return f"delay:{seconds_text(self.seconds)}"
        return str(self.kind.value)

    @classmethod
    def status(
        cls, status_code: int, /, *, code: str | None = None, retry_after: float | None = None
    ) -> Fault:
        """Answer ``status_code`` with a Telnyx error body.

        Args:
            status_code: A 4xx or 5xx status.
            code: Telnyx's error code; by default the usual one for the status
                (``10011`` for 429, ``10007`` for 5xx, ...).
            retry_after: Seconds to send in ``Retry-After`` (fractions are sent as decimals).
        """
        return cls(
            kind=FaultKind.STATUS, status_code=status_code, code=code, retry_after=retry_after
        )

    @classmethod
    def drop(cls) -> Fault:
        """Close the connection without answering."""
        return cls(kind=FaultKind.DROP)

    @classmethod
    def delay(cls, seconds: float, /) -> Fault:
        """Wait ``seconds`` before handling the request as usual."""
        return cls(kind=FaultKind.DELAY, seconds=seconds)

    @classmethod
    def malformed(cls) -> Fault:
        """Answer 200 with a body that is not JSON."""
        return cls(kind=FaultKind.MALFORMED)

    @classmethod
    def parse(cls, text: str, /) -> Fault:
        """A fault from its short name: ``503``, ``429``, ``drop``, ``delay:2.5``, ``malformed``.

        Raises:
            ValueError: The text names no fault.
        """
        name, _, argument = text.strip().lower().partition(":")
        if name.isdigit():
            return cls.status(int(name), retry_after=float(argument) if argument else None)
        if name == "delay":
            return cls.delay(float(argument) if argument else 1.0)
        if name in ("drop", "malformed") and not argument:
            return cls.drop() if name == "drop" else cls.malformed()
        raise ValueError(
            f"unknown fault {text!r}; use a status (503, 429:1), drop, delay[:SECONDS] or malformed"
        )


def _check_rates(instance: object, attribute: object, value: Mapping[Fault, float]) -> None:
    for fault, rate in value.items():
        if not isinstance(fault, Fault):
            raise TypeError(f"rates keys must be Fault objects, not {type(fault).__name__}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"a fault rate must be between 0 and 1, got {rate!r}")
    if sum(value.values()) > 1.0 + 1e-9:
        raise ValueError("fault rates add up to more than 1")


@attrs.frozen(kw_only=True)
class FaultRates:
    """Random faults: each request meets ``fault`` with probability ``rates[fault]``.

    Example: ``FaultRates(rates={Fault.status(503): 0.1, Fault.drop(): 0.02})``.
    """

    rates: Mapping[Fault, float] = attrs.field(factory=dict, validator=_check_rates)


class FaultPlan:
    """The faults a sandbox serves: scripted ones first, in order, then random ones.

    Thread-safe: a test may script faults from its own thread while the sandbox serves.
    Random draws come from one generator seeded with the sandbox's ``seed``, one draw per
    request that has no scripted fault, so a seeded run repeats exactly. It counts the
    faults it served, so a run can be checked against what it went through.
    """

    def __init__(self, *, rates: FaultRates | None = None, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._scripted: deque[Fault] = deque()
        self._seed = seed
        self._rng = random.Random(seed)
        self._rates = rates or FaultRates()
        self._served: Counter[Fault] = Counter()

    def script(self, *faults: Fault) -> None:
        """Serve these faults to the next requests, one each, in order."""
        with self._lock:
            self._scripted.extend(faults)

    @property
    def pending(self) -> int:
        """How many scripted faults have not been served yet."""
        return len(self._scripted)

    @property
    def rates(self) -> FaultRates:
        """The random faults in force."""
        return self._rates

    @rates.setter
    def rates(self, rates: FaultRates) -> None:
        self._rates = rates

    @property
    def served(self) -> dict[Fault, int]:
        """How many times each fault was served since creation or :meth:`reset`."""
        with self._lock:
            return dict(self._served)

    def reset(self) -> None:
        """Forget scripted faults and counts; restart the random sequence from the seed."""
        with self._lock:
            self._scripted.clear()
            self._served.clear()
            self._rng = random.Random(self._seed)

    def next(self) -> Fault | None:
        """The fault for the next request, if any."""
        with self._lock:
            fault = self._scripted.popleft() if self._scripted else self._draw()
            if fault is not None:
                self._served[fault] += 1
            return fault

    def _draw(self) -> Fault | None:
        rates = self._rates.rates
        if not rates:
            return None
        draw = self._rng.random()
        for fault, rate in rates.items():
            draw -= rate
            if draw < 0:
                return fault
        return None


@attrs.frozen(kw_only=True)
class RateVerdict:
    """Whether one request fits the rate limit, and the ``x-ratelimit-*`` numbers."""

    allowed: bool
    limit: int
    remaining: int
    reset: int
    """Whole seconds until the current window ends (at least 1)."""

    def headers(self) -> dict[str, str]:
        """The ``x-ratelimit-*`` headers Telnyx sends."""
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(self.reset),
        }


class RateLimiter:
    """At most ``limit`` requests per ``window`` seconds for each account (API key).

    Fixed windows, as the ``x-ratelimit-*`` headers describe them: a window opens at an
    account's first request and admits ``limit`` requests until it ends.
    """

    def __init__(
        self, *, limit: int, window: float = 1.0, clock: Callable[[], float] | None = None
    ) -> None:
        if limit < 1:
            raise ValueError(f"the rate limit must be at least 1, got {limit!r}")
        self.limit = limit
        self._window = window
        self._clock = clock or time.monotonic
        self._windows: dict[str, tuple[float, int]] = {}

    def take(self, account: str) -> RateVerdict:
        """Count one request of ``account`` and say whether it is allowed."""
        now = self._clock()
        start, used = self._windows.get(account, (now, 0))
        if now - start >= self._window:
            start, used = now, 0
        allowed = used < self.limit
        if allowed:
            used += 1
        self._windows[account] = (start, used)
        reset = max(1, math.ceil(start + self._window - now))
        return RateVerdict(
            allowed=allowed, limit=self.limit, remaining=self.limit - used, reset=reset
        )

    def reset(self) -> None:
        """Forget every account's window."""
        self._windows.clear()
