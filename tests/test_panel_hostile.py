"""The panel against a hostile server and broken renders: whatever raises in a callback or in
the request, the panel ends usable (not busy, Send enabled, one line on the error line), and the
widget traffic stays linear in what streamed.

Widgets here use :mod:`tests.widget_wire`'s kernel-like comms, so what a kernel could not send
raises, and the bytes sent are counted."""

from __future__ import annotations

import html
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from agcloud_magic.panel import Panel
from agcloud_magic.panel.request import LiveRequest, ReasoningStream
from agcloud_magic.panel.style import Entry, Pair

from .gateway_support import Capture, ReplayServer
from .magic_support import pointed_at, posts
from .panel_support import send as _send
from .widget_wire import kernel_comms


def send(panel: Panel, text: str) -> Any:
    """Send ``text`` and wait (briefly: a wedged panel never finishes)."""
    return _send(panel, text, timeout=10)


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch):
    """Every widget made from now on sends through a kernel-like comm (bytes counted)."""
    return kernel_comms(monkeypatch)


@pytest.fixture
def wpanel(ip: Any, wire: Any) -> Iterator[Panel]:
    """A panel on the stand-in whose widgets serialise like a kernel's."""
    panel = Panel()
    yield panel
    panel.close()


def assert_usable(panel: Panel) -> None:
    """Not busy, and the buttons say so (Send enabled, Stop disabled, threads pickable)."""
    assert not panel.busy
    assert not panel.send.disabled and panel.stop.disabled and not panel.thread.disabled


def json_answer(text: str) -> Capture:
    """A whole (non-streamed) Responses answer whose text is ``text``, JSON-escaped as-is."""
    body = {
        "id": "resp_hostile_1", "object": "response", "status": "completed", "model": "m",
        "output": [{"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
                    "content": [{"type": "output_text", "text": text, "annotations": []}]}],
        "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2},
    }
    return Capture(200, "OK", [("content-type", "application/json")], json.dumps(body).encode())


# -- 1. no exception leaves the panel busy -------------------------------------------------


def test_a_lone_surrogate_in_an_answer_does_not_wedge_the_panel(monkeypatch, wire, capsys):
    server = ReplayServer().push(json_answer("bad \ud83d here"), json_answer("second answer"))
    try:
        with pointed_at(server, monkeypatch):
            panel = Panel()
            try:
                send(panel, "first")
                assert_usable(panel)
                # Shown as a kernel can send it (the wire may also come to replace it).
                assert "bad \ufffd here" in panel.ui.history.value
                second = send(panel, "second")
                assert second is not None and second.text == "second answer"
                assert "second answer" in panel.ui.history.value
                assert_usable(panel)
                assert "A request is still running" not in panel.error.value
            finally:
                panel.close()
    finally:
        server.close()
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err


def test_a_history_render_that_raises_shows_one_line_and_leaves_the_panel_usable(
    wpanel, srv, capsys
):
    calls = {"n": 0}

    def explode_once(change: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("render exploded")

    wpanel.ui.history.observe(explode_once, names="value")
    assert send(wpanel, "hello") is None
    assert "RuntimeError: render exploded" in wpanel.error.value
    assert_usable(wpanel)
    assert posts(srv) == []  # it raised before the request was submitted: nothing went out
    result = send(wpanel, "hello again")
    assert result is not None and "You said: hello again" in result.text
    assert_usable(wpanel)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err


def test_a_render_that_raises_when_the_answer_settles_leaves_the_panel_usable(wpanel, srv):
    result = send(wpanel, "first")
    assert result is not None
    boom = {"armed": True}

    def explode(change: Any) -> None:
        # The footer ("... tokens ...") is the first thing the settle shows.
        if boom["armed"] and "tokens" in change["new"]:
            boom["armed"] = False
            raise RuntimeError("settle render exploded")

    wpanel.usage.observe(explode, names="value")
    send(wpanel, "second")
    assert "settle render exploded" in wpanel.error.value
    assert_usable(wpanel)
    assert wpanel.ui.live.children == ()  # the live view was taken down all the same
    third = send(wpanel, "third")
    assert third is not None and "You said: third" in wpanel.ui.history.value


def test_a_usage_line_that_raises_when_the_request_starts_leaves_the_panel_usable(wpanel, srv):
    def explode(change: Any) -> None:
        if "answering" in change["new"]:
            raise ValueError("usage line exploded")

    wpanel.usage.observe(explode, names="value")
    assert send(wpanel, "hello") is None
    assert "ValueError: usage line exploded" in wpanel.error.value
    assert_usable(wpanel)


def stuck(panel: Panel) -> LiveRequest:
    """Put the panel into the state the old bug left it in: a request that never settles
    (no future, never finished) and the buttons saying busy."""
    name = panel.thread.value
    pair = Pair(Entry("user", "lost", name), Entry("assistant", "", name,
                                                   status="in_progress"), None)
    req = LiveRequest(panel._flush, pair, None)
    panel._request = req
    panel._set_busy(True)
    return req


@pytest.mark.parametrize("button", ["stop", "new_chat"])
def test_stop_and_new_chat_recover_a_panel_whose_request_never_settled(wpanel, srv, button):
    req = stuck(wpanel)
    assert wpanel.busy
    getattr(wpanel, button).click()
    assert_usable(wpanel)
    assert req.done.is_set()
    result = send(wpanel, "after the recovery")
    assert result is not None and "You said: after the recovery" in result.text


@pytest.mark.parametrize("button", ["stop", "new_chat"])
def test_stop_and_new_chat_recover_buttons_left_disabled(wpanel, srv, button):
    assert send(wpanel, "first") is not None
    wpanel._set_busy(True)  # a settle that raised half-way once left the buttons like this
    getattr(wpanel, button).click()
    assert_usable(wpanel)



# -- 2. widget traffic is linear in the reasoning summary ----------------------------------


def test_a_long_reasoning_summary_costs_widget_bytes_linear_in_its_size(wpanel, srv, wire):
    word = "r" * 59 + " "
    reasoning = word * 1000  # 60 KB in 1000 deltas, dripped so the panel updates many times
    srv.script([{"reasoning_summary": reasoning, "text": "Done."}])
    srv.drip(0.002)
    wire.reset()
    result = send(wpanel, "think hard")
    assert result is not None and result.text == "Done."
    # Meaningful only when the reasoning was re-rendered many times while it streamed.
    assert wpanel.updates >= 10
    # Before: every update re-sent the whole summary so far (about updates/2 times its size).
    assert wire.total < 4 * len(reasoning), (wire.total, wpanel.updates)


def fold_text(fold: Any) -> str:
    """The HTML a reasoning fold shows, in order: its frozen chunks, then its open one."""
    chunks = [chunk.value for page in fold.pages for chunk in page.children]
    return "".join([*chunks, fold.tail.value])


def test_the_reasoning_streams_whole_folded_and_escaped(wpanel, srv):
    reasoning = "First I look <b>here</b>.\n\n" + "then " * 1000 + "the end of the thought"
    srv.script([{"reasoning_summary": reasoning, "text": "Done. " + "word " * 100}])
    srv.drip(0.005)
    wpanel.prompt.value = "think"
    wpanel.send.click()
    shown: list[str] = []  # the reasoning as the fold showed it, sampled while streaming
    folds: list[Any] = []  # the ReasoningFold seen at each sample
    while wpanel.busy:
        req = wpanel._request
        view = req.live if req is not None else None
        if view is not None and view.reasoning is not None:
            folds.append(view.reasoning)
            shown.append(fold_text(view.reasoning))
        time.sleep(0.005)
    assert wpanel.wait(10) is not None
    assert folds and all(fold.root.selected_index is None for fold in folds)  # folded away
    assert "<b>" not in "".join(shown)
    # Frozen chunks and the open one add up to exactly the summary (nothing lost or doubled),
    # and it was cut into more than one chunk (the summary is longer than a chunk).
    assert html.unescape(shown[-1]) == reasoning
    assert sum(len(page.children) for page in folds[-1].pages) >= 2


@pytest.mark.parametrize("delta_chars, seconds_per_update", [(4, 0.05), (40, 0.05), (400, 0.05)])
def test_the_reasoning_handed_to_the_view_is_bounded_by_its_size(delta_chars, seconds_per_update):
    """The contract of ReasoningStream.update: text once, at most CREDIT_PER_CHAR of it again,
    plus a CHUNK to start and one per MAX_STALE seconds; and nothing is lost."""
    stream = ReasoningStream()
    words = [("w" * (delta_chars - 1)) + " " for _ in range(200_000 // delta_chars)]
    shown, sent, now = [], 0, 0.0
    for i, delta in enumerate(words):
        stream.feed(delta)
        if i % 3 == 2:  # an update every third delta
            now += seconds_per_update
            done, tail = stream.update(now)
            shown += done
            sent += sum(map(len, done)) + len(tail or "")
    stream.end_section()
    done, tail = stream.update(now)
    shown += done
    sent += sum(map(len, done)) + len(tail or "")
    text = "".join(words)
    assert "".join(shown) == text and tail in ("", None)
    budget = len(text) * (1 + stream.CREDIT_PER_CHAR) + stream.CHUNK * (
        2 + now / stream.MAX_STALE
    )
    assert sent <= budget
    assert len(shown) >= len(text) // (2 * stream.CHUNK)  # cut into chunks, not sent whole
