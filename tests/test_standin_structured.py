"""Structured answers: a forced strict tool or a json_schema format gets a deterministic valid
instance of the schema (standin/structured.py and schemagen.py), over loopback HTTP."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema
import pytest

from agcloud_magic.standin.schemagen import instance
from agcloud_magic.standin.structured import parse_rows

KEY = "sk-test-structured-0000"
LABEL = {
    "type": "object",
    "properties": {
        "sentiment": {"type": "string", "enum": ["positive", "negative", "neutral"]},
        "stars": {"type": "integer", "minimum": 1, "maximum": 5},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "spam": {"type": "boolean"},
        "summary": {"type": "string", "maxLength": 40},
        "topics": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3},
        "refund": {"type": ["number", "null"]},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "nothing": {"type": "null"},
    },
    "required": ["sentiment", "stars", "confidence", "spam", "summary", "topics", "refund",
                 "note", "nothing"],
    "additionalProperties": False,
}
ROWS = {
    "type": "object",
    "properties": {"rows": {"type": "array", "items": {
        "type": "object",
        "properties": {"id": {"type": "string"}, **LABEL["properties"]},
        "required": ["id", *LABEL["required"]],
        "additionalProperties": False,
    }}},
    "required": ["rows"],
    "additionalProperties": False,
}
TEXTS = [f"Review {i}: the {w} arrived {d}." for i, (w, d) in enumerate(
    [("kettle", "late"), ("lamp", "early"), ("chair", "broken"), ("desk", "fine"),
     ("mug", "chipped"), ("pen", "on time"), ("rug", "dirty"), ("fan", "loud")])]


def _tool(schema: dict[str, Any], name: str = "label", strict: bool = True) -> dict[str, Any]:
    return {"type": "function", "name": name, "description": "Label a review.",
            "parameters": schema, "strict": strict}


def _post(srv: Any, **body: Any) -> httpx.Response:
    return httpx.post(f"{srv.base_url}/responses", json={"model": "echo", **body},
                      headers={"Authorization": f"Bearer {KEY}"}, timeout=10)


def _create(srv: Any, **body: Any) -> dict[str, Any]:
    response = _post(srv, **body)
    assert response.status_code == 200, response.text
    return response.json()


def _call(response: dict[str, Any]) -> tuple[str, Any]:
    (item,) = response["output"]
    assert item["type"] == "function_call" and item["call_id"].startswith("call_")
    return item["name"], json.loads(item["arguments"])


def _sse(srv: Any, **body: Any) -> list[dict[str, Any]]:
    """Every event of a streamed answer, as parsed JSON."""
    events = []
    with httpx.stream("POST", f"{srv.base_url}/responses",
                      json={"model": "echo", "stream": True, **body},
                      headers={"Authorization": f"Bearer {KEY}"}, timeout=10) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[len("data: "):]))
    return events


@pytest.mark.parametrize("choice", ["required", {"type": "function", "name": "label"}])
def test_a_forced_strict_tool_answers_a_valid_instance(standin: Any, choice: Any) -> None:
    name, arguments = _call(_create(standin, input=TEXTS[0], tools=[_tool(LABEL)],
                                    tool_choice=choice))
    assert name == "label"
    jsonschema.validate(arguments, LABEL)


def test_the_named_tool_is_called_among_several(standin: Any) -> None:
    other = _tool({"type": "object", "properties": {}}, name="other")
    name, arguments = _call(_create(standin, input=TEXTS[1], tools=[other, _tool(LABEL)],
                                    tool_choice={"type": "function", "name": "label"}))
    assert name == "label"
    jsonschema.validate(arguments, LABEL)


def test_same_text_same_answer_other_texts_vary(standin: Any) -> None:
    answers = [_call(_create(standin, input=t, tools=[_tool(LABEL)], tool_choice="required"))[1]
               for t in TEXTS]
    again = _call(_create(standin, input=TEXTS[3], tools=[_tool(LABEL)],
                          tool_choice="required"))[1]
    assert again == answers[3]
    assert len({a["sentiment"] for a in answers}) > 1  # the enum pick varies by row
    assert len({a["stars"] for a in answers}) > 1
    assert len({json.dumps(a) for a in answers}) == len(TEXTS)
    assert any(word in answers[0]["summary"] for word in TEXTS[0].split())


def test_a_forced_tool_without_strict_keeps_the_plain_words_rule(standin: Any) -> None:
    add = {"type": "function", "name": "add", "parameters": {
        "type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"]}}
    response = _create(standin, input="for 7 and 8", tools=[add], tool_choice="required")
    assert _call(response) == ("add", {"a": 7, "b": 8})


def test_json_schema_format_answers_a_message_with_the_json(standin: Any) -> None:
    fmt = {"type": "json_schema", "name": "label", "schema": LABEL, "strict": True}
    response = _create(standin, input=TEXTS[2], text={"format": fmt})
    (item,) = response["output"]
    assert item["type"] == "message" and item["role"] == "assistant"
    value = json.loads(item["content"][0]["text"])
    jsonschema.validate(value, LABEL)
    # The same generator as the tool: the same text gives the same instance.
    tool_args = _call(_create(standin, input=TEXTS[2], tools=[_tool(LABEL)],
                              tool_choice="required"))[1]
    assert value == tool_args
    assert response["text"]["format"]["name"] == "label"  # echoed as sent


def test_a_streamed_call_sends_the_arguments_as_deltas(standin: Any) -> None:
    events = _sse(standin, input=TEXTS[4], tools=[_tool(LABEL)], tool_choice="required")
    kinds = [e["type"] for e in events]
    assert kinds[:3] == ["response.created", "response.in_progress",
                         "response.output_item.added"]
    assert kinds[-3:] == ["response.function_call_arguments.done",
                          "response.output_item.done", "response.completed"]
    deltas = [e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta"]
    done = events[-3]
    assert "".join(deltas) == done["arguments"] and done["name"] == "label"
    assert all(len(d) <= 4 for d in deltas)
    final = events[-1]["response"]
    assert final["output"][0]["arguments"] == done["arguments"]
    jsonschema.validate(json.loads(done["arguments"]), LABEL)
    unstreamed = _call(_create(standin, input=TEXTS[4], tools=[_tool(LABEL)],
                               tool_choice="required"))[1]
    assert json.loads(done["arguments"]) == unstreamed


def test_a_streamed_json_schema_message(standin: Any) -> None:
    fmt = {"type": "json_schema", "name": "label", "schema": LABEL, "strict": True}
    events = _sse(standin, input=TEXTS[5], text={"format": fmt})
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    jsonschema.validate(json.loads(text), LABEL)
    assert events[-1]["response"]["output"][0]["content"][0]["text"] == text


def test_usage_is_about_a_token_per_four_characters(standin: Any) -> None:
    response = _create(standin, input=TEXTS[6] * 10, tools=[_tool(LABEL)],
                       tool_choice="required")
    usage = response["usage"]
    arguments = response["output"][0]["arguments"]
    assert usage["input_tokens"] == -(-len(TEXTS[6] * 10) // 4)
    assert usage["output_tokens"] == -(-len(arguments) // 4)
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_rows_get_one_instance_each_in_order(standin: Any) -> None:
    message = "Label each review.\n" + "".join(
        f"### row r{i}\n{text}\n" for i, text in enumerate(TEXTS))
    _name, arguments = _call(_create(standin, input=message, tools=[_tool(ROWS)],
                                     tool_choice="required"))
    jsonschema.validate(arguments, ROWS)
    assert [row["id"] for row in arguments["rows"]] == [f"r{i}" for i in range(len(TEXTS))]
    for row, text in zip(arguments["rows"], TEXTS, strict=True):
        # Each row is what a one-row request with that text alone gets.
        alone = _call(_create(standin, input=text, tools=[_tool(LABEL)],
                              tool_choice="required"))[1]
        assert {k: v for k, v in row.items() if k != "id"} == alone
    assert len({row["sentiment"] for row in arguments["rows"]}) > 1


def test_rows_in_a_json_schema_format_and_integer_ids(standin: Any) -> None:
    schema = json.loads(json.dumps(ROWS))
    schema["properties"]["rows"]["items"]["properties"]["id"] = {"type": "integer"}
    fmt = {"type": "json_schema", "name": "rows", "schema": schema, "strict": True}
    response = _create(standin, input="### row 3\nfirst\n### row 1\nsecond",
                       text={"format": fmt})
    value = json.loads(response["output"][0]["content"][0]["text"])
    jsonschema.validate(value, schema)
    assert [row["id"] for row in value["rows"]] == [3, 1]


# openaivec's batch envelope: ids and bodies in a JSON message, the answer's items by $ref.
ENVELOPE = {
    "$defs": {
        "Label": {**LABEL, "title": "Label"},
        "Item": {"type": "object", "title": "Item",
                 "properties": {"id": {"type": "integer"}, "body": {"$ref": "#/$defs/Label"}},
                 "required": ["id", "body"], "additionalProperties": False},
    },
    "type": "object",
    "properties": {"assistant_messages": {"type": "array", "items": {"$ref": "#/$defs/Item"}}},
    "required": ["assistant_messages"],
    "additionalProperties": False,
}


def _envelope(srv: Any, pairs: list[tuple[Any, str]]) -> tuple[dict[str, Any], Any]:
    message = json.dumps({"user_messages": [{"id": i, "body": t} for i, t in pairs]})
    fmt = {"type": "json_schema", "name": "ResponseT", "schema": ENVELOPE, "strict": True}
    response = _create(srv, input=message, instructions="Label each message.",
                       text={"format": fmt})
    value = json.loads(response["output"][0]["content"][0]["text"])
    jsonschema.validate(value, ENVELOPE)
    return response, value


def test_json_rows_get_one_item_each_with_their_ids(standin: Any) -> None:
    pairs = [(7 - i, text) for i, text in enumerate(TEXTS)]  # ids not in 0.. order
    response, value = _envelope(standin, pairs)
    items = value["assistant_messages"]
    assert [item["id"] for item in items] == [i for i, _ in pairs]
    assert len({item["body"]["sentiment"] for item in items}) > 1
    # Each body comes from that object's body alone: the same text anywhere, the same answer.
    _again, other = _envelope(standin, [(0, TEXTS[5]), (1, TEXTS[0])])
    by_text = {text: item["body"] for (_, text), item in zip(pairs, items, strict=True)}
    assert [o["body"] for o in other["assistant_messages"]] == [by_text[TEXTS[5]],
                                                               by_text[TEXTS[0]]]
    # Usage as for every structured answer: about a token per four characters.
    usage = response["usage"]
    text = response["output"][0]["content"][0]["text"]
    sent = json.dumps({"user_messages": [{"id": i, "body": t} for i, t in pairs]})
    assert usage["input_tokens"] == -(-(len(sent) + len("Label each message.")) // 4)
    assert usage["output_tokens"] == -(-len(text) // 4)


def test_json_rows_ids_follow_the_id_schema_and_other_fields(standin: Any) -> None:
    schema = json.loads(json.dumps(ENVELOPE))
    schema["$defs"]["Item"]["properties"]["id"] = {"type": "string"}
    fmt = {"type": "json_schema", "name": "ResponseT", "schema": schema, "strict": True}
    message = json.dumps([{"id": 4, "title": "lamp", "note": "broken"}, {"id": "x", "b": "ok"}])
    value = json.loads(_create(standin, input=message, text={"format": fmt})
                       ["output"][0]["content"][0]["text"])
    jsonschema.validate(value, schema)
    assert [item["id"] for item in value["assistant_messages"]] == ["4", "x"]
    # Plain text that happens to be JSON without ids keeps the ordinary generated array.
    plain = json.loads(_create(standin, input='{"user_messages": [1, 2]}', text={"format": fmt})
                       ["output"][0]["content"][0]["text"])
    jsonschema.validate(plain, schema)


def test_parse_rows_reads_the_convention() -> None:
    text = "Preamble.\n### row a\nline one\nline two\n###  row  b-2 \n\n### rowx c\n"
    assert parse_rows(text) == [("a", "line one\nline two"), ("b-2", "### rowx c")]
    assert parse_rows("no rows here\n#### row z") == []


SCHEMAS = [
    LABEL,
    ROWS,
    {"type": "string", "format": "date"},
    {"type": "string", "format": "date-time"},
    {"type": "string", "format": "email"},
    {"type": "string", "minLength": 30},
    {"type": "integer", "exclusiveMinimum": 10, "exclusiveMaximum": 13},
    {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.5},
    {"type": "array", "items": {"type": "integer"}, "minItems": 5},
    {"oneOf": [{"type": "object", "properties": {"a": {"type": "string"}},
                "required": ["a"], "additionalProperties": False}, {"type": "null"}]},
    {"type": "object", "properties": {"child": {"$ref": "#/$defs/Node"}},
     "required": ["child"], "$defs": {"Node": {
         "type": "object", "properties": {"name": {"type": "string"},
                                          "kids": {"type": "array",
                                                   "items": {"$ref": "#/$defs/Node"}}},
         "required": ["name", "kids"], "additionalProperties": False}}},
    {"allOf": [{"$ref": "#/definitions/C"}], "definitions": {"C": {"enum": ["x", None]}}},
    {"const": 42},
    {"type": ["null"]},
]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_every_instance_is_valid_and_deterministic(schema: dict[str, Any]) -> None:
    for text in [*TEXTS, "", "   "]:
        value = instance(schema, text)
        jsonschema.validate(value, schema)
        assert instance(schema, text) == value


def test_a_tool_call_comes_before_a_json_schema_format(standin: Any) -> None:
    fmt = {"type": "json_schema", "name": "label", "schema": LABEL, "strict": True}
    weather = {"type": "function", "name": "get_weather", "description": "Weather for a city.",
               "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                              "required": ["city"], "additionalProperties": False}}
    asked = _create(standin, input="What is the weather in city=Oslo?", tools=[weather],
                    text={"format": fmt})
    assert _call(asked) == ("get_weather", {"city": "Oslo"})
    forced = _create(standin, input="anything", tools=[weather, _tool(LABEL)],
                     tool_choice="required", text={"format": fmt})
    assert forced["output"][0]["type"] == "function_call"
    free = _create(standin, input="Just label it.", tools=[weather], text={"format": fmt})
    jsonschema.validate(json.loads(free["output"][0]["content"][0]["text"]), LABEL)
