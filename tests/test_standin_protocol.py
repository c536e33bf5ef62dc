"""The stand-in's protocol behaviour over raw loopback HTTP (httpx): stream grammar and 4.4
invariants, errors, validation, faults, scripts, echo reporting and lifecycle."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from agcloud_magic.standin import StandinServer, serve

KEY = "sk-test-protocol-1234"
AUTH = {"Authorization": f"Bearer {KEY}"}
TERMINALS = ("response.completed", "response.incomplete", "response.failed")
TOOLS = [
    {"type": "function", "name": "f", "parameters": {
        "type": "object", "required": ["city", "days", "unit"],
        "properties": {"city": {"type": "string"}, "days": {"type": "integer", "default": 3},
                       "unit": {"type": "string", "enum": ["c", "f"]}}}},
    {"type": "function", "name": "g", "parameters": {"type": "object", "properties": {}}},
]


# One client for the module: fast (no TLS context per request) and it exercises keep-alive.
HTTP = httpx.Client(timeout=10)


@pytest.fixture(autouse=True, scope="module")
def _close_http() -> Any:
    yield
    HTTP.close()


@dataclass
class Stream:
    status: int
    headers: httpx.Headers
    events: list[dict[str, Any]] = field(default_factory=list)
    data_lines: list[str] = field(default_factory=list)
    raw: bytes = b""
    error: Exception | None = None
    json: Any = None


def stream(srv: StandinServer, body: dict[str, Any], headers: dict[str, str] = AUTH) -> Stream:
    """POST with stream:true and collect everything, including how the body ended."""
    with HTTP.stream("POST", f"{srv.base_url}/responses", json={**body, "stream": True},
                     headers=headers) as response:
        result = Stream(response.status_code, response.headers)
        if response.headers.get("content-type") != "text/event-stream":
            result.json = json.loads(response.read())
            return result
        chunks = []
        try:
            for chunk in response.iter_bytes():
                chunks.append(chunk)
        except httpx.RemoteProtocolError as exc:
            result.error = exc
    result.raw = b"".join(chunks)
    for block in result.raw.decode("utf-8").split("\n\n"):
        for line in block.split("\n"):
            if line.startswith("data: "):
                result.data_lines.append(line[6:])
                if line[6:] != "[DONE]":
                    result.events.append(json.loads(line[6:]))
    return result


def post(srv: StandinServer, body: Any, headers: dict[str, str] = AUTH) -> httpx.Response:
    return HTTP.post(f"{srv.base_url}/responses", json=body, headers=headers)


_BODIES = {
    "message": r"(response\.content_part\.added (response\.output_text\.delta )*"
               r"response\.output_text\.done response\.content_part\.done )+",
    "function_call": r"(response\.function_call_arguments\.delta )*"
                     r"response\.function_call_arguments\.done ",
    "reasoning": r"(response\.reasoning_summary_part\.added (response\.reasoning_summary_text"
                 r"\.delta )*response\.reasoning_summary_text\.done "
                 r"response\.reasoning_summary_part\.done )*",
}


def _check_item(kind: str, inner: list[dict[str, Any]], item: dict[str, Any]) -> None:
    assert re.fullmatch(_BODIES[kind], "".join(e["type"] + " " for e in inner)), kind
    if kind == "message":
        deltas = "".join(e["delta"] for e in inner if e["type"].endswith("output_text.delta"))
        text_done = next(e for e in inner if e["type"] == "response.output_text.done")
        part_done = next(e for e in inner if e["type"] == "response.content_part.done")
        assert deltas == text_done["text"] == part_done["part"]["text"]
        assert item["content"][0]["text"] == deltas
    elif kind == "function_call":
        deltas = "".join(e["delta"] for e in inner if e["type"].endswith(".delta"))
        assert deltas == inner[-1]["arguments"] == item["arguments"]
        assert inner[-1]["name"] == item["name"]
    else:
        deltas = "".join(e["delta"] for e in inner if e["type"].endswith(".delta"))
        assert [p["text"] for p in item["summary"]] == ([deltas] if inner else [])


def check_stream(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Assert the grammar of 4.3 and the invariants of 4.4; return the done items."""
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert [e["type"] for e in events[:2]] == ["response.created", "response.in_progress"]
    terminal = events[-1]
    assert terminal["type"] in TERMINALS
    first = events[0]["response"]
    assert first["output"] == [] and first["status"] == "in_progress"
    for event in events:
        if "response" in event:
            assert event["response"]["id"] == first["id"]
            assert event["response"]["created_at"] == first["created_at"]
            if event is not terminal:
                assert event["response"]["usage"] is None
    body, done_items, i = events[2:-1], [], 0
    while i < len(body):
        added = body[i]
        assert added["type"] == "response.output_item.added"
        assert added["output_index"] == len(done_items)
        j = i + 1
        while body[j]["type"] != "response.output_item.done":
            assert body[j]["item_id"] == added["item"]["id"]
            assert body[j]["output_index"] == added["output_index"]
            j += 1
        item = body[j]["item"]
        assert item["id"] == added["item"]["id"] and body[j]["output_index"] == len(done_items)
        _check_item(added["item"]["type"], body[i + 1: j], item)
        done_items.append(item)
        i = j + 1
    assert terminal["response"]["output"] == done_items
    return done_items


# -- grammar and invariants -------------------------------------------------------------------

@pytest.mark.parametrize("setup", ["text", "calls", "reasoning", "lorem"])
def test_stream_grammar_and_invariants(standin: StandinServer, setup: str) -> None:
    body: dict[str, Any] = {"model": "echo", "input": "Hello  there,\n\n  world  "}
    if setup == "calls":
        body.update(tools=TOOLS, input='call f({"city": "Paris"})\n call g()\nnot a call')
    elif setup == "reasoning":
        standin.script([{"reasoning_summary": "**Plan**\n\nThink.", "text": "Done.",
                         "calls": [{"name": "g", "arguments": {}}]}])
    elif setup == "lorem":
        body["model"] = "lorem-300"
    result = stream(standin, body)
    assert result.status == 200 and result.error is None
    assert "x-request-id" in result.headers
    items = check_stream(result.events)
    final = result.events[-1]["response"]
    assert final["status"] == "completed"
    usage = final["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0
    assert usage["input_tokens_details"] == {"cached_tokens": 0, "cache_write_tokens": 0}
    assert usage["output_tokens_details"]["reasoning_tokens"] >= 0
    kinds = [i["type"] for i in items]
    expected = {"text": ["message"], "calls": ["function_call", "function_call"],
                "reasoning": ["reasoning", "message", "function_call"], "lorem": ["message"]}
    assert kinds == expected[setup]
    if setup == "text":
        assert "You said: Hello  there,\n\n  world  " in items[0]["content"][0]["text"]
    if setup == "calls":
        assert [(i["name"], i["arguments"]) for i in items] == [("f", '{"city": "Paris"}'),
                                                                ("g", "{}")]
        assert all(i["call_id"].startswith("call_") and i["id"].startswith("fc_") for i in items)
    if setup == "reasoning":
        assert items[0]["id"].startswith("rs_") and "status" not in items[0]
        assert usage["output_tokens_details"]["reasoning_tokens"] > 0


def test_incomplete_via_max_output_tokens(standin: StandinServer) -> None:
    result = stream(standin, {"model": "lorem-100", "input": "x", "max_output_tokens": 16})
    check_stream(result.events)
    deltas = [e for e in result.events if e["type"] == "response.output_text.delta"]
    assert len(deltas) == 16
    final = result.events[-1]
    assert final["type"] == "response.incomplete"
    assert final["response"]["status"] == "incomplete"
    assert final["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert final["response"]["output"][0]["status"] == "incomplete"
    assert final["response"]["usage"]["output_tokens"] == 16
    body = post(standin, {"model": "echo", "input": "word " * 40, "max_output_tokens": 16}).json()
    assert body["status"] == "incomplete" and body["max_output_tokens"] == 16


@pytest.mark.parametrize("n", [1, 37, None])
def test_lorem_n_produces_n_deltas(standin: StandinServer, n: int | None) -> None:
    result = stream(standin, {"model": "lorem" if n is None else f"lorem-{n}", "input": "x"})
    deltas = [e["delta"] for e in result.events if e["type"] == "response.output_text.delta"]
    assert len(deltas) == (500 if n is None else n)
    if n is None:
        text = "".join(deltas)
        for marker in ("\n## ", "\n- **Item", "\n```python\n", "\n| # | name |", "\n```\n"):
            assert marker in text
        assert result.events[-1]["response"]["model"] == "lorem"


# -- chaining, tools, storage -----------------------------------------------------------------

def test_previous_response_not_found(standin: StandinServer) -> None:
    response = post(standin, {"model": "echo", "input": "x",
                              "previous_response_id": "resp_doesnotexist", "stream": True})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"  # not SSE, even with stream
    assert response.json() == {"error": {
        "message": "Previous response with id 'resp_doesnotexist' not found.",
        "type": "invalid_request_error", "param": "previous_response_id",
        "code": "previous_response_not_found"}}


def test_chain_turns_and_store_false(standin: StandinServer) -> None:
    first = post(standin, {"model": "echo", "input": "one", "instructions": "Be terse."}).json()
    second = post(standin, {"model": "echo", "input": "two",
                            "previous_response_id": first["id"]}).json()
    assert "Turn 2 of this conversation" in second["output"][0]["content"][0]["text"]
    assert second["instructions"] is None and second["previous_response_id"] == first["id"]
    assert second["usage"]["input_tokens"] > first["usage"]["input_tokens"]
    assert standin.stored[second["id"]].turn == 2
    unstored = post(standin, {"model": "echo", "input": "x", "store": False}).json()
    assert unstored["store"] is False and unstored["id"] not in standin.stored
    again = post(standin, {"model": "echo", "input": "y", "previous_response_id": unstored["id"]})
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "previous_response_not_found"


def test_tool_outputs_are_required_and_reported(standin: StandinServer) -> None:
    standin.script([{"calls": [{"name": "f", "arguments": {"city": "Paris"}},
                               {"name": "g", "arguments_raw": "not json"}]}])
    first = post(standin, {"model": "echo", "input": "go", "tools": TOOLS}).json()
    calls = [i for i in first["output"] if i["type"] == "function_call"]
    assert [c["arguments"] for c in calls] == ['{"city": "Paris"}', "not json"]
    one = [{"type": "function_call_output", "call_id": calls[0]["call_id"], "output": "21C"}]
    missing = post(standin, {"model": "echo", "input": one, "previous_response_id": first["id"]})
    assert missing.status_code == 400
    assert missing.json() == {"error": {
        "message": f"No tool output found for function call {calls[1]['call_id']}.",
        "type": "invalid_request_error", "param": "input", "code": None}}
    orphan = [*one, {"type": "function_call_output", "call_id": "call_x", "output": "?"}]
    assert post(standin, {"model": "echo", "input": orphan}).status_code == 400
    both = [*one, {"type": "function_call_output", "call_id": calls[1]["call_id"],
                   "output": "y" * 300}]
    answer = post(standin, {"model": "echo", "input": both, "tools": TOOLS,
                            "previous_response_id": first["id"]}).json()
    text = answer["output"][0]["content"][0]["text"]
    assert "Tool results: f -> 21C\n" in text
    assert "Tool results: g -> " + "y" * 200 + "…" in text


def test_stateless_tool_loop_replaying_history(standin: StandinServer) -> None:
    standin.script([{"reasoning_summary": "Use f.", "calls": [{"name": "f", "arguments": {}}]}])
    first = post(standin, {"model": "echo", "input": "go", "store": False, "tools": TOOLS}).json()
    history: list[Any] = [{"role": "user", "content": "go"}, *first["output"]]
    history.append({"type": "function_call_output", "call_id": first["output"][1]["call_id"],
                    "output": [{"type": "input_text", "text": "42"}]})
    second = post(standin, {"model": "echo", "input": history, "store": False}).json()
    assert "Tool results: f -> 42" in second["output"][0]["content"][0]["text"]
    history += [second["output"][0], {"role": "user", "content": "thanks"}]
    third = post(standin, {"model": "echo", "input": history, "store": False}).json()
    text = third["output"][0]["content"][0]["text"]
    assert "You said: thanks" in text and "Tool results" not in text  # old outputs are history


def test_forced_tool_choice_fills_arguments_from_schema(standin: StandinServer) -> None:
    body = {"model": "echo", "input": "no call lines", "tools": TOOLS}
    assert post(standin, body).json()["output"][0]["type"] == "message"  # auto: just text
    forced = post(standin, {**body, "tool_choice": "required"}).json()["output"]
    assert [(c["name"], json.loads(c["arguments"])) for c in forced] == [
        ("f", {"city": "example", "days": 3, "unit": "c"})]
    named = post(standin, {**body, "tool_choice": {"type": "function", "name": "g"}}).json()
    assert [c["name"] for c in named["output"]] == ["g"]
    none = post(standin, {**body, "input": "call f({})", "tool_choice": "none"}).json()
    assert none["output"][0]["type"] == "message"
    single = post(standin, {**body, "input": "call f({})\ncall g({})",
                            "parallel_tool_calls": False}).json()
    assert len(single["output"]) == 1


def test_retrieve_delete_and_unknown_route(standin: StandinServer) -> None:
    created = post(standin, {"model": "echo", "input": "x"}).json()
    url = f"{standin.base_url}/responses/{created['id']}"
    assert HTTP.get(url, headers=AUTH).json() == created
    assert HTTP.delete(url, headers=AUTH).json()["deleted"] is True
    assert HTTP.get(url, headers=AUTH).status_code == 404
    unknown = HTTP.post(f"{standin.base_url}/chat/completions", json={}, headers=AUTH)
    assert unknown.status_code == 404 and "x-request-id" in unknown.headers


# -- auth and validation ----------------------------------------------------------------------

def test_auth_with_configured_key() -> None:
    with serve(api_key="sk-test-right-key") as srv:
        body = {"model": "echo", "input": "x"}
        assert post(srv, body, headers={}).status_code == 401
        wrong = post(srv, body, headers={"Authorization": "Bearer sk-test-wrong-key-123"})
        assert wrong.status_code == 401
        assert wrong.json() == {"error": {
            "message": "Incorrect API key provided: sk-te***.", "type": "invalid_request_error",
            "param": None, "code": "invalid_api_key"}}
        assert "wrong-key" not in wrong.text and "x-request-id" in wrong.headers
        ok = post(srv, body, headers={"Authorization": "Bearer sk-test-right-key"})
        assert ok.status_code == 200
        assert all(r.headers.get("authorization") in (None, "Bearer ***") for r in srv.requests)
        assert srv.requests[-1].headers["Authorization"] == "Bearer ***"
        assert srv.requests[-1].body == body and srv.requests[-1].path == "/v1/responses"


def test_auth_any_key_but_not_none(standin: StandinServer) -> None:
    body = {"model": "echo", "input": "x"}
    assert post(standin, body, headers={}).status_code == 401
    assert post(standin, body, headers={"Authorization": "Bearer"}).status_code == 401
    assert post(standin, body, headers={"Authorization": "Basic dXNlcjpw"}).status_code == 401
    assert post(standin, body, headers={"Authorization": "Bearer anything"}).status_code == 200


@pytest.mark.parametrize(("patch", "param", "code"), [
    ({"temperature": 9}, "temperature", "decimal_above_max_value"),
    ({"temperature": "hot"}, "temperature", "invalid_type"),
    ({"top_p": 2}, "top_p", "decimal_above_max_value"),
    ({"max_output_tokens": 5}, "max_output_tokens", "integer_below_min_value"),
    ({"max_output_tokens": 20.5}, "max_output_tokens", "invalid_type"),
    ({"top_logprobs": 21}, "top_logprobs", "integer_above_max_value"),
    ({"truncation": "sometimes"}, "truncation", "invalid_value"),
    ({"tool_choice": "maybe"}, "tool_choice", "invalid_value"),
    ({"reasoning": {"effort": "extreme"}}, "reasoning.effort", "invalid_value"),
    ({"reasoning": {"summary": "long"}}, "reasoning.summary", "invalid_value"),
    ({"input": [{"role": "robot", "content": "hi"}]}, "input[0].role", "invalid_value"),
    ({"input": [{"role": "user", "content": [{"type": "input_video"}]}]},
     "input[0].content[0].type", "invalid_value"),
    ({"input": [{"role": "user", "content": [
        {"type": "input_image", "image_url": "https://x/y.png", "detail": "ultra"}]}]},
     "input[0].content[0].detail", "invalid_value"),
    ({"input": [{"role": "user", "content": [
        {"type": "input_image", "image_url": "data:image/png;base64,@@@"}]}]},
     "input[0].content[0].image_url", "invalid_value"),
    ({"max_tokens": 100}, "max_tokens", "unknown_parameter"),
    ({"input": None}, "input", "missing_required_parameter"),
    ({"model": None}, "model", "missing_required_parameter"),
    ({"previous_response_id": 42}, "previous_response_id", "invalid_type"),
    ({"tool_choice": "required"}, "tool_choice", None),
    ({"stream_options": {"include_obfuscation": False}}, "stream_options", "invalid_value"),
])
def test_validation_errors(standin: StandinServer, patch: dict[str, Any], param: str,
                           code: str | None) -> None:
    body = {k: v for k, v in {"model": "echo", "input": "x", **patch}.items() if v is not None}
    response = post(standin, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["param"], error["code"], error["type"]) == (param, code, "invalid_request_error")
    assert error["message"]


def test_malformed_json_and_non_object(standin: StandinServer) -> None:
    url = f"{standin.base_url}/responses"
    headers = {**AUTH, "content-type": "application/json"}
    bad = HTTP.post(url, content=b"{not json", headers=headers)
    assert bad.status_code == 400 and "parse the JSON" in bad.json()["error"]["message"]
    assert standin.requests[-1].body is None
    assert post(standin, ["model", "input"]).status_code == 400


# -- faults -----------------------------------------------------------------------------------

def test_fail_next_status_headers_and_fifo(standin: StandinServer) -> None:
    standin.fail_next(429, retry_after=2, retry_after_ms=1500, times=2)
    standin.fail_next(402, style="agcloud", message="Balance too low.")
    body = {"model": "echo", "input": "x", "stream": True}
    for _ in range(2):
        limited = post(standin, body)
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "2"
        assert limited.headers["retry-after-ms"] == "1500"
        assert limited.headers["content-type"] == "application/json"
        assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    quota = post(standin, body)
    assert quota.status_code == 402
    assert quota.json() == {"type": "error",
                            "error": {"type": "billing_error", "message": "Balance too low."}}
    assert post(standin, body).status_code == 200  # the queue is empty again
    standin.fail_next(500, code="custom", message="boom", error_type="server_error")
    assert post(standin, body).json() == {"error": {
        "message": "boom", "type": "server_error", "param": None, "code": "custom"}}


def test_slow_first_byte_and_drip(standin: StandinServer) -> None:
    # Lower bounds only: a sleep can overrun on a loaded machine, never underrun.
    standin.slow_first_byte(0.2)
    started = time.monotonic()
    assert post(standin, {"model": "echo", "input": "x"}).status_code == 200
    assert time.monotonic() - started >= 0.19
    standin.drip(0.02)
    started = time.monotonic()
    result = stream(standin, {"model": "lorem-3", "input": "x"})
    assert len(result.events) == 11  # 10 gaps between events
    assert time.monotonic() - started >= 0.19
    assert stream(standin, {"model": "lorem-3", "input": "x"}).events[-1]["type"] in TERMINALS


@pytest.mark.parametrize("clean", [False, True])
def test_cut_after(standin: StandinServer, clean: bool) -> None:
    standin.cut_after(5, clean=clean)
    result = stream(standin, {"model": "lorem-20", "input": "x"})
    assert result.status == 200
    assert len(result.events) == 5
    assert result.events[-1]["type"] not in TERMINALS
    assert (result.error is None) is clean
    if not clean:
        assert "incomplete chunked read" in str(result.error)
    assert stream(standin, {"model": "echo", "input": "x"}).events[-1]["type"] in TERMINALS


@pytest.mark.parametrize("shape", ["nested", "flat"])
def test_error_mid_stream(standin: StandinServer, shape: str) -> None:
    standin.error_mid_stream(4, shape=shape, code="rate_limit_exceeded", message="slow down")
    events = stream(standin, {"model": "lorem-50", "input": "x"}).events
    assert [e["sequence_number"] for e in events] == list(range(6))
    error, failed = events[-2], events[-1]
    if shape == "nested":
        assert error["error"] == {"type": "rate_limit_exceeded", "code": "rate_limit_exceeded",
                                  "message": "slow down", "param": None}
    else:
        assert (error["code"], error["message"], error["param"]) == (
            "rate_limit_exceeded", "slow down", None)
    assert failed["type"] == "response.failed"
    assert failed["response"]["status"] == "failed"
    assert failed["response"]["error"] == {"code": "rate_limit_exceeded", "message": "slow down"}
    assert failed["response"]["usage"] is None
    assert failed["response"]["id"] not in standin.stored  # failed responses cannot be chained
    standin.error_mid_stream(2, then_failed=False)
    assert stream(standin, {"model": "echo", "input": "x"}).events[-1]["type"] == "error"


def test_fail_in_stream_and_done_marker(standin: StandinServer) -> None:
    standin.fail_in_stream()
    events = stream(standin, {"model": "echo", "input": "x"}).events
    assert [e["type"] for e in events] == ["response.created", "response.in_progress",
                                           "response.failed"]
    assert events[-1]["response"]["error"]["code"] == "insufficient_quota"
    standin.done_marker = True
    result = stream(standin, {"model": "echo", "input": "x"})
    assert result.data_lines[-1] == "[DONE]"
    assert result.events[-1]["type"] == "response.completed"
    assert result.raw.endswith(b"data: [DONE]\n\n")


def test_stream_only_fault_on_non_stream_request_is_a_500(standin: StandinServer) -> None:
    standin.cut_after(2)
    response = post(standin, {"model": "echo", "input": "x"})
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "standin_fault_mismatch"


# -- scripts and replay -----------------------------------------------------------------------

def test_scripted_turns_are_fifo_whatever_the_model(standin: StandinServer) -> None:
    standin.script(["first scripted", {"text": "second scripted"}])
    texts = [post(standin, {"model": m, "input": "x"}).json()["output"][0]["content"][0]["text"]
             for m in ("echo", "lorem-5", "echo")]
    assert texts[:2] == ["first scripted", "second scripted"]
    assert texts[2].startswith("**Offline stand-in**")
    with pytest.raises(ValueError, match="unknown keys"):
        standin.script([{"txt": "typo"}])


def test_replay_fixture_verbatim_and_chain(standin: StandinServer, reference_dir: Any) -> None:
    fixture = reference_dir / "fixtures" / "stream-function-calls-turn1.sse"
    standin.script([{"replay": fixture}])
    result = stream(standin, {"model": "gpt-4o", "input": "x"})
    assert result.raw.decode("utf-8").strip() == fixture.read_text("utf-8").strip()
    final = result.events[-1]["response"]
    calls = [i for i in final["output"] if i["type"] == "function_call"]
    outputs = [{"type": "function_call_output", "call_id": c["call_id"], "output": "ok"}
               for c in calls]
    follow = post(standin, {"model": "echo", "input": outputs,
                            "previous_response_id": final["id"]}).json()
    text = follow["output"][0]["content"][0]["text"]
    assert "Turn 2 of this conversation" in text and "Tool results: search -> ok" in text


def test_replay_jsonl_framing_and_non_stream(standin: StandinServer, reference_dir: Any) -> None:
    fixture = reference_dir / "fixtures" / "stream-agent-loop-step4.jsonl"
    lines = [ln for ln in fixture.read_text("utf-8").splitlines() if ln.strip()]
    standin.script([{"replay": str(fixture)}, {"replay": str(fixture)}])
    result = stream(standin, {"model": "echo", "input": "x"})
    assert result.data_lines == lines
    assert result.raw.decode().startswith("event: response.created\ndata: ")
    body = post(standin, {"model": "echo", "input": "x"}).json()
    assert body == json.loads(lines[-1])["response"]


# -- echo reporting ---------------------------------------------------------------------------

def test_echo_reports_parts_exactly(standin: StandinServer) -> None:
    png = base64.b64encode(b"\x89PNG" + b"\0" * 2341).decode()
    csv = base64.b64encode(b"a,b\n" * 308 + b"xy").decode()
    body = {
        "model": "gpt-4o-mini", "instructions": "x" * 34, "temperature": 0.2,
        "tools": [{"type": "function", "name": "f"}, {"type": "function", "name": "g"}],
        "input": [
            {"role": "user", "content": "earlier question"},
            {"role": "assistant", "content": "earlier answer"},
            {"role": "user", "content": [
                {"type": "input_text", "text": "What is in"},
                {"type": "input_image", "image_url": f"data:image/png;base64,{png}"},
                {"type": "input_text", "text": "these files?"},
                {"type": "input_file", "filename": "report.csv",
                 "file_data": f"data:text/csv;base64,{csv}"},
            ]},
        ],
    }
    text = post(standin, body).json()["output"][0]["content"][0]["text"]
    assert text == (
        "**Offline stand-in** (no model was called). Turn 1 of this conversation.\n\n"
        "You said: What is in\nthese files?\n\n"
        "Received: 3 input_text, 1 output_text, 1 input_image (image/png, 2,345 bytes, detail "
        "auto), 1 input_file (report.csv, 1,234 bytes); instructions: 34 chars; temperature "
        "0.2; tools: f, g."
    )
    urls = {"model": "echo", "input": [{"role": "user", "content": [
        {"type": "input_image", "image_url": "https://example.com/cat.png", "detail": "low"},
        {"type": "input_file", "file_url": "https://example.com/r.pdf"}]}]}
    text = post(standin, urls).json()["output"][0]["content"][0]["text"]
    assert "You said: (no text)" in text
    assert ("1 input_image (https://example.com/cat.png, detail low), "
            "1 input_file (https://example.com/r.pdf)") in text


# -- lifecycle --------------------------------------------------------------------------------

def test_stop_leaves_no_thread_and_is_idempotent() -> None:
    before = set(threading.enumerate())
    srv = StandinServer(token_delay=0.0)
    srv.start()
    srv.start()  # idempotent
    first_url = srv.base_url
    idle = httpx.Client(headers=AUTH)  # holds a keep-alive connection open
    assert idle.post(f"{srv.base_url}/responses", json={"model": "echo", "input": "x"}).is_success
    srv.drip(5.0)  # a stream that would take minutes
    cut: list[Stream] = []
    hanging = threading.Thread(
        target=lambda: cut.append(stream(srv, {"model": "lorem-50", "input": "x"})))
    hanging.start()
    time.sleep(0.2)
    started = time.monotonic()
    srv.stop()
    srv.stop()  # idempotent
    assert time.monotonic() - started < 3
    hanging.join(5)
    assert cut and cut[0].error is not None  # the client saw the stream dropped, not completed
    assert cut[0].events[-1]["type"] not in TERMINALS
    idle.close()
    leftover = [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert leftover == []
    with pytest.raises(RuntimeError):
        _ = srv.base_url
    srv.start()  # restartable
    try:
        assert post(srv, {"model": "echo", "input": "x"}).status_code == 200
        assert srv.base_url.startswith("http://127.0.0.1:") and first_url
    finally:
        srv.stop()


def test_concurrent_streams(standin: StandinServer) -> None:
    results: list[Stream] = []
    threads = [threading.Thread(target=lambda: results.append(
        stream(standin, {"model": "lorem-200", "input": "x"}))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(results) == 6
    for result in results:
        check_stream(result.events)
    assert len({r.events[0]["response"]["id"] for r in results}) == 6
    assert len(standin.requests) == 6
