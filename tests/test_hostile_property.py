"""Property: whatever a server sends (status, headers, body, events mutated or garbled, chunked
anyhow, compressed or broken), the magic and the panel end with the right answer or one line
of the package's own error tree; no traceback, no live HTML, no key; the thread head moves only
on success; the next cell runs; every request ends within its deadline.

The hostile server (tests/hostile_server.py) runs on loopback; hypothesis builds what it says.
`make test` runs 100 fixed examples per face; ``HOSTILE_EXAMPLES=400`` runs that many random
ones instead (a longer hunt, e.g. before a release).
"""

from __future__ import annotations

import copy
import gzip
import itertools
import json
import os
import random
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agcloud_magic.display.render import DIFFERS_NOTE, plain_text
from agcloud_magic.ipython.extension import get_magics

from .hostile_server import SSE_HEAD, Connection, HostileServer, Request, completed, delta, sse
from .hostile_support import KernelPublisher
from .magic_support import KEY, run_cell
from .panel_support import send
from .test_markdown import assert_inert

# -- what the server may say ----------------------------------------------------------------

HOSTILE_TEXT = [
    "<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "[x](javascript:alert(1))",
    "\x1b]0;owned\x07\x1b[2J", "\x1b]52;c;b3duZWQ=\x07", "\u202etxt.exe", "\ud83d", "\ude00",
    "\ud83d\ude00", "", "plain words", "# Title\n\n```python\nprint(1)\n```\n", "\0\x7f\x9b",
]  # fmt: skip
WRONG_VALUES = [None, 7, -1, 1.5, True, [], [1, 2], {}, {"a": 1}, "text", "x" * 300,
                [[[[[[[[[[[]]]]]]]]]]]]  # fmt: skip

texts = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=40))


_IDS = itertools.count(1)


def _valid_stream(pieces: list[str]) -> list[dict[str, Any]]:
    """A right stream of ``pieces``, with a response id of its own (as a server gives)."""
    # Fixed width: the body length (which bounds the chunk cuts drawn) must not depend on it.
    text, rid = "".join(pieces), f"resp_{next(_IDS):09d}"
    item = {"type": "message", "id": "msg_1", "role": "assistant", "status": "in_progress",
            "content": []}
    events: list[dict[str, Any]] = [
        {"type": "response.created",
         "response": {"id": rid, "status": "in_progress", "model": "hostile"}},
        {"type": "response.output_item.added", "output_index": 0, "item": item},
        *(delta(piece) for piece in pieces),
        {"type": "response.output_text.done", "output_index": 0, "content_index": 0,
         "text": text},
        completed(text, id=rid),
    ]
    for number, event in enumerate(events):
        event["sequence_number"] = number
    return events


@st.composite
def event_streams(draw: Any) -> list[dict[str, Any]]:
    """A valid stream, then a few of: drop, duplicate, swap, a wrong-typed field, a second
    ``completed`` with other text, an ``error`` event (which may echo the key)."""
    events = _valid_stream(draw(st.lists(texts, min_size=1, max_size=6)))
    rng = random.Random(draw(st.integers(0, 2**32)))
    for _ in range(draw(st.integers(0, 4))):
        move = draw(st.sampled_from(["drop", "dup", "swap", "wrong", "twice", "error", "deep"]))
        at = rng.randrange(len(events))
        if move == "drop" and len(events) > 1:
            del events[at]
        elif move == "dup":
            events.insert(at, copy.deepcopy(events[at]))
        elif move == "swap":
            other = rng.randrange(len(events))
            events[at], events[other] = events[other], events[at]
        elif move == "wrong":
            event = events[at]
            target = event.get("response") if isinstance(event.get("response"), dict) else event
            field = draw(st.sampled_from(["delta", "output_index", "id", "usage", "model",
                                          "status", "output", "text", "item", "type",
                                          "sequence_number", "error"]))
            target[field] = draw(st.sampled_from(WRONG_VALUES))
        elif move == "twice":
            events.append(completed(draw(texts), id="resp_second"))
        elif move == "error":
            events.insert(at, {"type": "error", "code": f"bad_{KEY}",
                               "message": f"key {KEY} refused"})
        elif move == "deep":
            events.insert(at, {"type": "response.output_text.delta", "delta": "[" * 50_000})
    return events


def _encode(events: list[Any], garble: int | None) -> bytes:
    body = b"".join(sse(e) if isinstance(e, dict) else e for e in events)
    if garble is not None and body:
        at = garble % len(body)
        body = body[:at] + b"\xff{\n" + body[at + 1:]
    return body


@st.composite
def answers(draw: Any) -> dict[str, Any]:
    """Status, headers and body of one answer, and how it is delivered."""
    status = draw(st.sampled_from([200] * 6 + [201, 204, 302, 400, 401, 404, 429, 500, 503]))
    if status >= 300 and draw(st.booleans()):
        body = json.dumps({"error": {"message": f"nope {KEY}", "code": KEY, "param": KEY,
                                     "type": draw(texts)}}).encode()
        kind = "application/json"
    elif draw(st.booleans()) or status != 200:
        body = _encode(draw(event_streams()), draw(st.none() | st.integers(0, 10**6)))
        kind = draw(st.sampled_from(["text/event-stream", "text/event-stream",
                                     "application/json", "text/plain", ""]))
    else:
        body = draw(st.sampled_from([
            b"<html><body>Welcome</body></html>", b"", b"{", b"[]", b"null", b"\xff\xfe",
            json.dumps(completed("whole")["response"]).encode(), b'"just text"',
            b"data: " + b"[" * 100_000 + b"\n\n",
        ]))
        kind = draw(st.sampled_from(["application/json", "text/html", "text/event-stream"]))
    encoding = draw(st.sampled_from([None, None, "gzip", "broken-gzip"]))
    cuts = sorted(draw(st.lists(st.integers(0, max(len(body), 1)), max_size=6)))
    headers = [("x-request-id", draw(st.sampled_from(["req_1", KEY, "\x1b]0;t\x07"])))]
    if status in (301, 302):
        headers.append(("location", "http://elsewhere.example/v1/responses"))
    if status == 429:
        headers.append(("retry-after", "0"))
    return {"status": status, "kind": kind, "body": body, "encoding": encoding,
            "cuts": cuts, "headers": headers}


def _script(spec: dict[str, Any]):
    body = spec["body"]
    headers = list(spec["headers"])
    if spec["kind"]:
        headers.append(("content-type", spec["kind"]))
    if spec["encoding"] == "gzip":
        body = gzip.compress(body)
        headers.append(("content-encoding", "gzip"))
    elif spec["encoding"] == "broken-gzip":
        body = b"\x1f\x8b\x08\x00" + body
        headers.append(("content-encoding", "gzip"))

    def script(conn: Connection, _request: Request) -> None:
        conn.head(spec["status"], [*headers, *SSE_HEAD[1:]])
        start = 0
        for cut in [*spec["cuts"], len(body)]:
            if not conn.chunk(body[start:cut]):
                return
            start = max(start, cut)
        conn.end_chunks()

    return script


# -- the faces --------------------------------------------------------------------------------

PROPERTY = settings(max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "100")), deadline=None,
                    derandomize=not os.environ.get("HOSTILE_EXAMPLES"),
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(params=["notebook", "terminal"])
def hostile_ip(request, ip, monkeypatch):
    """``ip`` pointed at a hostile server, rendering as in a kernel or in a terminal."""
    import agcloud_magic.ipython.renderers as renderers

    publisher = None
    if request.param == "notebook":
        publisher = KernelPublisher()
        original = renderers.make_renderer
        monkeypatch.setattr(renderers, "make_renderer",
                            lambda shell=None, fmt="markdown", **kw: original(
                                shell, fmt, publisher=publisher))
    with HostileServer(_script({"status": 200, "kind": "", "body": b"", "encoding": None,
                                "cuts": [], "headers": []})) as server:
        magics = get_magics(ip)
        magics.base_url = server.base_url
        magics.timeout = 2.0
        magics.deadline = 10.0
        magics.max_retries = 1
        yield ip, server, publisher


def _one_line_error(html: str) -> str | None:
    marker = 'class="agcloud-magic-error"'
    if marker not in html:
        return None
    line = html.split(marker, 1)[1].split(">", 1)[1].split("</div>", 1)[0]
    assert "\n" not in line, line
    return line


def _head(session: Any) -> str | None:
    return session.conversation.thread().head if session.conversation.current else None


@PROPERTY
@given(spec=answers())
def test_the_magic_survives_any_answer(hostile_ip, spec):
    ip, server, publisher = hostile_ip
    server.script = _script(spec)
    session = get_magics(ip).session
    before = _head(session)
    if publisher is not None:
        publisher.sent.clear()
    started = time.monotonic()
    run = run_cell(ip, "%%respond -o hostile_result\nhello")
    # Bounded: the 10 s deadline (and the 2 s silence) end every request, however it trickles.
    assert time.monotonic() - started < 20
    assert run.error is None, run.error
    assert "Traceback" not in run.everything
    assert KEY not in run.everything
    result = ip.user_ns.pop("hostile_result", None)
    assert KEY not in repr(result) and KEY not in repr(getattr(result, "__dict__", {}))
    if publisher is None:  # the terminal: no escape sequence of the server's reaches it
        assert "\x1b" not in run.stdout and "\x9b" not in run.stdout
        failed = "\x1b[31m" in run.stderr or (result is None or result.status != "completed")
        shown = None
    else:
        for data, _meta in publisher.sent:
            assert KEY not in json.dumps(data)
            assert_inert(data.get("text/html", ""), {"div", "details", "summary", "pre"})
            assert "\x1b" not in data.get("text/plain", "")
        final = publisher.final
        failed = _one_line_error(final.get("text/html", "")) is not None
        shown = final.get("text/plain", "")
    if failed:
        assert _head(session) == before  # a failed turn records nothing
    elif shown is not None and result is not None and result.status == "completed":
        # One source of truth: what is shown last is what was recorded and stored.
        assert shown == plain_text(result.text) or not result.text
    assert run_cell(ip, "1 + 1").result.result == 2  # the shell answers the next cell


@settings(PROPERTY, max_examples=25)
@given(spec=answers())
def test_the_panel_survives_any_answer(hostile_ip, panel, spec):
    _ip, server, _publisher = hostile_ip
    server.script = _script(spec)
    session = panel.session
    before = session.conversation.thread().head if session.conversation.current else None
    result = send(panel, "hello", timeout=30)
    assert not panel.busy  # never wedged
    assert "\n" not in panel.error.value and "Traceback" not in panel.error.value
    shown = panel.ui.history.value
    assert KEY not in shown + panel.error.value
    assert_inert(shown, {"div", "details", "summary", "pre", "span", "button"})
    head = session.conversation.thread().head if session.conversation.current else None
    if result is None:
        assert head == before
    # The panel takes the next question (a valid answer this time).
    server.script = _script({"status": 200, "kind": "text/event-stream",
                             "body": _encode(_valid_stream(["fine"]), None),
                             "encoding": None, "cuts": [], "headers": []})
    again = send(panel, "again", timeout=30)
    assert again is not None and again.text == "fine"


def test_the_panel_shows_the_final_text_and_says_it_differs_from_the_streamed(ip, panel):
    events = _valid_stream(["Hello", " there"])
    events[-1] = completed("Goodbye.", id="resp_differs")  # the final text is another one
    with HostileServer(_script({"status": 200, "kind": "text/event-stream",
                                "body": _encode(events, None), "encoding": None, "cuts": [],
                                "headers": []})) as server:
        get_magics(ip).base_url = server.base_url
        result = send(panel, "hi")
    assert result is not None and result.text == "Goodbye."
    entry = [e for e in panel.transcript if e["role"] == "assistant"][-1]
    assert entry["text"] == "Goodbye."
    assert DIFFERS_NOTE in panel.ui.history.value
    assert panel.session.conversation.thread().head == "resp_differs"
