"""Tool lines, the tool loop's edges and the request id, through real parts (the stand-in over
loopback, the magic in a real IPython shell): behaviour the mutation run showed no test held."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import agcloud_magic
from agcloud_magic.errors import RequestTimeoutError, ToolError
from agcloud_magic.http.client import Client
from agcloud_magic.http.settings import Settings

from .magic_support import posts, run_cell

KEY = "sk-test-turns-0123456789abcdef"


def client_for(base_url: str, **kwargs) -> Client:
    return Client(Settings(api_key=KEY, base_url=base_url, model="echo"), **kwargs)


def test_a_tool_line_shows_the_arguments_as_json_and_the_result(ip, srv):
    def weather(city: str) -> str:
        """The weather in a city."""
        return f"sunny in {city}"

    ip.user_ns["weather"] = weather
    srv.script([{"calls": [{"name": "weather", "arguments": {"city": "Zürich"}}]},
                {"text": "It is sunny."}])
    run = run_cell(ip, "%%respond --tools weather\nWeather?")
    assert run.error is None, run.stderr
    line = next(ln for ln in run.stdout.splitlines() if ln.startswith("[tool]"))
    # Non-ASCII stays readable (not \u00fc), the result follows the arrow.
    assert line == '[tool] weather({"city": "Zürich"}) -> sunny in Zürich'


def test_function_calls_without_python_tools_end_the_turn(srv):
    client = client_for(srv.base_url)
    srv.script([{"calls": [{"name": "lookup", "arguments": {"q": "x"}}]}])
    plain = agcloud_magic.respond("Look it up.", client=client)
    assert [c["name"] for c in plain.function_calls] == ["lookup"]
    srv.script([{"calls": [{"name": "lookup", "arguments": {"q": "x"}}]}])
    hosted = agcloud_magic.respond("Look it up.", client=client, tools=[{"type": "web_search"}])
    assert [c["name"] for c in hosted.function_calls] == ["lookup"]
    assert len(posts(srv)) == 2  # one request each: nothing to answer the calls with


def test_the_round_bound_error_keeps_the_last_response(srv):
    def again() -> str:
        """Call me again."""
        return "more"

    client = client_for(srv.base_url)
    srv.script([{"calls": [{"name": "again", "arguments": {}}]}] * 3)
    with pytest.raises(ToolError) as info:
        agcloud_magic.respond("Loop.", client=client, tools=[again], max_rounds=1)
    assert "1 tool rounds" in str(info.value)
    partial = info.value.partial
    assert partial is not None and [c["name"] for c in partial.function_calls] == ["again"]
    # The partial is the second (last) response, not the first one the follow-up chained onto.
    assert len(posts(srv)) == 2 and partial.id in srv.stored
    assert posts(srv)[1]["previous_response_id"] != partial.id


@pytest.mark.parametrize("stream", [True, False])
def test_the_async_client_keeps_the_servers_request_id(srv, stream):
    client = client_for(srv.base_url)

    async def main():
        try:
            return await client.acreate({"input": "id?", "stream": stream})
        finally:
            await client.aclose()

    result = asyncio.run(main())
    sync = client_for(srv.base_url).create({"input": "id?", "stream": stream})
    for got in (result, sync):
        assert got.request_id and got.request_id.startswith("req_")
    assert result.request_id != sync.request_id  # each request's own id


class _SlowBody(BaseHTTPRequestHandler):
    """Sends the headers of a JSON answer at once, then stalls before the body."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        body = json.dumps({"id": "resp_x", "object": "response", "status": "completed",
                           "output": []}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.flush()
        time.sleep(1.5)
        with contextlib.suppress(OSError):  # the client gave up meanwhile
            self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture()
def slow_body():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowBody)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_a_json_body_that_stalls_is_a_timeout_in_both_clients(slow_body):
    client = client_for(slow_body, timeout=0.3, max_retries=0)
    with pytest.raises(RequestTimeoutError, match=r"0\.3 s"):
        client.create({"input": "x", "stream": False})

    async def main():
        try:
            await client.acreate({"input": "x", "stream": False})
        finally:
            await client.aclose()

    with pytest.raises(RequestTimeoutError, match=r"0\.3 s"):
        asyncio.run(main())
