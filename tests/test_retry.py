"""The retry policy, pure."""

from __future__ import annotations

import random
from email.utils import formatdate

from agcloud_magic.http.retry import RetryPolicy, parse_retry_after

POLICY = RetryPolicy(max_retries=2, base_delay=0.5, max_delay=8.0, jitter=0.0)


def test_retryable_statuses():
    for status in (408, 409, 429, 500, 502, 503):
        assert POLICY.delay_for(0, status=status) == 0.5
    for status in (400, 401, 403, 404, 422):
        assert POLICY.delay_for(0, status=status) is None


def test_bounded():
    assert POLICY.delay_for(1, status=500) == 1.0
    assert POLICY.delay_for(2, status=500) is None


def test_retry_after_seconds_ms_and_date():
    assert POLICY.delay_for(0, status=429, headers={"retry-after": "3"}) == 3.0
    assert POLICY.delay_for(0, status=429, headers={"retry-after-ms": "250"}) == 0.25
    date = formatdate(1_000_010, usegmt=True)
    assert abs(parse_retry_after({"retry-after": date}, now=1_000_000) - 10) < 1
    assert parse_retry_after({"retry-after": "soon"}) is None


def test_too_long_retry_after_means_no_retry():
    assert POLICY.delay_for(0, status=429, headers={"retry-after": "600"}) is None


def test_should_retry_header_and_quota():
    assert POLICY.delay_for(0, status=500, headers={"x-should-retry": "false"}) is None
    assert POLICY.delay_for(0, status=400, headers={"x-should-retry": "true"}) == 0.5
    assert POLICY.delay_for(0, status=429, error_code="insufficient_quota") is None


def test_transport_errors_retry_and_jitter_stays_in_range():
    policy = RetryPolicy(max_retries=3, base_delay=1.0, jitter=0.25)
    rng = random.Random(1)
    for attempt in range(3):
        delay = policy.delay_for(attempt, transport_error=True, rng=rng)
        assert 0.75 * 2**attempt <= delay <= 2**attempt
