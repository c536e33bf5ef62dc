"""The official openai SDK and raw httpx against the stand-in; every byte checked against the
reference JSON Schema."""

from __future__ import annotations

import asyncio
import json
import typing
from typing import Any

import httpx
import openai
import pydantic
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


LABEL_SCHEMA = {"type": "object", "properties": {
    "label": {"type": "string", "enum": ["good", "bad"]}, "score": {"type": ["number", "null"]},
}, "required": ["label", "score"], "additionalProperties": False}
ROWS_TOOL = {"type": "function", "name": "label_rows", "strict": True, "parameters": {
    "type": "object", "properties": {"rows": {"type": "array", "items": {
        "type": "object", "properties": {"id": {"type": "string"},
                                         **LABEL_SCHEMA["properties"]},
        "required": ["id", "label", "score"], "additionalProperties": False}}},
    "required": ["rows"], "additionalProperties": False}}
STRUCTURED = {
    "structured-rows": ({"model": "echo", "tools": [ROWS_TOOL], "tool_choice": "required",
                         "input": "Label.\n### row 1\nfine\n### row 2\nawful"}, None),
    "structured-format": ({"model": "echo", "input": "a review", "text": {"format": {
        "type": "json_schema", "name": "label", "schema": LABEL_SCHEMA, "strict": True}}}, None),
}
SCENARIOS: dict[str, Any] = {
    **STRUCTURED,
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


# -- strict parsing with the SDK's own pydantic models -------------------------------------
# The SDK's client builds its objects with ``construct`` (lenient: a missing required field
# simply is not there), so a stream that "works" with the SDK can still lack fields its types
# mark required.  ``model_validate(..., strict=True)`` is the real check.


def _sdk_event_classes() -> dict[str, type[pydantic.BaseModel]]:
    """Event ``type`` -> the SDK's pydantic class, from the ``ResponseStreamEvent`` union."""
    union: Any = openai.types.responses.ResponseStreamEvent
    members = typing.get_args(union)
    if typing.get_origin(union) is typing.Annotated:
        members = typing.get_args(members[0])
    classes = {}
    for cls in members:
        for name in typing.get_args(cls.model_fields["type"].annotation):
            classes[name] = cls
    return classes


SDK_EVENTS = _sdk_event_classes()


# Fields the reference schema and the real API have but this SDK's types lack: (class, field).
WIRE_ONLY = frozenset({("Response", "store"),
                       ("ResponseFunctionCallArgumentsDoneEvent", "name")})


def _extras(model: Any, where: str = "") -> list[str]:
    """Fields we sent that the SDK's types do not know (``extra="allow"`` keeps them quietly)."""
    found = [f"{where}.{name}" for name in model.model_extra or {}
             if (type(model).__name__, name) not in WIRE_ONLY]
    for name in type(model).model_fields:
        value = getattr(model, name)
        for i, item in enumerate(value if isinstance(value, list) else [value]):
            if isinstance(item, pydantic.BaseModel):
                found += _extras(item, f"{where}.{name}[{i}]" if isinstance(value, list)
                                 else f"{where}.{name}")
    return found


def strict_event(data: dict[str, Any]) -> Any:
    """Parse one event as the SDK's type for it, strictly; fail on unknown fields too."""
    assert data["type"] in SDK_EVENTS, f"the SDK has no event type {data['type']!r}"
    event = SDK_EVENTS[data["type"]].model_validate(data, strict=True)
    assert not _extras(event), f"{data['type']}: fields the SDK does not know: {_extras(event)}"
    return event


def strict_response(data: dict[str, Any]) -> Any:
    response = openai.types.responses.Response.model_validate(data, strict=True)
    assert not _extras(response), f"fields the SDK does not know: {_extras(response)}"
    return response


STRICT_STREAMS: dict[str, Any] = {
    **SCENARIOS,
    "tool-round-trip": ({"model": "gpt-4o-mini", "tools": TOOLS,
                         "input": 'call get_weather({"city": "Rome"})'}, None),
    "cut-clean": ({"model": "echo", "input": "x"}, lambda s: s.cut_after(4, clean=True)),
    # The real API's insufficient_quota (fixture stream-error-insufficient-quota.jsonl) is not
    # in the SDK's literal for response.error.code; a code it lists checks everything else.
    "failed-alone": ({"model": "echo", "input": "x"},
                     lambda s: s.fail_in_stream(2, code="rate_limit_exceeded")),
}


@pytest.mark.parametrize("name", sorted(STRICT_STREAMS))
def test_every_streamed_event_parses_strictly_with_the_sdk(standin: Any, name: str) -> None:
    body, setup = STRICT_STREAMS[name]
    if setup:
        setup(standin)
    events = raw_events(standin, body)
    assert events
    for data in events:
        if data["type"] == "error" and isinstance(data.get("error"), dict):
            # The nested shape OpenAI sends: the SDK raises APIError on it before parsing
            # (test_sdk_nested_error_event_raises_and_flat_is_yielded), never builds a type.
            continue
        event = strict_event(data)
        if hasattr(event, "response"):
            strict_response(data["response"])
    if name == "tool-round-trip":
        call = next(e["item"] for e in events if e["type"] == "response.output_item.done")
        answer = httpx.post(
            f"{standin.base_url}/responses", headers={"Authorization": f"Bearer {KEY}"},
            json={"model": "gpt-4o-mini", "tools": TOOLS, "stream": True,
                  "previous_response_id": events[-1]["response"]["id"],
                  "input": [{"type": "function_call_output", "call_id": call["call_id"],
                             "output": "sunny"}]}, timeout=10)
        assert answer.status_code == 200
        for line in answer.text.splitlines():
            if line.startswith("data: "):
                strict_event(json.loads(line[6:]))


NON_STREAM: dict[str, Any] = {
    **STRUCTURED,
    "text": ({"model": "echo", "input": "plain text", "instructions": "Be brief."}, None),
    "calls": ({"model": "echo", "tools": TOOLS,
               "input": 'call get_weather({"city": "A"})\ncall get_weather({"city": "B"})'},
              None),
    "incomplete": ({"model": "lorem-100", "input": "x", "max_output_tokens": 16}, None),
    "reasoning": ({"model": "o4-mini", "input": "x", "reasoning": {"effort": "low"}},
                  lambda s: s.script({"reasoning_summary": "Hm.", "text": "ok"})),
    "structured": ({"model": "echo", "input": "x", "text": {"format": {
        "type": "json_schema", "name": "out", "schema": {"type": "object"}}}}, None),
}


@pytest.mark.parametrize("name", sorted(NON_STREAM))
def test_every_response_parses_strictly_with_the_sdk(standin: Any, name: str) -> None:
    body, setup = NON_STREAM[name]
    if setup:
        setup(standin)
    auth = {"Authorization": f"Bearer {KEY}"}
    created = httpx.post(f"{standin.base_url}/responses", json=body, headers=auth, timeout=10)
    assert created.status_code == 200
    response = strict_response(created.json())
    assert response.usage is not None and response.usage.total_tokens > 0
    fetched = httpx.get(f"{standin.base_url}/responses/{response.id}", headers=auth, timeout=10)
    strict_response(fetched.json())


def test_models_parse_strictly_with_the_sdk(standin: Any) -> None:
    listing = httpx.get(f"{standin.base_url}/models",
                        headers={"Authorization": f"Bearer {KEY}"}, timeout=10).json()
    for entry in listing["data"]:
        model = openai.types.Model.model_validate(entry, strict=True)
        assert not _extras(model)


def test_strict_parsing_catches_a_missing_required_field() -> None:
    """The check above can fail: the usage the stand-in sent before cache_write_tokens."""
    old_usage = {"input_tokens": 1, "input_tokens_details": {"cached_tokens": 0},
                 "output_tokens": 1, "output_tokens_details": {"reasoning_tokens": 0},
                 "total_tokens": 2}
    with pytest.raises(pydantic.ValidationError, match="cache_write_tokens"):
        openai.types.responses.ResponseUsage.model_validate(old_usage, strict=True)
