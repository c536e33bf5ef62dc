"""The Python face: respond() and arespond() against the stand-in over loopback."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap

import pytest

import agcloud_magic
from agcloud_magic.standin import serve


@pytest.fixture()
def srv(monkeypatch):
    with serve() as server:
        monkeypatch.setenv("AGCLOUD_BASE_URL", server.base_url)
        monkeypatch.setenv("AGCLOUD_API_KEY", "sk-test-api-0000000000")
        monkeypatch.setenv("AGCLOUD_MODEL", "echo")
        yield server


def test_respond_returns_a_result(srv):
    result = agcloud_magic.respond("What is 2 + 2?", temperature=0.1, instructions="Be terse.")
    assert "What is 2 + 2?" in result.text and str(result) == result.text
    assert result.status == "completed" and result.model == "echo"
    assert result.id.startswith("resp_") and result.usage["total_tokens"] > 0
    assert result.output[0]["type"] == "message"
    body = srv.requests[-1].body
    assert body["temperature"] == 0.1 and body["instructions"] == "Be terse." and body["stream"]
    bundle = result._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}


def test_respond_with_role_messages_and_parts(srv):
    message = {"role": "developer", "content": [{"type": "input_text", "text": "hello parts"}]}
    result = agcloud_magic.respond(message, stream=False)
    assert "hello parts" in result.text
    assert srv.requests[-1].body["input"] == [message]


def test_arespond_under_asyncio_run(srv):
    result = asyncio.run(agcloud_magic.arespond("async hello"))
    assert "async hello" in result.text


def test_result_html_is_inert(srv):
    result = agcloud_magic.respond('<img src=x onerror="alert(1)"><script>alert(2)</script>')
    html = result._repr_mimebundle_()["text/html"]
    assert "<img" not in html and "<script" not in html and "&lt;img" in html


def test_arespond_with_nest_asyncio_applied(srv):
    code = textwrap.dedent(f"""
        import asyncio, os, nest_asyncio
        os.environ.update(AGCLOUD_BASE_URL={srv.base_url!r}, AGCLOUD_API_KEY="sk-test-nest-000000")
        nest_asyncio.apply()
        import agcloud_magic

        async def main():
            first = await agcloud_magic.arespond("nested one")
            # A blocking call from inside a running (patched) loop, as a notebook cell would.
            second = agcloud_magic.respond("nested two", previous_response_id=first.id)
            return first, second

        loop = asyncio.get_event_loop()
        first, second = loop.run_until_complete(main())
        print(first.status, second.status, "Turn 2" in second.text)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["completed", "completed", "True"], out.stderr[-2000:]


def test_respond_runs_python_tools_until_the_model_answers(srv):
    calls = []

    def lookup(city: str) -> dict:
        """Weather for a city."""
        calls.append(city)
        return {"city": city, "sky": "clear"}

    def never() -> str:
        calls.append("never")
        return "x"

    srv.script([{"calls": [{"name": "lookup", "arguments": {"city": "Oslo"}},
                           {"name": "never", "arguments": {}}]},
                {"text": "Clear in Oslo."}])
    result = agcloud_magic.respond("Weather in Oslo?", tools=[lookup, {"type": "web_search"}])
    assert result.text == "Clear in Oslo." and calls == ["Oslo"]
    second = srv.requests[-1].body
    lookup_output, never_output = (item["output"] for item in second["input"])
    assert json.loads(lookup_output) == {"city": "Oslo", "sky": "clear"}
    assert never_output.startswith("Error: ")  # never was not named: it did not run
    assert second["previous_response_id"] in srv.stored  # chained onto the first response
    assert {"type": "web_search"} in second["tools"]


def test_raw_function_specs_alone_hand_the_calls_back_in_one_request(srv):
    # Only JSON specs, no Python function: the caller runs its own functions (the raw API's
    # way), so the calls come back in the Result; nothing is answered with an error and
    # nothing is sent again.
    spec = {"type": "function", "name": "record", "strict": True,
            "parameters": {"type": "object", "properties": {"stars": {"type": "integer"}},
                           "required": ["stars"], "additionalProperties": False}}
    result = agcloud_magic.respond("Rate it: great.", tools=[spec],
                                   tool_choice={"type": "function", "name": "record"})
    assert len([r for r in srv.requests if r.method == "POST"]) == 1
    (call,) = result.function_calls
    assert call["name"] == "record" and isinstance(json.loads(call["arguments"])["stars"], int)


def test_a_raw_spec_beside_a_python_tool_is_answered_with_an_error(srv):
    def lookup(city: str) -> dict:
        """Weather for a city."""
        return {"city": city}

    raw = {"type": "function", "name": "book", "parameters": {"type": "object"}}
    srv.script([{"calls": [{"name": "book", "arguments": {}}]}, {"text": "Done."}])
    result = agcloud_magic.respond("Book it.", tools=[lookup, raw])
    assert result.text == "Done."
    (output,) = srv.requests[-1].body["input"]
    assert output["output"].startswith("Error: tool 'book' has no Python function")


def test_arespond_runs_python_tools_and_bounds_the_rounds(srv):
    def ping() -> str:
        """Ping."""
        return "pong"

    srv.script([{"calls": [{"name": "ping", "arguments": {}}]}] * 3)
    with pytest.raises(agcloud_magic.AGCloudError) as info:
        asyncio.run(agcloud_magic.arespond("loop", tools=[ping], max_rounds=2))
    assert "Stopped after 2 tool rounds" in str(info.value)
    assert len([r for r in srv.requests if r.method == "POST"]) == 3


def test_client_methods_mirror_the_functions(srv):
    client = agcloud_magic.Client(api_key="sk-test-methods-0000", base_url=srv.base_url)
    first = client.respond("method one", model="echo")
    second = asyncio.run(client.arespond("method two", previous_response_id=first.id))
    assert "method one" in first.text and "Turn 2" in second.text
