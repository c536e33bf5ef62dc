"""Latency and rate-limit profiles of the stand-in (standin/pacing.py, ratelimit.py,
profiles.py), over loopback HTTP with plain httpx, and the limiter on a fake clock."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from agcloud_magic.standin import StandinServer
from agcloud_magic.standin.common import ApiError
from agcloud_magic.standin.events import StreamEvent
from agcloud_magic.standin.pacing import Latency
from agcloud_magic.standin.ratelimit import RateLimiter

KEY = "sk-test-profiles-0000"
AUTH = {"Authorization": f"Bearer {KEY}"}
# A structured answer whose length is known in advance: a const string of 400 characters.
LONG = {"type": "json_schema", "name": "long", "strict": True,
        "schema": {"type": "object", "properties": {"t": {"const": "x" * 400}},
                   "required": ["t"], "additionalProperties": False}}


def _post(srv: StandinServer, **body: Any) -> httpx.Response:
    return httpx.post(f"{srv.base_url}/responses", json={"model": "echo", "input": "hi", **body},
                      headers=AUTH, timeout=20)


def _stream_times(srv: StandinServer, **body: Any) -> list[tuple[float, dict[str, Any]]]:
    """``(seconds since the request, event)`` for each event of a streamed answer."""
    start = time.monotonic()
    out = []
    with httpx.stream("POST", f"{srv.base_url}/responses",
                      json={"model": "echo", "input": "hi", "stream": True, **body},
                      headers=AUTH, timeout=20) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: "):
                out.append((time.monotonic() - start, json.loads(line[6:])))
    return out


# -- latency --------------------------------------------------------------------------------


def test_latency_is_off_by_default(standin: StandinServer) -> None:
    assert not standin.latency_profile.active
    assert _post(standin).status_code == 200


def test_first_token_delays_a_json_answer(standin: StandinServer) -> None:
    standin.latency(first_token=0.4)
    start = time.monotonic()
    assert _post(standin).status_code == 200
    assert time.monotonic() - start >= 0.39


def test_tokens_per_second_paces_a_json_answer(standin: StandinServer) -> None:
    # 400 characters of const text plus the JSON around it: a little over 100 tokens.
    standin.latency(tokens_per_second=200)
    start = time.monotonic()
    response = _post(standin, text={"format": LONG})
    elapsed = time.monotonic() - start
    assert response.status_code == 200
    assert elapsed >= 0.5  # >= 100 tokens at 200 per second
    assert elapsed < 10  # and not some runaway wait


def test_a_stream_waits_for_its_first_token_then_flows(standin: StandinServer) -> None:
    standin.latency(first_token=0.5, tokens_per_second=400)
    events = _stream_times(standin, text={"format": LONG})
    created = events[0][0]
    first_delta = next(t for t, e in events if e["type"] == "response.output_text.delta")
    last = events[-1][0]
    assert first_delta - created >= 0.45  # created at once, the first token after the delay
    assert last - first_delta >= 0.2  # ~100 more tokens at 400 per second: ~0.25 s
    assert events[-1][1]["type"] == "response.completed"


def test_latency_off_again_and_bad_values(standin: StandinServer) -> None:
    standin.latency(first_token=1.0)
    standin.latency()
    assert not standin.latency_profile.active
    with pytest.raises(ValueError, match="first_token"):
        standin.latency(first_token=-1)
    with pytest.raises(ValueError, match="tokens_per_second"):
        standin.latency(tokens_per_second=0)


def test_stream_waits_put_the_first_token_on_the_first_delta() -> None:
    def ev(kind: str, **data: Any) -> StreamEvent:
        return StreamEvent(kind, {"type": kind, **data})

    events = [ev("response.created"), ev("a.delta", delta="abcd"), ev("a.delta", delta="efghijkl"),
              ev("response.completed")]
    assert Latency(0.5, 2.0).stream_waits(events) == [0.0, 0.5, 1.0, 0.0]
    assert Latency(0.5).stream_waits([ev("x"), ev("y")]) == [0.0, 0.5]  # no delta at all
    response = {"output": [{"type": "message", "content": [{"text": "x" * 40}]},
                           {"type": "function_call", "arguments": "y" * 8}]}
    assert Latency(0.25, 4.0).whole(response) == pytest.approx(0.25 + 12 / 4)


# -- rate limits ----------------------------------------------------------------------------


def test_rate_limits_are_off_by_default(standin: StandinServer) -> None:
    for _ in range(5):
        assert _post(standin).status_code == 200
    assert standin.rate_limiter is None
    assert (standin.requests_served, standin.rate_limited) == (5, 0)


def test_over_the_rpm_the_answer_is_429_with_retry_after(standin: StandinServer) -> None:
    standin.rate_limit(rpm=2)
    assert [_post(standin).status_code for _ in range(2)] == [200, 200]
    refused = _post(standin)
    assert refused.status_code == 429
    retry = refused.headers["Retry-After"]
    assert retry.isdigit() and 1 <= int(retry) <= 60
    error = refused.json()["error"]
    assert error["type"] == "requests" and error["code"] == "rate_limit_exceeded"
    assert error["message"].startswith("Rate limit reached for requests")
    assert (standin.requests_served, standin.rate_limited) == (2, 1)
    assert refused.headers["x-ratelimit-limit-requests"] == "2"
    assert refused.headers["x-ratelimit-remaining-requests"] == "0"


def test_answers_carry_the_rate_limit_headers(standin: StandinServer) -> None:
    assert "x-ratelimit-limit-requests" not in _post(standin).headers  # no limits: none
    standin.rate_limit(rpm=10, tpm=1000)
    first = _post(standin, max_output_tokens=99)
    assert first.headers["x-ratelimit-remaining-requests"] == "9"
    assert first.headers["x-ratelimit-remaining-tokens"] == "900"  # 1 input + 99 reserved
    assert first.headers["x-ratelimit-reset-tokens"] == "60s"
    with httpx.stream("POST", f"{standin.base_url}/responses", headers=AUTH, timeout=20,
                      json={"model": "echo", "input": "hi", "stream": True}) as streamed:
        assert streamed.headers["x-ratelimit-remaining-requests"] == "8"


def test_over_the_tpm_counting_max_output_tokens(standin: StandinServer) -> None:
    standin.rate_limit(tpm=100)
    # "hi" is 1 input token; 60 reserved output tokens: 61 of 100.
    assert _post(standin, max_output_tokens=60).status_code == 200
    refused = _post(standin, max_output_tokens=60)
    assert refused.status_code == 429
    assert refused.json()["error"]["type"] == "tokens"
    assert int(refused.headers["Retry-After"]) >= 1
    assert _post(standin, max_output_tokens=30).status_code == 200  # 61 + 31 fits


def test_without_max_output_tokens_the_answer_counts(standin: StandinServer) -> None:
    standin.rate_limit(tpm=150)
    assert _post(standin, text={"format": LONG}).status_code == 200  # ~104 output tokens
    assert _post(standin, max_output_tokens=50).status_code == 429  # 105 + 51 > 150


def test_the_window_frees_up(standin: StandinServer) -> None:
    standin.rate_limit(rpm=1, window=1.0)
    assert _post(standin).status_code == 200
    refused = _post(standin)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    time.sleep(1.05)
    assert _post(standin).status_code == 200


def test_a_refused_request_consumes_no_scripted_turn(standin: StandinServer) -> None:
    standin.rate_limit(rpm=1, window=1.0)
    assert _post(standin).status_code == 200
    standin.script("scripted answer")
    assert _post(standin).status_code == 429
    time.sleep(1.05)
    answer = _post(standin).json()
    assert answer["output"][0]["content"][0]["text"] == "scripted answer"


def test_streams_count_as_served_and_limits_turn_off(standin: StandinServer) -> None:
    standin.rate_limit(rpm=1)
    _stream_times(standin)
    assert _post(standin, stream=True).status_code == 429
    standin.rate_limit()
    assert _post(standin).status_code == 200
    assert (standin.requests_served, standin.rate_limited) == (2, 1)
    standin.clear()
    assert (standin.requests_served, standin.rate_limited) == (0, 0)


def test_the_limiter_says_when_the_window_frees_up() -> None:
    now = [0.0]
    limiter = RateLimiter(rpm=2, tpm=1000, clock=lambda: now[0])
    limiter.admit(100)
    now[0] = 10.0
    limiter.admit(100)
    now[0] = 20.0
    with pytest.raises(ApiError) as refused:
        limiter.admit(1)
    assert refused.value.status == 429 and refused.value.headers["Retry-After"] == "40"
    assert refused.value.headers["x-ratelimit-remaining-requests"] == "0"
    assert refused.value.headers["x-ratelimit-reset-requests"] == "50s"  # t=10 leaves at 70
    now[0] = 60.0  # the first admission has left the window
    limiter.admit(1)
    tokens = RateLimiter(tpm=1000, clock=lambda: now[0])
    tokens.admit(100)
    now[0] = 70.0
    admitted = tokens.admit(700)
    tokens.settle(admitted, 800)
    now[0] = 75.0
    with pytest.raises(ApiError) as too_many_tokens:
        tokens.admit(150)  # 900 + 150 > 1000: fits when the one from t=60 leaves, at t=120
    assert too_many_tokens.value.error_type == "tokens"
    assert too_many_tokens.value.headers["Retry-After"] == "45"
    assert too_many_tokens.value.headers["x-ratelimit-remaining-tokens"] == "100"
    assert "x-ratelimit-limit-requests" not in too_many_tokens.value.headers  # no RPM set
    with pytest.raises(ApiError) as never:
        tokens.admit(5000)
    assert never.value.headers["Retry-After"] == "60"


def test_bad_limits_are_refused() -> None:
    for bad in ({"rpm": 0}, {"tpm": -1}, {"rpm": 1.5}, {"rpm": True}):
        with pytest.raises(ValueError):
            RateLimiter(**bad)
    with pytest.raises(ValueError, match="window"):
        RateLimiter(rpm=1, window=0)


# -- the package's own client (no openai SDK) ------------------------------------------------


def test_the_client_waits_out_a_rate_limit_and_reads_a_structured_call(
    standin: StandinServer,
) -> None:
    from agcloud_magic.http.client import Client
    from agcloud_magic.http.retry import RetryPolicy
    from agcloud_magic.http.settings import Settings

    tool = {"type": "function", "name": "label", "strict": True, "parameters": {
        "type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"],
        "additionalProperties": False}}
    client = Client(Settings(api_key=KEY, base_url=standin.base_url, model="echo"),
                    retry_policy=RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.05))
    try:
        standin.rate_limit(rpm=1, window=1.0)
        body = {"input": "row text", "tools": [tool], "tool_choice": "required"}
        first = client.create({**body, "stream": True})
        second = client.create(body)  # 429 Retry-After: 1, then the retry goes through
    finally:
        client.close()
    assert (standin.requests_served, standin.rate_limited) == (2, 1)
    (call,) = first.function_calls
    assert call["name"] == "label" and isinstance(json.loads(call["arguments"])["ok"], bool)
    assert second.function_calls[0]["arguments"] == call["arguments"]
