"""Mutation-testing gaps in the HTTP layer: key masking, transport-error messages, non-streamed
answers, stalls and closing the connection pools.  The client runs against the stand-in (or a
closed port, or a tiny JSON server) over real loopback."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psutil
import pytest

from agcloud_magic.errors import (
    AuthenticationError,
    BadRequestError,
    ConnectionDroppedError,
    ConnectionFailedError,
    IncompleteResponseError,
    RequestTimeoutError,
    ResponseFailedError,
)
from agcloud_magic.http.client import Client
from agcloud_magic.http.retry import RetryPolicy
from agcloud_magic.http.settings import Settings, mask_key
from agcloud_magic.standin import serve

KEY = "sk-test-kill-http-0123456789"
NO_RETRY = RetryPolicy(max_retries=0)


@pytest.fixture()
def server():
    with serve() as srv:
        yield srv


def make_client(base_url: str, **settings) -> Client:
    return Client(Settings(api_key=KEY, base_url=base_url, model="echo", **settings),
                  retry_policy=NO_RETRY)


def open_connections(port: int) -> int:
    """This process's established TCP connections to ``port`` (the client side)."""
    return sum(
        1 for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    )


# -- mask_key -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        (None, "(not set)"),
        ("", "(not set)"),
        ("sk-123456789", "sk-…6789"),  # exactly 12 characters: the last four show
        ("sk-12345678", "sk-…"),  # 11: none show
        ("abcdefghijkl", "…ijkl"),  # no sk- prefix: no head
        ("abcdefghijk", "…"),
    ],
)
def test_mask_key(key, shown):
    assert mask_key(key) == shown


# -- transport errors: what the user is told ----------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_refused_names_the_url_the_error_and_the_way_out():
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ConnectionFailedError) as info:
        make_client(url).create({"input": "x", "stream": True})
    assert str(info.value) == (
        f"Could not connect to {url} (ConnectError): check the network and AGCLOUD_BASE_URL "
        "(%agcloud offline starts a local stand-in)."
    )


def test_no_first_byte_in_time_names_the_url_the_timeout_and_the_knob(server):
    server.slow_first_byte(1.5)
    with pytest.raises(RequestTimeoutError) as info:
        make_client(server.base_url, timeout=0.3).create({"input": "x", "stream": True})
    assert str(info.value) == (
        f"No answer from {server.base_url} within 0.3 s; not re-sent, since the server may still "
        "be running it: try again, or raise the timeout (%agcloud config timeout=120)."
    )


def test_a_stall_mid_stream_keeps_the_partial_answer_marked_cut(server):
    server.stall_after(8, 2.0)
    with pytest.raises(RequestTimeoutError) as info:
        make_client(server.base_url, timeout=0.3).create(
            {"input": "one two three four five six", "stream": True}
        )
    assert str(info.value) == (
        "The stream stalled for more than 0.3 s; the partial answer is kept. Run again, or "
        "raise the timeout (%agcloud config timeout=120)."
    )
    partial = info.value.partial
    assert partial.status == "cut" and partial.text


# -- a whole Response as JSON (stream: false, or a gateway that ignores stream: true) ----------


def test_a_json_answer_that_is_incomplete_raises_with_the_partial(server):
    server.ignore_stream()
    client = Client(Settings(api_key=KEY, base_url=server.base_url, model="lorem-40"),
                    retry_policy=NO_RETRY)
    with pytest.raises(IncompleteResponseError) as info:
        client.create({"input": "x", "stream": True, "max_output_tokens": 16})
    assert info.value.code == "max_output_tokens" and info.value.partial.status == "incomplete"


class _JSONServer:
    """A loopback server that answers every POST with one fixed JSON body (200)."""

    def __init__(self, payload: object) -> None:
        body = json.dumps(payload).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


FAILED_RESPONSE = {
    "id": "resp_failed", "object": "response", "status": "failed", "model": "m", "output": [],
    "error": {"code": "server_error", "message": "it broke"},
}


@pytest.mark.parametrize("stream", [False, True])
def test_a_json_answer_that_failed_raises_response_failed(stream):
    with _JSONServer(FAILED_RESPONSE) as url, pytest.raises(ResponseFailedError) as info:
        make_client(url).create({"input": "x", "stream": stream})
    assert info.value.code == "server_error" and "it broke" in str(info.value)
    assert info.value.partial.id == "resp_failed"


def test_a_json_answer_that_is_not_an_object_is_unusable_server_data():
    # Not "cut short; run again": the server did answer, with something else than a Response.
    with _JSONServer("just a string") as url, pytest.raises(Exception) as info:
        make_client(url).create({"input": "x", "stream": False})
    assert type(info.value).__name__ == "ServerDataError"


# -- closing the pools --------------------------------------------------------------------


def test_close_on_a_fresh_client_is_harmless_and_idempotent(server):
    client = make_client(server.base_url)
    client.close()
    client.close()
    assert client.create({"input": "after close", "stream": True}).text


def test_close_releases_the_sync_connection_and_a_later_request_reopens_one(server):
    client = make_client(server.base_url)
    assert "first" in client.create({"input": "first", "stream": True}).text
    assert open_connections(server.port) == 1
    client.close()
    assert open_connections(server.port) == 0
    assert "second" in client.create({"input": "second", "stream": True}).text
    client.close()
    client.close()
    assert open_connections(server.port) == 0


@pytest.fixture()
def loop_thread():
    """An event loop running in a daemon thread (like the package's private loop)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def on(loop: asyncio.AbstractEventLoop, coro, timeout: float = 10.0):
    return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)


def test_close_from_another_thread_closes_the_async_pool_on_its_loop(server, loop_thread):
    client = make_client(server.base_url)
    assert "async" in on(loop_thread, client.acreate({"input": "async", "stream": True})).text
    assert open_connections(server.port) == 1
    client.close()
    assert open_connections(server.port) == 0
    client.close()  # idempotent
    assert "again" in on(loop_thread, client.acreate({"input": "again", "stream": True})).text
    client.close()
    assert open_connections(server.port) == 0


def test_close_on_the_pools_own_loop_does_not_block_it(server, loop_thread):
    client = make_client(server.base_url)
    on(loop_thread, client.acreate({"input": "x", "stream": True}))

    async def close_here() -> float:
        started = time.monotonic()
        client.close()
        return time.monotonic() - started

    assert on(loop_thread, close_here()) < 1.0


def test_close_gives_up_after_two_seconds_when_the_loop_is_stuck(server, loop_thread):
    client = make_client(server.base_url)
    on(loop_thread, client.acreate({"input": "x", "stream": True}))
    loop_thread.call_soon_threadsafe(time.sleep, 4.0)  # the loop is busy for 4 s
    started = time.monotonic()
    client.close()  # must neither raise nor wait for the loop
    elapsed = time.monotonic() - started
    assert 1.5 < elapsed < 2.9  # the bound is 2 s (3 s or "forever" would fail here)


def test_aclose_closes_the_async_pool_and_is_idempotent(server):
    client = make_client(server.base_url)

    async def main() -> None:
        await client.acreate({"input": "x", "stream": True})
        assert open_connections(server.port) == 1
        await client.aclose()
        assert open_connections(server.port) == 0
        await client.aclose()
        assert "y" in (await client.acreate({"input": "y", "stream": True})).text
        await client.aclose()

    asyncio.run(main())
    assert open_connections(server.port) == 0


def test_close_on_the_pools_own_loop_closes_it_once_the_loop_runs_on(server, loop_thread):
    client = make_client(server.base_url)
    on(loop_thread, client.acreate({"input": "x", "stream": True}))
    assert open_connections(server.port) == 1

    async def close_here() -> None:
        client.close()
        await asyncio.sleep(0.2)  # yield: the scheduled close runs

    on(loop_thread, close_here())
    assert open_connections(server.port) == 0


def test_close_with_the_pools_loop_stopped_closes_it_there(server):
    client = make_client(server.base_url)
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(client.acreate({"input": "x", "stream": True}))
        assert open_connections(server.port) == 1
        client.close()  # the loop is idle (not closed): the pool is closed on it
        assert open_connections(server.port) == 0
    finally:
        loop.close()


# -- the async client's error and retry paths (asyncio.run on the test's thread) ---------------


def arun(client: Client, body: dict):
    async def main():
        try:
            return await client.acreate(body)
        finally:
            await client.aclose()

    return asyncio.run(main())


def retrying_client(base_url: str, retries: int) -> Client:
    return Client(Settings(api_key=KEY, base_url=base_url, model="echo"),
                  retry_policy=RetryPolicy(max_retries=retries))


def test_async_requests_are_posts_on_one_reused_pool(server):
    client = make_client(server.base_url)

    async def main():
        try:
            await client.acreate({"input": "one", "stream": True})
            first = client._async
            await client.acreate({"input": "two", "stream": True})
            return first is client._async, open_connections(server.port)
        finally:
            await client.aclose()

    same_pool, connections = asyncio.run(main())
    assert same_pool and connections == 1
    assert [r.method for r in server.requests] == ["POST", "POST"]


@pytest.mark.parametrize(("status", "kind"), [(400, BadRequestError), (401, AuthenticationError)])
def test_async_error_statuses_map_like_the_sync_ones_and_are_not_retried(server, status, kind):
    server.fail_next(status, message="the server's own words", times=3)
    with pytest.raises(kind) as info:
        arun(retrying_client(server.base_url, 2), {"input": "x", "stream": True})
    assert info.value.status == status
    if status == 400:
        assert "the server's own words" in str(info.value)
    assert len([r for r in server.requests if r.method == "POST"]) == 1


def test_async_retry_waits_as_long_as_the_server_asks(server):
    server.fail_next(429, retry_after=1.0)
    started = time.monotonic()
    result = arun(retrying_client(server.base_url, 1), {"input": "after the wait", "stream": True})
    waited = time.monotonic() - started
    assert "after the wait" in result.text
    assert waited >= 0.95  # Retry-After: 1 (the policy's own backoff would be at most 0.5 s)
    assert len([r for r in server.requests if r.method == "POST"]) == 2


class _Hangup:
    """A loopback TCP server that accepts and at once closes every connection, counting them."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.accepted = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


def test_async_a_hang_up_after_the_request_is_not_re_sent_and_said_in_one_line():
    # The request went out before the server hung up: re-sending it could bill it twice.
    hangup = _Hangup()
    base_url = hangup.base_url
    try:
        client = Client(Settings(api_key=KEY, base_url=base_url, model="echo"),
                        retry_policy=RetryPolicy(max_retries=1, base_delay=0.01))
        with pytest.raises(ConnectionDroppedError) as info:
            arun(client, {"input": "x", "stream": True})
    finally:
        hangup.close()
    assert hangup.accepted == 1  # no retry
    message = str(info.value)
    assert base_url in message and "Error" in message and "closed the connection" in message
