"""The rate options: ``--rate`` (``bulk``, ``demo``), and ``bulk``'s ``--per-sender-rate R|auto``
and ``--sender-rate``."""

from __future__ import annotations

import attrs
import click

from ..limits._buckets import check_rate
from ..limits._sender_rates import PerSenderRate, SenderRates

__all__ = [
    "check_rate_option",
    "parse_per_sender_rate",
    "parse_sender_rates",
    "per_sender_rate_setting",
]

#: The word for "Telnyx's default rate for each kind of number".
AUTO = "auto"


def _positive_rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    try:
        check_rate("rate", rate)  # the fan-out's own test, so what passes here works there
    except ValueError:
        raise ValueError(f"{text!r} is not a positive number of messages per second") from None
    return rate


def check_rate_option(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """``--rate``: messages per second, or 0 for no limit (``FloatRange`` lets NaN through)."""
    if value:
        try:
            _positive_rate(str(value))
        except ValueError as exc:
            raise click.BadParameter(f"{exc}; give 0 for no limit") from None
    return value


def parse_per_sender_rate(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> float | SenderRates | None:
    """``--per-sender-rate``: a positive number of messages per second, or ``auto``."""
    if value is None:
        return None
    text = value.strip()
    if text.lower() == AUTO:
        return SenderRates()
    try:
        return _positive_rate(text)
    except ValueError as exc:
        raise click.BadParameter(f"{exc}; give a positive number or {AUTO!r}") from None


def parse_sender_rates(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[tuple[str, float], ...]:
    """``--sender-rate NUMBER=RATE`` (repeatable): numbers with a rate of their own."""
    parsed = []
    for value in values:
        number, sep, rate_text = value.partition("=")
        number = number.strip()
        try:
            if not sep:
                raise ValueError(f"{value!r} is not NUMBER=RATE (e.g. +18005551234=50)")
            rate = _positive_rate(rate_text.strip())
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
        try:
            SenderRates(overrides={number: rate})  # the rate is fine: only the number is left
        except ValueError:
            raise click.BadParameter(
                f"{number!r} is not a +E.164 number (e.g. +18005551234)"
            ) from None
        parsed.append((number, rate))
    return tuple(parsed)


def per_sender_rate_setting(
    base: float | SenderRates | None, overrides: tuple[tuple[str, float], ...]
) -> PerSenderRate | None:
    """What ``--per-sender-rate`` and the ``--sender-rate`` options ask for, as one setting.

    The numbers named by ``--sender-rate`` get their own rate; every other sender gets
    ``base`` (a rate, rates by kind, or no limit).
    """
    if not overrides:
        return base
    named = dict(overrides)
    if isinstance(base, SenderRates):
        return attrs.evolve(base, overrides={**base.overrides, **named})
    return SenderRates(long_code=base, toll_free=base, short_code=base, overrides=named)
