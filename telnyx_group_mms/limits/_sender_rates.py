"""Per-sender rates that depend on the kind of sending number (long code, toll-free, short code).

Telnyx throttles each sending number by its kind: by default a long code sends 0.1
messages a second, a toll-free number 20 and a short code 1000. :class:`SenderRates`
gives each sender of a fan-out the rate of its kind, so a batch that mixes a toll-free
number with long codes is not held to the slowest of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, TypeAlias

import attrs

from .._numbers import E164, SenderKind, sender_kind
from ._buckets import check_rate

__all__ = ["PerSenderRate", "SenderRateRule", "SenderRates"]


def _check_rate_field(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    check_rate(attribute.name, value)


def _frozen_overrides(value: Mapping[str, float | None]) -> Mapping[str, float | None]:
    # A private copy, read-only: the caller's dict changing later must not change the rates.
    if not isinstance(value, Mapping):
        raise ValueError(
            f"overrides must be a mapping of +E.164 number to rate, not {type(value).__name__}"
        )
    return MappingProxyType(dict(value))


def _check_overrides(
    instance: object,
    attribute: attrs.Attribute[Mapping[str, float | None]],
    value: Mapping[str, float | None],
) -> None:
    for number, rate in value.items():
        if not isinstance(number, str) or E164.fullmatch(number) is None:
            # A key in another form ("18005551234") would silently match no sender.
            raise ValueError(
                f"overrides: key {number!r} is not a +E.164 number, so no sender would match it"
            )
        check_rate(f"overrides[{number!r}]", rate)


@attrs.frozen(kw_only=True)
class SenderRates:
    """Messages per second for each sending number, by its kind; ``None`` means no limit.

    The defaults are Telnyx's documented per-sender limits. The kind is read from the
    number's prefix only: a +E.164 number in a NANP toll-free area code (+1 800, 833,
    844, 855, 866, 877, 888) is toll-free, a bare 5-6 digit code is a short code, and
    anything else is a long code. Telnyx may have raised a number's limit, and a number
    may be of a kind its prefix does not show: give such numbers their rate in
    ``overrides``. (Group MMS senders are +E.164 numbers, so ``short_code`` applies only
    when the rule is asked about a bare short code.)

    >>> rates = SenderRates(overrides={"+13125550000": 1.0})
    >>> rates.rate_for("+18005551234"), rates.rate_for("+13125551234")
    (20.0, 0.1)

    Args:
        long_code: Rate of a long code (Telnyx's default: 0.1/s, one every ten seconds).
        toll_free: Rate of a toll-free number (Telnyx's default: 20/s).
        short_code: Rate of a short code (Telnyx's default: 1000/s).
        overrides: Rates of given +E.164 numbers, whatever their kind.

    Raises:
        ValueError: A rate is not a positive number (or ``None``), or an ``overrides``
            key is not a +E.164 number; the message names the field.
    """

    long_code: float | None = attrs.field(default=0.1, validator=_check_rate_field)
    toll_free: float | None = attrs.field(default=20.0, validator=_check_rate_field)
    short_code: float | None = attrs.field(default=1000.0, validator=_check_rate_field)
    overrides: Mapping[str, float | None] = attrs.field(
        factory=dict,
        converter=_frozen_overrides,
        validator=_check_overrides,
        repr=lambda overrides: repr(dict(overrides)),
        hash=False,  # a mapping is not hashable; equal rates still hash alike
    )

    @staticmethod
    def kind_of(from_: str) -> SenderKind:
        """The kind of ``from_``, read from its prefix (see the class docstring)."""
        return sender_kind(from_)

    def rate_for(self, from_: str) -> float | None:
        """Messages per second for ``from_``: its override, else the rate of its kind."""
        overrides = self.overrides
        if from_ in overrides:
            return overrides[from_]
        kind = self.kind_of(from_)
        if kind is SenderKind.TOLL_FREE:
            return self.toll_free
        if kind is SenderKind.SHORT_CODE:
            return self.short_code
        return self.long_code


#: A rule giving the messages per second of a sending number (``None``: no limit).
SenderRateRule: TypeAlias = Callable[[str], float | None]
#: What ``send_many(per_sender_rate=...)`` takes: one rate for every sender, rates by
#: kind of number, or a rule of your own.
PerSenderRate: TypeAlias = float | SenderRates | SenderRateRule


def check_per_sender_rate(value: PerSenderRate | None) -> None:
    """Raise :class:`ValueError` unless ``value`` is usable as ``per_sender_rate``."""
    if value is None or isinstance(value, SenderRates):
        return
    if callable(value) and not isinstance(value, type):
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(
            "per_sender_rate must be a positive number of messages per second, a "
            f"SenderRates, or a callable (from_) -> rate or None; got {value!r}"
        )
    check_rate("per_sender_rate", value)


def rule_for(value: PerSenderRate) -> SenderRateRule:
    """The rule behind a ``per_sender_rate`` setting (one already checked)."""
    if isinstance(value, SenderRates):
        return value.rate_for
    if callable(value):
        return value
    rate = value
    return lambda _from: rate
