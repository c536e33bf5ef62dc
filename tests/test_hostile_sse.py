"""A hostile server's framing: one huge event, and lines or events past the size caps.

The parser must stay linear in the bytes it is fed (a 50 MB event once took 66 s, because the
whole buffer was copied again with every chunk) and refuse, in one line of the package's
error tree, a line or an event larger than its cap instead of growing without bound.
"""

from __future__ import annotations

import time

import pytest

from agcloud_magic.errors import AnswerTooLargeError, ServerDataError
from agcloud_magic.http.client import Client
from agcloud_magic.http.settings import Settings
from agcloud_magic.wire.sse import ServerSentEvent, SSEParser

from .gateway_support import Capture, ReplayServer

CHUNK = 64 * 1024


def one_event(size: int) -> bytes:
    return b"data: " + b"x" * size + b"\n\n"


def parse_seconds(raw: bytes) -> float:
    """The best of three parses of ``raw`` in 64 KiB chunks."""
    best = float("inf")
    for _ in range(3):
        parser = SSEParser()
        started = time.perf_counter()
        for at in range(0, len(raw), CHUNK):
            events = parser.feed(raw[at : at + CHUNK])
        best = min(best, time.perf_counter() - started)
        assert events == [ServerSentEvent("message", "x" * (len(raw) - 8))]
    return best


def test_one_big_event_costs_time_linear_in_its_size():
    # Quadratic copying makes 4x the bytes cost ~16x the time (measured: 2 MB 0.03 s, 8 MB
    # 0.42 s); linear parsing ~4x.  A ratio, not a time, so a loaded machine does not fail it.
    small, large = parse_seconds(one_event(2 << 20)), parse_seconds(one_event(8 << 20))
    assert large / small < 8, (small, large)


def test_a_cr_at_the_end_of_a_chunk_and_lf_in_the_next_is_one_line_end():
    parser = SSEParser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\n\r") == [ServerSentEvent("message", "a")]
    assert parser.feed(b"\ndata: b\n\n") == [ServerSentEvent("message", "b")]


@pytest.mark.parametrize("step", [1, 7, 100, 10_000])
def test_a_line_past_the_cap_is_refused_in_one_line(step):
    parser = SSEParser(max_line=1000, max_event=10_000)
    raw = b"data: " + b"y" * 1200 + b"\n\n"
    with pytest.raises(AnswerTooLargeError) as caught:
        for at in range(0, len(raw), step):
            parser.feed(raw[at : at + step])
    message = str(caught.value)
    assert "1,000 bytes" in message and "line" in message
    assert isinstance(caught.value, ServerDataError)


def test_a_line_at_the_cap_passes():
    parser = SSEParser(max_line=1000, max_event=10_000)
    line = b"data: " + b"y" * 994  # 1000 bytes without its line end
    assert parser.feed(line + b"\n\n") == [ServerSentEvent("message", "y" * 994)]


def test_an_event_past_the_cap_is_refused_even_in_short_lines():
    parser = SSEParser(max_line=1000, max_event=5000)
    raw = b"".join(b"data: " + b"z" * 500 + b"\n" for _ in range(20)) + b"\n"
    with pytest.raises(AnswerTooLargeError) as caught:
        for at in range(0, len(raw), 300):
            parser.feed(raw[at : at + 300])
    assert "5,000 bytes" in str(caught.value) and "event" in str(caught.value)


def test_comment_lines_count_against_the_line_cap():
    # A keep-alive comment that never ends would otherwise grow the buffer forever.
    parser = SSEParser(max_line=100, max_event=1000)
    with pytest.raises(AnswerTooLargeError):
        for _ in range(10):
            parser.feed(b": " + b"." * 50)


def test_the_defaults_are_generous():
    parser = SSEParser()
    assert parser.max_line >= 16 << 20 and parser.max_event >= parser.max_line


@pytest.mark.parametrize("use_async", [False, True])
def test_the_client_reports_a_too_large_event_with_the_answer_so_far(monkeypatch, use_async):
    import asyncio

    monkeypatch.setattr(SSEParser, "MAX_LINE", 4096)
    delta = b'data: {"type": "response.output_text.delta", "delta": "Hello"}\n\n'
    huge = b'data: {"type": "response.output_text.delta", "delta": "' + b"h" * 8000 + b'"}\n\n'
    server = ReplayServer()
    server.push(Capture(200, "OK", [("content-type", "text/event-stream")], delta + huge))
    try:
        client = Client(Settings(api_key="sk-test-0123456789", base_url=server.base_url,
                                 model="echo"))
        body = {"model": "echo", "input": "hi", "stream": True}
        with pytest.raises(AnswerTooLargeError) as caught:
            if use_async:
                asyncio.run(client.acreate(body))
            else:
                client.create(body)
    finally:
        server.close()
    assert caught.value.partial is not None and caught.value.partial.text == "Hello"
