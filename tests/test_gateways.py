"""Real gateway captures (LiteLLM 1.106.12, ``tests/reference/fixtures/gateways/``) replayed over
real loopback HTTP through the real client, streamed and not, sync and async.

What a gateway does that the stand-in does not: no ``event:`` lines and a ``data: [DONE]``
terminator, ``sequence_number`` on few events, extra keys, response ids of 400+ characters,
arguments split over deltas, its own error body around the upstream's, an SSE error body on an
HTTP 500, and ``x-litellm-call-id`` / ``request-id`` instead of ``x-request-id``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from agcloud_magic.api import Client, respond
from agcloud_magic.errors import (
    AuthenticationError,
    ModelNotFoundError,
    PreviousResponseNotFoundError,
    ServerError,
)
from agcloud_magic.http.retry import RetryPolicy

from .gateway_support import ReplayServer, capture, error_captures

KEY = "sk-test-gateway-0123456789abcdef"
FAST_RETRY = RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.02)
ECHO = "Echo: Say hi | msgs=1 roles=user sys=- | temperature=None top_p=None max_tokens=None"
NEW_HINT = "start afresh with --new (or %agcloud new)."


@pytest.fixture()
def gateway() -> Iterator[ReplayServer]:
    server = ReplayServer()
    yield server
    server.close()


def client_for(server: ReplayServer) -> Client:
    return Client(api_key=KEY, base_url=server.base_url, model="bridge", retry_policy=FAST_RETRY)


def create(client: Client, body: dict, *, use_async: bool, on_event=None):
    if use_async:
        return asyncio.run(client.acreate(body, on_event=on_event))
    return client.create(body, on_event=on_event)


def expect_error(client: Client, body: dict, kind: type, *, use_async: bool) -> Exception:
    with pytest.raises(kind) as info:
        create(client, body, use_async=use_async)
    assert KEY not in str(info.value) and KEY not in repr(info.value)
    return info.value


# -- answers ------------------------------------------------------------------------------


@pytest.mark.parametrize("use_async", [False, True])
def test_a_streamed_text_answer_without_event_lines(gateway, use_async):
    raw = capture("litellm_bridge_stream")
    gateway.push(raw)
    seen: list[dict] = []
    result = create(client_for(gateway), {"input": "Say hi", "stream": True},
                    use_async=use_async, on_event=seen.append)
    assert result.status == "completed" and result.text == ECHO
    deltas = [e["delta"] for e in seen if e["type"] == "response.output_text.delta"]
    assert "".join(deltas) == ECHO and len(deltas) == 11
    assert result.id.startswith("resp_") and len(result.id) > 400
    assert result.model == "fake-chat"  # the Response's own, not the extra "model" key
    assert result.request_id == raw.header("x-litellm-call-id")
    assert json.loads(gateway.bodies[0])["stream"] is True


@pytest.mark.parametrize("use_async", [False, True])
def test_a_whole_json_answer(gateway, use_async):
    raw = capture("litellm_bridge_nostream")
    gateway.push(raw)
    result = create(client_for(gateway), {"input": "Say hi", "stream": False},
                    use_async=use_async)
    assert result.status == "completed" and result.text == ECHO
    assert len(result.id) > 400 and result.usage["total_tokens"] == 18
    assert result.request_id == "794421f7-8672-4dc7-8efd-0b0087bbdaef"


@pytest.mark.parametrize("use_async", [False, True])
def test_a_function_call_with_arguments_split_over_deltas(gateway, use_async):
    gateway.push(capture("litellm_bridge_toolcall_stream"))
    result = create(client_for(gateway), {"input": "add 2 and 3", "stream": True},
                    use_async=use_async)
    [call] = result.function_calls
    assert call["name"] == "add" and call["call_id"] == "call_e25bd20ab58d"
    assert json.loads(call["arguments"]) == {"a": 2, "b": 3}


def test_a_tool_round_chains_on_the_long_response_id(gateway):
    toolcall, text = capture("litellm_bridge_toolcall_stream"), capture("litellm_bridge_stream")
    gateway.push(toolcall, text)
    calls: list[tuple[int, int]] = []

    def add(a: int, b: int) -> int:
        """Add two integers."""
        calls.append((a, b))
        return a + b

    result = respond("add 2 and 3", client=client_for(gateway), tools=[add], stream=True)
    assert result.text == ECHO and calls == [(2, 3)]
    first_id = json.loads(toolcall.body.split(b"\n\n")[0][6:])["response"]["id"]
    second = json.loads(gateway.bodies[1])
    assert len(first_id) > 400 and second["previous_response_id"] == first_id
    [output] = [i for i in second["input"] if i.get("type") == "function_call_output"]
    assert output["call_id"] == "call_e25bd20ab58d" and output["output"] == "5"


# -- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("use_async", [False, True])
def test_an_http_500_whose_body_is_an_event_stream(gateway, use_async):
    raw = capture("litellm_mock_stream")
    gateway.push(raw)
    error = expect_error(client_for(gateway), {"input": "x", "stream": True}, ServerError,
                         use_async=use_async)
    assert str(error) == (
        "Server error (500) after retries: try again shortly. Server said: Error processing "
        "stream start"
    )
    assert error.request_id == raw.header("x-litellm-call-id")
    assert len(gateway.bodies) == 3  # a 5xx is retried, twice


@pytest.mark.parametrize("use_async", [False, True])
def test_the_upstream_key_refused_behind_the_gateway(gateway, use_async):
    raw = error_captures()["upstream 401 (native-badkey), stream=true"]
    gateway.push(raw)
    error = expect_error(client_for(gateway), {"input": "x", "stream": True},
                         AuthenticationError, use_async=use_async)
    message = str(error)
    assert message.startswith("Authentication failed (401): check AGCLOUD_API_KEY")
    assert "Server said: " in message and "Incorrect API key provided: sk-re***." in message
    assert '{"error"' not in message and "\\" not in message
    assert error.request_id == raw.header("request-id")
    assert len(gateway.bodies) == 1


@pytest.mark.parametrize(
    "title",
    ["unknown previous_response_id (native-echo), stream=true", "same, direct to the stand-in"],
)
@pytest.mark.parametrize("use_async", [False, True])
def test_previous_response_not_found_through_the_gateway_and_direct(gateway, title, use_async):
    raw = error_captures()[title]
    gateway.push(raw)
    body = {"input": "x", "stream": True, "previous_response_id": "resp_doesnotexist"}
    error = expect_error(client_for(gateway), body, PreviousResponseNotFoundError,
                         use_async=use_async)
    assert str(error).endswith(NEW_HINT)
    assert error.request_id == (raw.header("request-id") or raw.header("x-request-id"))


@pytest.mark.parametrize("use_async", [False, True])
def test_an_unknown_model_behind_the_gateway(gateway, use_async):
    gateway.push(error_captures()["unknown model, stream=true"])
    client = client_for(gateway)
    error = expect_error(client, {"input": "x", "stream": True, "model": "no-such-model"},
                         ModelNotFoundError, use_async=use_async)
    assert str(error).startswith("Unknown model 'no-such-model' (400)")
    assert f"GET {gateway.base_url}/models) lists the models" in str(error)
    assert len(gateway.bodies) == 1


# -- the magic ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        ("unknown previous_response_id (native-echo), stream=true", NEW_HINT),
        ("unknown model, stream=true", "/models) lists the models"),
    ],
)
def test_the_magic_shows_our_one_line_not_the_gateway_text(gateway, monkeypatch, title, shown):
    from .magic_support import pointed_at, run_cell

    gateway.push(error_captures()[title])
    with pointed_at(gateway, monkeypatch) as ip:
        run = run_cell(ip, "%%respond\nhello")
    assert run.error is None and shown in run.everything
    assert "litellm" not in run.everything and "Traceback" not in run.everything
