"""Mutation-testing gaps in errors.py and the retry policy: key redaction, one-line messages,
the status -> exception mapping and Retry-After parsing.  Pure functions, tested directly."""

from __future__ import annotations

import json
import random
import time
from email.utils import formatdate

import pytest

from agcloud_magic.errors import (
    AGCloudError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    PreviousResponseNotFoundError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    one_line,
    redact,
    status_error,
)
from agcloud_magic.http.retry import RetryPolicy, parse_retry_after


def body(**error) -> bytes:
    return json.dumps({"error": error}).encode()


# -- redact and one_line ------------------------------------------------------------------


def test_redact_masks_the_secret_and_anything_key_shaped():
    assert redact("key=my-own-secret here", "my-own-secret") == "key=[redacted key] here"
    assert redact("a sk-abcdef b") == "a sk-ab…[redacted] b"
    assert redact("sk-ab_-9XYZ and sk-abcde") == "sk-ab…[redacted] and sk-abcde"
    assert redact("nothing here", None) == "nothing here"
    assert redact("nothing here", "") == "nothing here"


def test_one_line_collapses_whitespace_and_cuts_at_the_limit():
    assert one_line("  a\n\tb   c ") == "a b c"
    assert one_line("x" * 300) == "x" * 300
    assert one_line("x" * 301) == "x" * 299 + "…"
    assert one_line("abcdef", limit=4) == "abc…"
    assert one_line(12) == "12"


def test_error_messages_are_one_line_redacted_and_at_most_600_characters():
    error = AGCloudError("first\nsecond sk-abcdefghij " + "y" * 700, partial="p")
    assert "\n" not in str(error) and "sk-abcdefghij" not in str(error)
    assert str(error).startswith("first second sk-ab…[redacted] ")
    assert len(error.message) == 600 + len("…[redacted]") - len("cdefghij")
    assert error.partial == "p" and error.args == (error.message,)


# -- status_error -------------------------------------------------------------------------


def test_401_says_check_the_key_and_keeps_the_details():
    error = status_error(401, body(message="bad key sk-live-123456789", type="auth", code="k",
                                   param="p"), {"x-request-id": "req_1"})
    assert type(error) is AuthenticationError
    assert str(error) == (
        "Authentication failed (401): check AGCLOUD_API_KEY (or run %agcloud login); the key may "
        "be missing, mistyped, revoked or expired. Server said: bad key sk-li…[redacted]"
    )
    assert (error.status, error.code, error.error_type, error.param, error.request_id) == (
        401, "k", "auth", "p", "req_1"
    )


@pytest.mark.parametrize(
    ("status", "payload"),
    [
        (402, {"message": "pay up"}),
        (429, {"message": "pay up", "code": "insufficient_quota"}),
        (429, {"message": "pay up", "type": "balance_error"}),
        (403, {"message": "pay up: your quota is gone"}),
    ],
)
def test_quota_errors(status, payload):
    error = status_error(status, body(**payload))
    assert type(error) is QuotaExceededError and error.status == status
    assert str(error).startswith(
        f"Quota or balance exhausted ({status}): top up or raise the plan limit in the AGCloud "
        "dashboard; retrying will not help. Server said: pay up"
    )


def test_403_404_429_5xx_messages():
    assert str(status_error(403, body(message="no"))) == (
        "Permission denied (403): this key may not use this model or route. Server said: no"
    )
    assert type(status_error(403, b"")) is PermissionDeniedError
    assert str(status_error(403, b"")) == (
        "Permission denied (403): this key may not use this model or route."
    )
    assert str(status_error(404, body(message="gone"))) == (
        "Not found (404): check the model name and AGCLOUD_BASE_URL. Server said: gone"
    )
    assert type(status_error(404, b"")) is NotFoundError
    error = status_error(429, body(message="slow down", code="rate_limit_exceeded"))
    assert type(error) is RateLimitError and str(error) == (
        "Rate limited (429) after retries: wait a moment and run again. Server said: slow down"
    )
    for status in (500, 503, 599):
        error = status_error(status, body(message="oops"))
        assert type(error) is ServerError and str(error) == (
            f"Server error ({status}) after retries: try again shortly. Server said: oops"
        )
    assert type(status_error(499, b"")) is BadRequestError


def test_previous_response_not_found():
    error = status_error(400, body(message="x", code="previous_response_not_found"))
    assert type(error) is PreviousResponseNotFoundError
    assert str(error) == (
        "The server no longer has the previous response of this conversation: start afresh "
        "with --new (or %agcloud new)."
    )


def test_bad_request_names_the_parameter_and_quotes_the_server():
    error = status_error(400, body(message="input is wrong", param="input", code=7))
    assert type(error) is BadRequestError
    assert str(error) == "Request rejected (400) (parameter input): input is wrong"
    assert error.code == "7" and error.param == "input" and error.error_type is None
    assert error.request_id is None
    assert str(status_error(422, b"")) == "Request rejected (422): no details given"


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        (json.dumps({"type": "error", "error": {"type": "x", "message": "agcloud style"}}),
         "agcloud style"),
        (json.dumps({"error": "a plain string"}), "a plain string"),
        (json.dumps({"message": "top level"}), "top level"),
        (json.dumps({"error": {"message": ""}, "message": "fallback"}), "fallback"),
        ("<html>Bad Gateway</html>", "<html>Bad Gateway</html>"),
        (json.dumps([1, 2]), "[1, 2]"),
        ("x" * 300, "x" * 200),
    ],
)
def test_the_server_text_is_read_from_every_body_shape(raw, said):
    error = status_error(400, raw.encode())
    assert str(error) == f"Request rejected (400): {said}"


def test_server_text_is_redacted_and_cut_to_one_line():
    error = status_error(500, body(message="own-secret-value and\nsk-abcdefgh " + "z" * 300),
                         secret="own-secret-value")
    text = str(error)
    assert "own-secret-value" not in text and "sk-abcdefgh" not in text
    assert "Server said: [redacted key] and sk-ab…[redacted] zzz" in text
    assert text.endswith("z…") and len(text.split("Server said: ")[1]) <= 240 + 20


def test_error_fields_are_text_or_none():
    error = status_error(400, body(message="m", code=None, type=3, param=4.5))
    assert (error.code, error.error_type, error.param) == (None, "3", "4.5")
    assert status_error(400, b"{not json").message == "Request rejected (400): {not json"


# -- retry --------------------------------------------------------------------------------


def test_parse_retry_after_edge_cases():
    assert parse_retry_after({"retry-after-ms": "-5"}) == 0.0
    assert parse_retry_after({"retry-after-ms": "abc", "retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "", "retry-after": "1.5"}) == 1.5
    assert parse_retry_after({"retry-after": "-3"}) == 0.0
    assert parse_retry_after({}) is None
    assert parse_retry_after({"retry-after": ""}) is None
    past = formatdate(1_000_000, usegmt=True)
    assert parse_retry_after({"retry-after": past}, now=1_000_100) == 0.0
    soon = formatdate(time.time() + 30, usegmt=True)
    assert 25 <= parse_retry_after({"retry-after": soon}) <= 31


def test_delay_for_edge_cases():
    policy = RetryPolicy(max_retries=3, base_delay=0.5, max_delay=3.0, jitter=0.0)
    assert policy.delay_for(2, status=500) == 2.0
    assert policy.delay_for(3, status=500) is None
    assert policy.delay_for(0, status=500, headers={"x-should-retry": "FALSE"}) is None
    assert policy.delay_for(0, transport_error=True, headers={"x-should-retry": "false"}) is None
    assert policy.delay_for(0, transport_error=True) == 0.5
    assert policy.delay_for(0) is None  # neither a status nor a transport error
    assert policy.delay_for(0, status=499) is None and policy.delay_for(0, status=500) == 0.5
    assert policy.delay_for(0, status=429, headers={"retry-after": "120"}) == 120.0
    assert policy.delay_for(0, status=429, headers={"retry-after": "120.5"}) is None
    assert policy.delay_for(0, status=429, headers={"retry-after": "0"}) == 0.0
    assert policy.delay_for(0, status=429, error_code="rate_limit_exceeded") == 0.5


def test_backoff_is_capped_and_jitter_only_shortens():
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=0.5)
    assert policy.backoff(0, random.Random(0)) <= 0.5
    assert RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=0.0).backoff(4) == 3.0
    assert RetryPolicy(base_delay=0.5, max_delay=30.0, jitter=0.0).backoff(3) == 4.0
    rng = random.Random(7)
    expected = 2.0 * (1.0 - random.Random(7).random() * 0.5)
    assert policy.backoff(2, rng) == expected
    assert all(0.25 <= policy.backoff(0) <= 0.5 for _ in range(50))
