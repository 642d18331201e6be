"""The freshness check: it cannot be switched off by a bad clock value, and its refusals
state the timestamp's age without contradicting the tolerance they cite."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, strategies as st

from telnyx_group_mms.webhooks import WebhookVerificationError, unwrap, verify, verify_headers

from .webhook_support import NOW, Signer, body_of, envelope

SIGNER = Signer()
BODY = body_of(envelope())
# Either refusal names the age and the tolerance: "<age> s old, beyond the tolerance of <t> s".
REFUSAL = re.compile(
    r"the webhook timestamp is (?P<age>[0-9.]+) s (?:old|in the future), "
    r"beyond the tolerance of (?P<tolerance>[0-9.]+) s"
)


def refusal(timestamp: int, *, now: float, tolerance: float = 300.0) -> re.Match[str]:
    with pytest.raises(WebhookVerificationError) as info:
        unwrap(
            BODY,
            SIGNER.headers(BODY, timestamp=timestamp),
            public_key=SIGNER.public_key,
            tolerance=tolerance,
            now=now,
        )
    match = REFUSAL.fullmatch(str(info.value))
    assert match is not None, str(info.value)
    return match


def test_a_timestamp_just_past_the_tolerance_is_not_rounded_down_to_it() -> None:
    # The clock reads 0.7 s into a second: the timestamp 301 whole seconds ahead of it is
    # 300.3 s in the future, which rounding to whole seconds would call "300 s".
    match = refusal(NOW + 301, now=NOW + 0.7)
    assert match["age"] == "300.3"
    assert match["tolerance"] == "300"


def test_a_whole_number_of_seconds_is_stated_as_such() -> None:
    assert refusal(NOW - 301, now=NOW)["age"] == "301"
    assert refusal(NOW + 301, now=NOW)["age"] == "301"


@given(
    offset=st.integers(min_value=-10_000, max_value=10_000),
    fraction=st.floats(min_value=0, max_value=0.999_999),
    tolerance=st.floats(min_value=0, max_value=5_000).map(lambda t: round(t, 3)),
)
def test_the_stated_age_always_exceeds_the_stated_tolerance_and_never_the_true_age(
    offset: int, fraction: float, tolerance: float
) -> None:
    now = NOW + fraction
    true_age = abs(now - (NOW + offset))
    if true_age <= tolerance:
        return  # accepted: nothing to word
    match = refusal(NOW + offset, now=now, tolerance=tolerance)
    stated_age, stated_tolerance = float(match["age"]), float(match["tolerance"])
    assert stated_tolerance == tolerance
    assert stated_tolerance < stated_age <= true_age + 1e-6  # microsecond rounding at most


@pytest.mark.parametrize("now", [math.nan, math.inf, -math.inf])
def test_a_non_finite_clock_is_refused_rather_than_passing_every_timestamp(now: float) -> None:
    # nan compares false with everything, so "age > tolerance" would never hold.
    headers = SIGNER.headers(BODY, timestamp=1)
    with pytest.raises(ValueError, match="now must be a finite number"):
        unwrap(BODY, headers, public_key=SIGNER.public_key, now=now)
    with pytest.raises(ValueError, match="now must be a finite number"):
        verify_headers(headers, now=now)


@pytest.mark.parametrize("tolerance", [math.nan, math.inf])
def test_a_non_finite_tolerance_is_refused_rather_than_passing_every_timestamp(
    tolerance: float,
) -> None:
    headers = SIGNER.headers(BODY, timestamp=1)
    with pytest.raises(ValueError, match="tolerance must be a finite number"):
        verify(BODY, headers, public_key=SIGNER.public_key, tolerance=tolerance, now=NOW)
    with pytest.raises(ValueError, match="tolerance must be a finite number"):
        verify_headers(headers, tolerance=tolerance, now=NOW)


def test_verify_headers_refuses_a_stale_or_unsigned_request_without_its_body() -> None:
    headers = SIGNER.headers(BODY, timestamp=NOW)
    verify_headers(headers, now=NOW)
    with pytest.raises(WebhookVerificationError, match="401 s old"):
        verify_headers(headers, now=NOW + 401)
    with pytest.raises(WebhookVerificationError, match="missing header telnyx-signature-ed25519"):
        verify_headers({"telnyx-timestamp": str(NOW)}, now=NOW)
    with pytest.raises(WebhookVerificationError, match="not a 64-byte ed25519 signature"):
        verify_headers(headers | {"telnyx-signature-ed25519": "AAAA"}, now=NOW)
