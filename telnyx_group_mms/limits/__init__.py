"""Rate limits: per-sender token buckets in this process, and the rules that set their rates.

The buckets live in :mod:`._buckets`, the per-sender rate rules in :mod:`._sender_rates`.
"""

from ._sender_rates import PerSenderRate, SenderRateRule, SenderRates

__all__ = ["PerSenderRate", "SenderRateRule", "SenderRates"]
