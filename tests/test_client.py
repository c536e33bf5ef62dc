"""The client against the stand-in over real loopback HTTP: streaming, errors, retries."""

from __future__ import annotations

import asyncio

import pytest

from agcloud_magic.errors import (
    AuthenticationError,
    BadRequestError,
    IncompleteResponseError,
    InsecureBaseURLError,
    MissingKeyError,
    PreviousResponseNotFoundError,
    QuotaExceededError,
    RateLimitError,
    RequestTimeoutError,
    ResponseFailedError,
    ServerError,
    StreamCutError,
)
from agcloud_magic.http.client import Client
from agcloud_magic.http.retry import RetryPolicy
from agcloud_magic.http.settings import Settings
from agcloud_magic.standin import serve

KEY = "sk-test-client-0123456789abcdef"
FAST_RETRY = RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.05)


@pytest.fixture()
def server():
    with serve() as srv:
        yield srv


def make_client(srv, **kwargs) -> Client:
    kwargs.setdefault("retry_policy", FAST_RETRY)
    return Client(Settings(api_key=KEY, base_url=srv.base_url, model="echo"), **kwargs)


def post_count(srv) -> int:
    return sum(1 for r in srv.requests if r.method == "POST")


@pytest.mark.parametrize("stream", [True, False])
def test_sync_and_async_give_the_same_answer(server, stream):
    client = make_client(server)
    seen = []
    sync = client.create({"input": "hello there", "stream": stream}, on_event=seen.append)
    async_result = asyncio.run(client.acreate({"input": "hello there", "stream": stream}))
    assert sync.status == async_result.status == "completed"
    assert "hello there" in sync.text
    assert sync.text == async_result.text
    assert sync.id and sync.id.startswith("resp_") and sync.id != async_result.id
    assert sync.usage["output_tokens"] > 0
    assert sync.model == "echo"
    if stream:
        deltas = [e["delta"] for e in seen if e["type"] == "response.output_text.delta"]
        assert len(deltas) > 3 and "".join(deltas) == sync.text
    else:
        assert seen == []


def test_chaining_with_previous_response_id(server):
    client = make_client(server)
    first = client.create({"input": "one", "stream": True})
    second = client.create({"input": "two", "stream": True, "previous_response_id": first.id})
    assert "Turn 2" in second.text and "Turn 1" in first.text
    assert server.requests[-1].body["previous_response_id"] == first.id


def test_429_with_retry_after_then_success(server):
    server.fail_next(429, retry_after=0.2)
    result = make_client(server).create({"input": "x", "stream": True})
    assert result.status == "completed"
    assert post_count(server) == 2


def test_500_twice_then_success(server):
    server.fail_next(500, times=2)
    result = make_client(server).create({"input": "x", "stream": True})
    assert result.status == "completed"
    assert post_count(server) == 3


def test_500_past_the_retry_bound_is_a_server_error(server):
    server.fail_next(503, times=3)
    with pytest.raises(ServerError) as info:
        make_client(server).create({"input": "x", "stream": True})
    assert post_count(server) == 3
    assert "503" in str(info.value) and "\n" not in str(info.value)


def test_400_is_not_retried(server):
    server.fail_next(400, message="Invalid value for temperature.", code=None)
    with pytest.raises(BadRequestError) as info:
        make_client(server).create({"input": "x", "stream": True})
    assert post_count(server) == 1
    assert "Invalid value for temperature" in str(info.value)


def test_schema_rejects_bad_temperature_without_retry(server):
    with pytest.raises(BadRequestError) as info:
        make_client(server).create({"input": "x", "temperature": 9, "stream": True})
    assert "temperature" in str(info.value)
    assert post_count(server) == 1


def test_quota_429_is_not_retried(server):
    server.fail_next(429, code="insufficient_quota", message="You exceeded your current quota.")
    with pytest.raises(QuotaExceededError) as info:
        make_client(server).create({"input": "x", "stream": True})
    assert post_count(server) == 1
    assert isinstance(info.value, RateLimitError)


def test_agcloud_style_error_body(server):
    server.fail_next(400, style="agcloud", message="Invalid request error")
    with pytest.raises(BadRequestError) as info:
        make_client(server).create({"input": "x", "stream": True})
    assert "Invalid request error" in str(info.value)


@pytest.mark.parametrize("shape", ["nested", "flat"])
def test_mid_stream_error_keeps_partial_text(server, shape):
    server.error_mid_stream(after_events=6, shape=shape, code="server_error", message="boom")
    with pytest.raises(ResponseFailedError) as info:
        make_client(server).create({"input": "a b c d e f g h", "stream": True})
    assert "boom" in str(info.value) or "server_error" in str(info.value)
    assert info.value.partial.text  # deltas before the error are kept
    assert post_count(server) == 1  # nothing is retried after bytes were shown


def test_failed_alone(server):
    server.fail_in_stream(after_events=2, code="insufficient_quota", message="quota gone")
    with pytest.raises(ResponseFailedError) as info:
        make_client(server).create({"input": "x", "stream": True})
    assert info.value.code == "insufficient_quota"


def test_cut_stream_is_never_success(server):
    server.cut_after(6)
    with pytest.raises(StreamCutError) as info:
        make_client(server).create({"input": "one two three four five six", "stream": True})
    assert info.value.partial.status == "cut"
    assert "cut short" in str(info.value)


def test_slow_first_byte_past_the_timeout(server):
    server.slow_first_byte(2.0)
    client = make_client(server, timeout=0.3, retry_policy=RetryPolicy(max_retries=0))
    with pytest.raises(RequestTimeoutError) as info:
        client.create({"input": "x", "stream": True})
    assert "0.3 s" in str(info.value)


def test_slow_first_byte_within_the_timeout_succeeds(server):
    server.slow_first_byte(0.2)
    result = make_client(server, timeout=5).create({"input": "x", "stream": True})
    assert result.status == "completed"


def test_401_names_the_env_var_and_never_the_key():
    secret = "sk-test-WRONG-key-abcdefghijklmnop"
    with serve(api_key="sk-test-the-right-one-123456") as srv:
        client = Client(Settings(api_key=secret, base_url=srv.base_url), retry_policy=FAST_RETRY)
        with pytest.raises(AuthenticationError) as info:
            client.create({"input": "x", "stream": True})
    text = str(info.value) + repr(info.value) + repr(client) + repr(client.settings)
    assert "AGCLOUD_API_KEY" in str(info.value)
    assert secret not in text and "abcdefghijklmnop" not in text
    assert "\n" not in str(info.value)


def test_incomplete_response_keeps_text(server):
    with pytest.raises(IncompleteResponseError) as info:
        make_client(server).create(
            {"input": " ".join(["word"] * 60), "stream": True, "max_output_tokens": 16}
        )
    assert info.value.code == "max_output_tokens"
    assert info.value.partial.status == "incomplete" and info.value.partial.text


def test_unknown_previous_response(server):
    with pytest.raises(PreviousResponseNotFoundError) as info:
        make_client(server).create(
            {"input": "x", "stream": True, "previous_response_id": "resp_doesnotexist"}
        )
    assert "--new" in str(info.value)


def test_done_marker_is_tolerated(server):
    server.done_marker = True
    result = make_client(server).create({"input": "x y", "stream": True})
    assert result.status == "completed"


def test_insecure_base_url_refused_before_any_request():
    client = Client(Settings(api_key=KEY, base_url="http://example.com/v1"))
    with pytest.raises(InsecureBaseURLError):
        client.create({"input": "x"})


def test_missing_key_is_a_clear_error():
    client = Client(Settings(api_key=None, base_url="http://127.0.0.1:9/v1"))
    with pytest.raises(MissingKeyError) as info:
        client.create({"input": "x"})
    assert "AGCLOUD_API_KEY" in str(info.value) and "%agcloud login" in str(info.value)


def test_connection_refused_is_retried_then_reported(unused_port=None):
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    client = Client(Settings(api_key=KEY, base_url=f"http://127.0.0.1:{port}/v1"),
                    retry_policy=FAST_RETRY)
    from agcloud_magic.errors import ConnectionFailedError

    with pytest.raises(ConnectionFailedError) as info:
        client.create({"input": "x"})
    assert "AGCLOUD_BASE_URL" in str(info.value)


def test_cancel_closes_the_stream(server):
    server.drip(0.05)
    client = make_client(server)

    async def main():
        got_first = asyncio.Event()

        def on_event(event):
            if event["type"] == "response.output_text.delta":
                got_first.set()

        task = asyncio.ensure_future(
            client.acreate({"input": " ".join(["w"] * 200), "stream": True}, on_event=on_event)
        )
        await asyncio.wait_for(got_first.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await client.aclose()

    asyncio.run(main())


def test_one_client_across_event_loops(server):
    client = make_client(server)
    first = asyncio.run(client.acreate({"input": "loop one", "stream": True}))
    second = asyncio.run(client.acreate({"input": "loop two", "stream": True}))
    assert "loop one" in first.text and "loop two" in second.text


def test_sync_cancellation_from_another_thread_closes_the_stream(server):
    import threading

    from agcloud_magic.errors import AGCloudError
    from agcloud_magic.http.client import Cancellation

    server.drip(0.05)
    client = make_client(server)
    cancel = Cancellation()
    first_delta = threading.Event()
    outcome = {}

    def on_event(event):
        if event["type"] == "response.output_text.delta":
            first_delta.set()

    def read():
        try:
            outcome["result"] = client.create(
                {"input": " ".join(["w"] * 200), "stream": True}, on_event=on_event, cancel=cancel
            )
        except AGCloudError as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=read)
    worker.start()
    assert first_delta.wait(10)
    cancel.cancel()
    worker.join(5)
    assert not worker.is_alive()  # the blocked read woke up: 200 x 0.05 s were not waited out
    assert "result" not in outcome  # never reported as a finished answer


def test_a_gateway_that_ignores_stream_true_still_works(server):
    """Some gateways answer a stream request with the whole JSON Response: read it as such."""
    import http.server
    import json
    import threading

    whole = make_client(server).create({"input": "gateway", "stream": False}).response

    class Gateway(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            payload = json.dumps(whole).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    gateway = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=gateway.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{gateway.server_address[1]}/v1"
        client = Client(Settings(api_key=KEY, base_url=base), retry_policy=FAST_RETRY)
        result = client.create({"input": "gateway", "stream": True})
        async_result = asyncio.run(client.acreate({"input": "gateway", "stream": True}))
    finally:
        gateway.shutdown()
        gateway.server_close()
    assert result.status == async_result.status == "completed"
    assert "gateway" in result.text and result.text == async_result.text
