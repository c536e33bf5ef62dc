"""Retries, read timeouts, Stop during a retry wait and whole (non-streamed) answers, through the
panel: the same engine as the magic, so the same promises must hold on this face too."""

from __future__ import annotations

import time

import pytest

from agcloud_magic.ipython.extension import get_magics

from .magic_support import posts, run_cell
from .panel_support import answers, send, wait_for


def test_a_503_is_retried_and_the_answer_shows(ip, panel, srv):
    get_magics(ip).max_retries = 2
    srv.fail_next(503)
    result = send(panel, "retry me")
    assert result is not None and "You said: retry me" in result.text
    assert len(posts(srv)) == 2 and posts(srv)[0] == posts(srv)[1]
    assert "You said: retry me" in answers(panel)[0]["text"]
    assert panel.error.value == ""
    assert panel.session.conversation.thread().head == result.id


def test_a_stream_stalled_past_the_read_timeout_keeps_its_partial_text(ip, panel, srv):
    run_cell(ip, "%config RespondMagics.timeout = 0.5")
    srv.stall_after(8, 3.0)  # four deltas, then three seconds of silence
    started = time.monotonic()
    prompt = "words that stall " * 5
    assert send(panel, prompt) is None
    assert time.monotonic() - started < 2.5  # the read timeout ended it, not the stall
    stalled = answers(panel)[0]
    assert stalled["status"] == "failed" and stalled["text"]
    assert "0.5 s" in panel.error.value and "timeout" in panel.error.value
    assert panel.session.conversation.thread().head is None
    assert not panel.send.disabled
    # The same request unfaulted (still turn 1: nothing was recorded) gives the whole answer,
    # which the kept partial text is the beginning of.
    whole = send(panel, prompt)
    assert whole is not None and whole.text.startswith(stalled["text"])
    assert len(whole.text) > len(stalled["text"])


def test_stop_during_a_retry_after_wait_sends_no_second_request(ip, panel, srv):
    get_magics(ip).max_retries = 2
    srv.fail_next(429, retry_after=1.5)
    panel.prompt.value = "rate limited"
    panel.send.click()
    wait_for(lambda: len(posts(srv)) == 1)
    time.sleep(0.2)  # the 429 came back: the request waits out the Retry-After
    started = time.monotonic()
    panel.stop.click()
    assert panel.wait(1.0) is None
    assert time.monotonic() - started < 1.0
    assert answers(panel)[0]["status"] == "stopped"
    time.sleep(1.8)  # past the Retry-After: a pending retry would have gone out by now
    assert len(posts(srv)) == 1
    assert panel.session.conversation.thread().head is None
    assert send(panel, "after the stop") is not None  # the panel is usable again


@pytest.mark.parametrize("how", ["stream-false", "json-answer"])
def test_a_whole_answer_shows_in_the_panel(ip, panel, srv, how):
    if how == "stream-false":
        run_cell(ip, "%config RespondMagics.stream = False")
    else:
        srv.ignore_stream()
    result = send(panel, "not streamed")
    assert result is not None and "You said: not streamed" in result.text
    assert posts(srv)[0]["stream"] is (how == "json-answer")
    assert answers(panel)[0]["text"] == result.text
    assert "You said: not streamed" in panel.ui.history.value
