"""The fan-out's settings: their defaults and the checks made before any iteration."""

from __future__ import annotations

from typing import Final

from ..limits._buckets import check_rate
from ..limits._sender_rates import PerSenderRate, check_per_sender_rate

__all__: list[str] = []  # internal: send_many's parameters are the public face

#: How many requests ``send_many`` may read ahead of the results it has yielded, at
#: most, looking for a sender that is ready while every request read waits for its own.
DEFAULT_READ_AHEAD: Final = 10_000


def check_fan_out_settings(
    *,
    concurrency: int,
    rate_limit: float | None,
    per_sender_rate: PerSenderRate | None,
    pool_size: int,
    read_ahead: int = DEFAULT_READ_AHEAD,
) -> None:
    """Refuse settings the fan-out cannot honour.

    Raises:
        ValueError: ``concurrency`` or ``read_ahead`` is below 1, ``concurrency`` is
            above the connection pool (which would silently become the real limit), a
            rate is not positive, or ``per_sender_rate`` is neither a rate, a
            :class:`SenderRates` nor a callable.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a positive integer, got {concurrency!r}")
    if isinstance(read_ahead, bool) or not isinstance(read_ahead, int) or read_ahead < 1:
        raise ValueError(f"read_ahead must be a positive integer, got {read_ahead!r}")
    if concurrency > pool_size:
        raise ValueError(
            f"concurrency {concurrency} exceeds the client's connection pool "
            f"(max_connections={pool_size}), which would become the real limit; create the "
            f"client with max_connections={concurrency} or more"
        )
    check_rate("rate_limit", rate_limit)
    check_per_sender_rate(per_sender_rate)
