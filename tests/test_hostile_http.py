"""The HTTP layer against a hostile server and a badly pasted key: every request ends within
its deadline and its size cap, with one line of the package's own error tree that says what
happened, never the key, and nothing sent where it should not go."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from agcloud_magic.errors import (
    AGCloudError,
    AnswerTooLargeError,
    BadRequestError,
    DeadlineExceededError,
    InsecureBaseURLError,
    InvalidKeyError,
    ServerDataError,
)
from agcloud_magic.http.client import Client
from agcloud_magic.http.settings import Settings

from .hostile_server import (
    SSE_HEAD,
    Connection,
    HostileServer,
    Request,
    answer,
    completed,
    delta,
    gzip_bomb,
    sse,
    stream_of,
)
from .magic_support import posts, run_cell

KEY = "sk-test-hostile-0123456789abcdef"
# A key of no known shape (no sk- prefix): redaction must not depend on the shape.
ODD_KEY = "AGCx7Rq2Lm9Vt4Wp8Zn3Yb6"


def client(base_url: str, **settings: Any) -> Client:
    values = {"api_key": KEY, "base_url": base_url, "max_retries": 0, **settings}
    return Client(Settings(**values))


@pytest.fixture
def hostile():
    with HostileServer(answer(500, b"no script set")) as server:
        yield server


def _everything(exc: BaseException) -> str:
    """Every text an error shows or holds: message, repr, attributes."""
    return "\n".join([str(exc), repr(exc), *map(repr, vars(exc).values())])


# -- the key ----------------------------------------------------------------------------------


@pytest.mark.parametrize("ending", ["\r\n", "\n", " ", "\t\r\n"])
def test_white_space_around_the_key_is_dropped_and_the_request_goes_out(hostile, ending):
    hostile.script = stream_of(delta("Hi"), completed("Hi"))
    result = client(hostile.base_url, api_key=f"  {KEY}{ending}").create(
        {"input": "hi", "stream": True})
    assert result.text == "Hi"
    assert hostile.requests[-1].headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize(("char", "name"), [
    ("\u200b", "ZERO WIDTH SPACE"), ("\u00a0", "NO-BREAK SPACE"), ("é", "LATIN SMALL"),
    ("\r", "a control character"),
])
def test_a_character_no_key_has_is_one_line_naming_it_never_the_key(srv, char, name):
    bad = KEY[:10] + char + KEY[10:]
    with pytest.raises(InvalidKeyError) as info:
        client(srv.base_url, api_key=bad).create({"input": "hi"})
    message = str(info.value)
    assert message.startswith(f"The API key holds U+{ord(char):04X} ({name}")
    assert "character 11 of" in message and "copy the key again" in message
    assert KEY[10:] not in _everything(info.value) and KEY[:10] not in message
    assert not srv.requests  # nothing was sent


def test_the_http_library_logs_nothing_of_the_key(srv, caplog):
    caplog.set_level(logging.DEBUG)
    client(srv.base_url, api_key=KEY + "\r\n").create({"input": "hi", "stream": True})
    with pytest.raises(InvalidKeyError):
        client(srv.base_url, api_key=KEY + "\u200b").create({"input": "hi"})
    assert caplog.records  # httpx and httpcore did log the request
    assert not [r for r in caplog.records if KEY in r.getMessage()]


def test_a_pasted_zero_width_space_under_xmode_verbose_shows_one_line_and_no_key(ip, srv):
    from IPython.core.error import UsageError

    from agcloud_magic.ipython.extension import get_magics

    run_cell(ip, "%xmode Verbose")
    try:
        get_magics(ip).login_key = KEY + "\u200b"
        run = run_cell(ip, "%%respond\nhello")
    finally:
        run_cell(ip, "%xmode Context")
    # A UsageError: IPython prints its one line, with no traceback and no frame locals.
    assert isinstance(run.error, UsageError)
    assert str(run.error).startswith("The API key holds U+200B (ZERO WIDTH SPACE)")
    assert KEY not in run.everything + str(run.error) and "Traceback" not in run.everything
    assert not posts(srv)


def test_login_checks_the_key_as_it_is_typed(ip, monkeypatch):
    import getpass

    from IPython.core.error import UsageError

    from agcloud_magic.ipython.extension import get_magics

    monkeypatch.setattr(getpass, "getpass", lambda _prompt: KEY + "\u200b")
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("agcloud", "login")
    assert "U+200B" in str(info.value) and KEY not in str(info.value)
    assert get_magics(ip).login_key is None
    monkeypatch.setattr(getpass, "getpass", lambda _prompt: f" {KEY}\r\n")
    ip.run_line_magic("agcloud", "login")
    assert get_magics(ip).login_key == KEY


def test_loopback_requests_never_go_through_the_environment_s_proxy(srv, monkeypatch):
    with HostileServer(answer(502, b"proxy")) as proxy:
        for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.setenv(name, proxy.base_url.removesuffix("/v1"))
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        result = client(srv.base_url).create({"input": "hi", "stream": True})
        asyncio.run(client(srv.base_url).acreate({"input": "hi", "stream": True}))
    assert result.text
    assert proxy.requests == []  # the Bearer key never reached the proxy host
    assert len(posts(srv)) == 2


@pytest.mark.parametrize("host", ["evil.localhost", "localhost.evil.example", "127.0.0.1.nip.io"])
def test_only_literal_loopback_and_localhost_count_as_local_for_plain_http(host):
    with pytest.raises(InsecureBaseURLError):
        client(f"http://{host}:9/v1").create({"input": "hi"})


def test_the_configured_key_is_masked_in_every_attribute_whatever_its_shape(hostile):
    body = (
        '{"error": {"message": "key %s is not valid", "code": "%s", "param": "%s",'
        ' "type": "%s"}}' % ((ODD_KEY,) * 4)
    ).encode()
    hostile.script = answer(400, body, [("content-type", "application/json"),
                                        ("x-request-id", f"req_{ODD_KEY}")])
    with pytest.raises(BadRequestError) as info:
        client(hostile.base_url, api_key=ODD_KEY).create({"input": "hi"})
    assert ODD_KEY not in _everything(info.value)
    assert hostile.requests[0].headers["authorization"] == f"Bearer {ODD_KEY}"


# -- the deadline -----------------------------------------------------------------------------


def _keep_alive_for_ever(conn: Connection, _request: Request) -> None:
    conn.head(200, SSE_HEAD)
    conn.chunk(sse(delta("Hello")))
    while conn.open and conn.chunk(b": keep-alive\n\n"):
        conn.pause(0.05)


def _trickle_for_ever(conn: Connection, _request: Request) -> None:
    conn.head(200, SSE_HEAD)
    while conn.open and conn.chunk(sse(delta("x"))):
        conn.pause(0.05)


def _slowloris_headers(conn: Connection, _request: Request) -> None:
    conn.send(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    while conn.open and conn.send(b"a"):
        conn.pause(0.05)


@pytest.mark.parametrize("script", [_keep_alive_for_ever, _trickle_for_ever, _slowloris_headers])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_request_ends_at_its_deadline_however_steadily_the_server_trickles(
    hostile, script, mode
):
    hostile.script = script
    api = client(hostile.base_url, deadline=1.0, timeout=0.5)
    started = time.monotonic()
    body = {"input": "hi", "stream": True}
    with pytest.raises(DeadlineExceededError) as info:
        if mode == "sync":
            api.create(body)
        else:
            asyncio.run(api.acreate(body))
    took = time.monotonic() - started
    assert took < 5, f"the request ran {took:.1f} s past a 1 s deadline"
    assert str(info.value).startswith(
        f"The request to {hostile.base_url} took longer than its deadline of 1 s (deadline: the "
        "whole request, however steadily the server sends)")
    assert "%agcloud config deadline=" in str(info.value)
    if script is not _slowloris_headers:
        partial = info.value.partial
        assert partial.text.startswith(("Hello", "x"))  # what came is kept
        assert partial.status == "cut"
    assert len(hostile.requests) == 1  # and not re-sent


# -- size caps --------------------------------------------------------------------------------


def _endless_answer(conn: Connection, _request: Request) -> None:
    conn.head(200, SSE_HEAD)
    piece = sse(delta("y" * 1000))
    while conn.open and conn.chunk(piece):
        pass


def test_an_endless_answer_stops_at_the_cap_keeping_what_came(hostile):
    hostile.script = _endless_answer
    with pytest.raises(AnswerTooLargeError) as info:
        client(hostile.base_url, max_answer_bytes=2**20).create({"input": "hi", "stream": True})
    assert str(info.value).startswith("The answer passed 1 MB and was stopped there")
    assert "max_answer_mb=" in str(info.value)
    text = info.value.partial.text
    assert 500_000 < len(text) <= 2**20 and set(text) == {"y"}


@pytest.mark.parametrize("stream", [False, True])
def test_a_gzip_bomb_stops_at_the_cap_instead_of_filling_memory(hostile, stream):
    kind = "text/event-stream" if stream else "application/json"
    import tracemalloc

    hostile.script = answer(200, gzip_bomb(512), [("content-type", kind),
                                                  ("content-encoding", "gzip")])
    tracemalloc.start()
    try:
        with pytest.raises(AnswerTooLargeError):
            client(hostile.base_url, max_answer_bytes=4 * 2**20).create(
                {"input": "hi", "stream": stream})
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Before, all 512 MB were inflated and kept.  Now memory stays bounded whatever the bomb:
    # one 64 KB chunk of compressed input inflates to ~64 MB (held twice by httpx's decoder
    # and chunker) before the count can see it.
    assert peak < 192 * 2**20, f"peak {peak / 2**20:.0f} MB"


@pytest.mark.parametrize("stream", [False, True])
def test_a_body_that_does_not_decode_is_one_line_of_the_package(hostile, stream):
    kind = "text/event-stream" if stream else "application/json"
    hostile.script = answer(200, b"\x1f\x8b\x08\x00this is not gzip at all" * 10,
                            [("content-type", kind), ("content-encoding", "gzip")])
    with pytest.raises(ServerDataError) as info:
        client(hostile.base_url).create({"input": "hi", "stream": stream})
    assert str(info.value).startswith(f"The answer from {hostile.base_url} did not decode")


# -- saying what happened -------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_named_and_not_followed(hostile, status):
    hostile.script = answer(status, b"", [("location", "https://elsewhere.example/v1/responses")],
                            reason="Moved")
    with pytest.raises(ServerDataError) as info:
        client(hostile.base_url).create({"input": "hi", "stream": True})
    assert str(info.value).startswith(
        f"The server at {hostile.base_url} answered {status} (a redirect to "
        "https://elsewhere.example/v1/responses), which is not followed")
    assert len(hostile.requests) == 1


@pytest.mark.parametrize("stream", [False, True])
def test_an_html_page_with_200_is_named_not_called_cut_short(hostile, stream):
    hostile.script = answer(200, b"<!doctype html><html><body>Welcome to nginx</body></html>",
                            [("content-type", "text/html; charset=utf-8")])
    with pytest.raises(ServerDataError) as info:
        client(hostile.base_url).create({"input": "hi", "stream": stream})
    assert str(info.value).startswith(
        f"The server at {hostile.base_url} answered 200 with an HTML page (text/html")
    assert "it should end in /v1" in str(info.value)


def test_a_whole_response_labelled_as_an_event_stream_is_read_as_the_answer(hostile):
    import json

    body = json.dumps(completed("The whole answer.")["response"]).encode()
    hostile.script = answer(200, body, [("content-type", "text/event-stream")])
    result = client(hostile.base_url).create({"input": "hi", "stream": True})
    assert result.text == "The whole answer." and result.status == "completed"


def test_every_failure_above_is_of_the_package_s_tree():
    for error in (AnswerTooLargeError, DeadlineExceededError, ServerDataError, InvalidKeyError):
        assert issubclass(error, AGCloudError)


# -- cancelling at any stage ------------------------------------------------------------------


def _silent(conn: Connection, _request: Request) -> None:
    while conn.open:  # reads the request, then never sends a status line
        conn.pause(0.05)


def test_a_cancel_stops_a_request_still_waiting_for_its_status_line(hostile):
    import threading

    from agcloud_magic.errors import RequestInterrupted
    from agcloud_magic.http.cancel import Cancellation

    hostile.script = _silent
    cancel = Cancellation()
    timer = threading.Timer(0.3, cancel.cancel)
    timer.start()
    started = time.monotonic()
    with pytest.raises(RequestInterrupted):
        client(hostile.base_url, timeout=20).create({"input": "hi", "stream": True},
                                                    cancel=cancel)
    # Before, the socket was out of reach until the headers came: the read ran to its timeout.
    assert time.monotonic() - started < 5
    timer.join()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_an_error_status_whose_body_does_not_decode_is_still_one_line(hostile, mode):
    hostile.script = answer(500, b"\x1f\x8b\x08\x00broken" * 4,
                            [("content-type", "application/json"), ("content-encoding", "gzip")])
    api = client(hostile.base_url)
    with pytest.raises(AGCloudError) as info:
        if mode == "sync":
            api.create({"input": "hi"})
        else:
            asyncio.run(api.acreate({"input": "hi"}))
    assert str(info.value).startswith("Server error (500)")
    assert "Server said" not in str(info.value)  # nothing of the broken body is quoted


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_an_endless_error_body_is_read_only_as_far_as_a_message_needs(hostile, mode):
    def endless_error(conn: Connection, _request: Request) -> None:
        conn.head(503, [("content-type", "text/plain"), ("transfer-encoding", "chunked")])
        while conn.open and conn.chunk(b"e" * 65536):
            pass

    hostile.script = endless_error
    api = client(hostile.base_url, deadline=20.0)
    with pytest.raises(AGCloudError) as info:
        if mode == "sync":
            api.create({"input": "hi"})
        else:
            asyncio.run(api.acreate({"input": "hi"}))
    assert str(info.value).startswith("Server error (503)")
    assert "Server said: eeee" in str(info.value)  # the start of the body, quoted


def test_after_a_cancel_the_reader_stops_at_the_next_chunk(hostile):
    import threading

    from agcloud_magic.errors import RequestInterrupted
    from agcloud_magic.http.cancel import Cancellation

    hostile.script = _endless_answer
    cancel = Cancellation()
    seen: list[int] = []
    after_cancel: list[int] = []

    def on_event(_event: dict) -> None:
        (after_cancel if cancel.cancelled else seen).append(1)
        if len(seen) == 2000 and not cancel.cancelled:
            threading.Thread(target=cancel.cancel).start()

    with pytest.raises(RequestInterrupted):
        client(hostile.base_url).create({"input": "hi", "stream": True}, on_event=on_event,
                                        cancel=cancel)
    # A shut-down socket still hands over its receive buffer (megabytes on loopback): before,
    # all of it was parsed for nobody, holding the GIL while the face ended the cell.
    assert len(after_cancel) < 500, len(after_cancel)


def test_an_unexpected_failure_under_xmode_verbose_shows_no_key_in_frame_locals(
    ip, srv, monkeypatch
):
    from agcloud_magic.http import client as client_module

    class Broken:
        def stream(self, *_args: Any, **_kwargs: Any) -> Any:
            raise RuntimeError("a bug deep in the request")

        def close(self) -> None:
            pass

    monkeypatch.setattr(client_module.Client, "_new_sync", lambda self: Broken())
    run_cell(ip, "%xmode Verbose")
    try:
        run = run_cell(ip, "%%respond\nhello")
    finally:
        run_cell(ip, "%xmode Context")
    assert isinstance(run.error, RuntimeError)
    assert "a bug deep in the request" in run.everything  # the traceback, with its locals
    assert "headers" in run.everything  # ... the frame that holds the request's headers
    from .magic_support import KEY as MAGIC_KEY

    assert MAGIC_KEY not in run.everything and MAGIC_KEY[-12:] not in run.everything
