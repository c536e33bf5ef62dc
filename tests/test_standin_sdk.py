"""The official openai SDK and raw httpx against the stand-in; every byte checked against the
reference JSON Schema."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import openai
import pytest

KEY = "sk-test-sdk-0000"
TOOLS = [{
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"], "additionalProperties": False},
    "strict": True,
}]


def _client(srv: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=srv.base_url, api_key=KEY, max_retries=0, timeout=10)


def raw_events(srv: Any, body: dict[str, Any]) -> list[dict[str, Any]]:
    """POST a streaming body with httpx and return the parsed ``data:`` payloads."""
    events = []
    with httpx.stream("POST", f"{srv.base_url}/responses", json={**body, "stream": True},
                      headers={"Authorization": f"Bearer {KEY}"}, timeout=10) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        name = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
                assert data["type"] == name  # the event: line matches data.type
                events.append(data)
    return events


def assert_valid(validator: Any, instance: Any) -> None:
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_sdk_streams_text(standin: Any) -> None:
    stream = _client(standin).responses.create(model="gpt-4o-mini", input="Hello, stand-in!",
                                               stream=True)
    events = list(stream)
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[0].type == "response.created"
    assert events[-1].type == "response.completed"
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == events[-1].response.output_text
    assert "You said: Hello, stand-in!" in text
    assert events[-1].response.model == "gpt-4o-mini"
    assert events[-1].response.usage.total_tokens > 0


def test_sdk_non_stream_and_chain(standin: Any) -> None:
    client = _client(standin)
    first = client.responses.create(model="echo", input="first turn", instructions="Be brief.")
    assert first.status == "completed"
    assert "Turn 1 of this conversation" in first.output_text
    assert first.instructions == "Be brief."
    second = client.responses.create(model="echo", input="second turn",
                                     previous_response_id=first.id)
    assert "Turn 2 of this conversation" in second.output_text
    assert second.previous_response_id == first.id
    assert second.instructions is None  # instructions are never inherited
    third = client.responses.create(model="echo", input="third", stream=True,
                                    previous_response_id=second.id)
    final = next(e for e in third if e.type == "response.completed").response
    assert "Turn 3 of this conversation" in final.output_text


def test_sdk_stream_helper_and_retrieve(standin: Any) -> None:
    """The SDK's own accumulating helper is stricter than iterating raw events."""
    client = _client(standin)
    standin.script([{"reasoning_summary": "Thinking.", "text": "Hello **there**.",
                     "calls": [{"name": "get_weather", "arguments": {"city": "Rome"}}]}])
    with client.responses.stream(model="echo", input="x", tools=TOOLS) as stream:
        text = "".join(e.delta for e in stream if e.type == "response.output_text.delta")
        final = stream.get_final_response()
    assert text == final.output_text == "Hello **there**."
    assert [item.type for item in final.output] == ["reasoning", "message", "function_call"]
    assert client.responses.retrieve(final.id).output_text == "Hello **there**."


def test_sdk_function_call_round_trip(standin: Any) -> None:
    client = _client(standin)
    first = client.responses.create(
        model="gpt-4o-mini", tools=TOOLS,
        input='call get_weather({"city": "Paris"})\ncall get_weather({"city": "Oslo"})',
    )
    calls = [item for item in first.output if item.type == "function_call"]
    assert [json.loads(c.arguments) for c in calls] == [{"city": "Paris"}, {"city": "Oslo"}]
    outputs = [{"type": "function_call_output", "call_id": c.call_id, "output": f"sunny {i}"}
               for i, c in enumerate(calls)]
    second = client.responses.create(model="gpt-4o-mini", tools=TOOLS, input=outputs,
                                     previous_response_id=first.id)
    assert "Tool results: get_weather -> sunny 0" in second.output_text
    assert "Tool results: get_weather -> sunny 1" in second.output_text


def test_sdk_maps_http_errors(standin: Any) -> None:
    client = _client(standin)
    with pytest.raises(openai.BadRequestError) as bad:
        client.responses.create(model="echo", input="x", temperature=9)
    assert bad.value.body["param"] == "temperature"
    with pytest.raises(openai.BadRequestError) as missing:
        client.responses.create(model="echo", input="x", previous_response_id="resp_nope")
    assert missing.value.code == "previous_response_not_found"
    standin.fail_next(429, retry_after=1)
    with pytest.raises(openai.RateLimitError):
        client.responses.create(model="echo", input="x")
    with serve_with_key() as locked, pytest.raises(openai.AuthenticationError) as auth:
        _client(locked).responses.create(model="echo", input="x")
    assert "sk-test-sdk-0000" not in str(auth.value)


def serve_with_key() -> Any:
    from agcloud_magic.standin import serve

    return serve(api_key="sk-test-the-right-one")


def test_sdk_nested_error_event_raises_and_flat_is_yielded(standin: Any) -> None:
    client = _client(standin)
    standin.error_mid_stream(3, shape="nested", code="server_error")
    with pytest.raises(openai.APIError, match="injected"):
        list(client.responses.create(model="echo", input="x", stream=True))
    standin.error_mid_stream(3, shape="flat", code="server_error")
    events = list(client.responses.create(model="echo", input="x", stream=True))
    assert [e.type for e in events][-2:] == ["error", "response.failed"]
    assert events[-1].response.error.code == "server_error"


def test_async_sdk_streams(standin: Any) -> None:
    async def run() -> str:
        client = openai.AsyncOpenAI(base_url=standin.base_url, api_key=KEY, max_retries=0)
        try:
            stream = await client.responses.create(model="lorem-40", input="x", stream=True)
            deltas = [e.delta async for e in stream if e.type == "response.output_text.delta"]
        finally:
            await client.close()
        assert len(deltas) == 40
        return "".join(deltas)

    assert asyncio.run(run()).startswith("## Section 1")


SCENARIOS: dict[str, Any] = {
    "text": ({"model": "echo", "input": "plain text"}, None),
    "lorem": ({"model": "lorem-120", "input": "x"}, None),
    "incomplete": ({"model": "lorem-100", "input": "x", "max_output_tokens": 16}, None),
    "parallel-calls": ({"model": "echo", "tools": TOOLS,
                        "input": 'call get_weather({"city": "A"})\ncall get_weather({})'}, None),
    "forced-call": ({"model": "echo", "tools": TOOLS, "tool_choice": "required",
                     "input": "anything"}, None),
    "reasoning": ({"model": "echo", "input": "x"},
                  lambda s: s.script([{"reasoning_summary": "**Thinking**\n\nabout it",
                                       "text": "answer", "calls": [{"name": "f"}]}])),
    "reasoning-no-summary": ({"model": "echo", "input": "x"},
                             lambda s: s.script([{"reasoning_summary": None, "text": "ok"}])),
    "error-nested": ({"model": "echo", "input": "x"},
                     lambda s: s.error_mid_stream(5, shape="nested")),
    "error-flat": ({"model": "echo", "input": "x"}, lambda s: s.error_mid_stream(2, shape="flat")),
    "failed-alone": ({"model": "echo", "input": "x"}, lambda s: s.fail_in_stream(2)),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_streamed_event_validates(standin: Any, schema: Any, name: str) -> None:
    body, setup = SCENARIOS[name]
    if setup:
        setup(standin)
    events = raw_events(standin, body)
    by_type = schema("ResponseStreamEventByType")
    for event in events:
        assert_valid(by_type, event)
        if "response" in event:
            assert_valid(schema("Response"), event["response"])
    assert events[-1]["type"] in ("response.completed", "response.incomplete", "response.failed")
    if name == "incomplete":
        assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


def test_bodies_validate(standin: Any, schema: Any) -> None:
    url, auth = f"{standin.base_url}/responses", {"Authorization": f"Bearer {KEY}"}
    ok = httpx.post(url, json={"model": "echo", "input": "hi", "tools": TOOLS, "temperature": 0.2,
                               "reasoning": {"effort": "low"}}, headers=auth)
    assert ok.status_code == 200
    assert_valid(schema("Response"), ok.json())
    assert "x-request-id" in ok.headers
    for bad in ({"model": "echo"}, {"model": "echo", "input": "x", "top_p": 2},
                {"model": "echo", "input": "x", "previous_response_id": "resp_unknown"}):
        response = httpx.post(url, json=bad, headers=auth)
        assert response.status_code == 400
        assert_valid(schema("ErrorResponse"), response.json())
    unauthorised = httpx.post(url, json={"model": "echo", "input": "x"})
    assert unauthorised.status_code == 401
    assert_valid(schema("ErrorResponse"), unauthorised.json())
    standin.fail_next(500)
    failed = httpx.post(url, json={"model": "echo", "input": "x"}, headers=auth)
    assert failed.status_code == 500
    assert_valid(schema("ErrorResponse"), failed.json())


def test_request_bodies_the_sdk_sends_validate_as_create_response(standin: Any,
                                                                   schema: Any) -> None:
    """Guards the stand-in's own validator against being stricter than the schema."""
    _client(standin).responses.create(model="echo", input=[
        {"role": "user", "content": [
            {"type": "input_text", "text": "look"},
            {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo=",
             "detail": "low"},
        ]},
    ], tools=TOOLS, tool_choice={"type": "function", "name": "get_weather"}, top_p=0.5)
    assert_valid(schema("CreateResponse"), standin.requests[-1].body)
