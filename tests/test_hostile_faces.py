"""A hostile server seen through the faces: a real IPython shell (``%%respond`` against a
replay server on loopback) and the two renderers.

Lone surrogates must never reach a UTF-8 writer; malformed data must end as the answer or one
error line (never a traceback); a usage that is not token counts must not break
``%agcloud usage`` / ``history`` for good; what is shown must be what is recorded (the first
terminal event wins, and a final text that differs from the streamed one replaces it, said in
one line); ``text/plain`` must carry no raw control characters.
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from agcloud_magic.display.notebook import NotebookRenderer
from agcloud_magic.display.render import DIFFERS_NOTE
from agcloud_magic.display.terminal import TerminalRenderer
from agcloud_magic.ipython.extension import get_magics
from agcloud_magic.wire.result import Result

from .hostile_support import KernelPublisher, answer, replaying, sse
from .magic_support import pointed_at, run_cell, shell

SMILE = "\U0001f600"


@pytest.fixture()
def notebook(monkeypatch):
    """Make the magic use the notebook renderer with a kernel-like publisher."""
    import agcloud_magic.ipython.renderers as renderers

    pub = KernelPublisher()
    original = renderers.make_renderer
    monkeypatch.setattr(
        renderers, "make_renderer",
        lambda shell=None, fmt="markdown", **kw: original(shell, fmt, publisher=pub),
    )
    return pub


def run_against(body: bytes, monkeypatch, *cells: str) -> list[Any]:
    """Run ``cells`` in the IPython shell against a server answering ``body``."""
    with replaying(body) as server, pointed_at(server, monkeypatch) as ip:
        return [run_cell(ip, cell) for cell in cells]


def utf8(text: str) -> str:
    text.encode("utf-8")  # raises UnicodeEncodeError on a lone surrogate
    return text


# -- 1. surrogates -------------------------------------------------------------------------

SPLIT = sse(*answer(["Hi \ud83d", "\ude00!"], final=f"Hi {SMILE}!", model="echo\udc00"))


def test_a_split_emoji_in_terminal_ipython(monkeypatch):
    (run,) = run_against(SPLIT, monkeypatch, "%%respond -o r\nhi")
    assert run.error is None, run.stderr
    assert f"Hi {SMILE}!" in utf8(run.stdout) and "echo\ufffd" in run.stdout
    assert shell().user_ns["r"].text == f"Hi {SMILE}!"


def test_a_split_emoji_in_a_notebook(monkeypatch, notebook):
    (run,) = run_against(SPLIT, monkeypatch, "%%respond -o r\nhi")
    assert run.error is None, run.stderr
    assert f"Hi {SMILE}!" in notebook.final["text/plain"]
    assert f"Hi {SMILE}!" in notebook.final["text/html"]


def test_lone_halves_in_an_error_and_in_reasoning(monkeypatch, notebook):
    events = [{"type": "response.reasoning_summary_text.delta", "delta": "hmm \ud83d"},
              {"type": "response.output_text.delta", "delta": "so \ude00far"},
              {"type": "error", "error": {"code": "boom\ud800", "message": "broke \udfff"}}]
    (run,) = run_against(sse(*events), monkeypatch, "%%respond\nhi")
    assert run.error is None
    html = notebook.final["text/html"]  # the publisher serialised every bundle as UTF-8
    assert "broke \ufffd" in html and "so \ufffdfar" in html and "<p>hmm</p>" in html


# -- 2. malformed data ---------------------------------------------------------------------


def test_malformed_data_keeps_the_answer_and_shows_no_traceback(monkeypatch, notebook):
    deep = b"[" * 100_000 + b"]" * 100_000
    events = answer(["Hello", 7, ["x"], {"d": 1}, None, " world"], final="Hello world",
                    usage=["lots"], id={"x": 1})
    events.insert(1, {"type": "response.output_item.added", "output_index": [0],
                      "item": "not an item"})
    (run,) = run_against(sse(deep, *events), monkeypatch, "%%respond -o r\nhi")
    assert run.error is None, run.stderr
    assert "Traceback" not in run.everything
    assert "Hello world" in notebook.final["text/plain"]


def test_only_garbage_is_one_error_line(monkeypatch):
    (run,) = run_against(sse(b"<html>", b"[1]", b"{nope"), monkeypatch, "%%respond\nhi")
    assert run.error is None
    assert "not usable Responses API data" in run.stderr and "Traceback" not in run.everything


# -- 3. usage ------------------------------------------------------------------------------


def test_a_string_usage_leaves_usage_and_history_working(monkeypatch):
    runs = run_against(sse(*answer(["counted"], usage="lots")), monkeypatch,
                       "%%respond\nhi", "%agcloud usage", "%agcloud history")
    assert [r.error for r in runs] == [None, None, None], [r.stderr for r in runs]
    assert "1 turn(s), 0 in / 0 out tokens" in runs[1].stdout
    assert "1 turn(s)" in runs[2].stdout and "0 in / 0 out" in runs[2].stdout


# -- 4. one source of truth ----------------------------------------------------------------


def test_a_second_completed_is_not_shown_nor_recorded(monkeypatch, notebook):
    first, second = answer(["first answer"]), answer(["second answer"])
    second[-1]["response"]["id"] = "resp_2"
    (run,) = run_against(sse(*first, *second), monkeypatch, "%%respond -o r\nhi")
    assert run.error is None
    shown = " ".join(v for d in notebook.shown for v in d.values())
    assert "first answer" in shown and "second answer" not in shown
    magics = get_magics(shell())
    turn = magics.session.conversation.thread().path()[-1]
    assert (turn.answer, turn.response_id) == ("first answer", "resp_1")


REWRITTEN = sse(*answer(["world", " hello"], final="hello world"))


def test_a_final_text_that_differs_replaces_the_streamed_one_in_a_notebook(monkeypatch,
                                                                              notebook):
    (run,) = run_against(REWRITTEN, monkeypatch, "%%respond\nhi")
    assert run.error is None
    assert notebook.final["text/plain"] == "hello world"
    assert "world hello" not in notebook.final["text/html"]
    assert DIFFERS_NOTE in notebook.final["text/html"]


def test_a_final_text_that_differs_is_printed_whole_in_a_terminal(monkeypatch):
    (run,) = run_against(REWRITTEN, monkeypatch, "%%respond\nhi")
    assert run.error is None
    assert run.stdout.startswith(f"world hello\n[{DIFFERS_NOTE}]\nhello world\n")


def test_an_unchanged_answer_has_no_note(monkeypatch, notebook):
    (run,) = run_against(sse(*answer(["same ", "text"])), monkeypatch, "%%respond\nhi")
    assert DIFFERS_NOTE not in run.everything and DIFFERS_NOTE not in notebook.final["text/html"]


def test_renderers_note_a_difference_only_when_something_streamed():
    out = io.StringIO()
    term = TerminalRenderer("text", stream=out, color=False)
    term.finish(footer="m", metadata={}, text="whole")  # --no-stream: nothing streamed
    assert out.getvalue() == "whole\nm\n"
    pub = KernelPublisher()
    nb = NotebookRenderer("text", publisher=pub)
    nb.finish(footer="m", metadata={}, text="whole")
    assert DIFFERS_NOTE not in pub.final["text/html"]
    pub = KernelPublisher()
    nb = NotebookRenderer("text", publisher=pub)
    nb.append("partial")
    nb.finish(footer="m", metadata={}, note="interrupted", text="different")
    assert pub.final["text/plain"] == "different"
    assert f"m · interrupted · {DIFFERS_NOTE}" in pub.final["text/html"]


# -- 6. control characters in text/plain ---------------------------------------------------

HOSTILE = "a\x1b]52;c;ZXZpbA==\x07b\x9b2J\r\nline two\tend\rx\x00"
ESCAPED = "a\\x1b]52;c;ZXZpbA==\\x07b\\x9b2J\nline two\tend\\x0dx\\x00"


def test_notebook_text_plain_escapes_controls_but_keeps_newlines_and_tabs():
    pub = KernelPublisher()
    nb = NotebookRenderer("markdown", publisher=pub)
    nb.append(HOSTILE)
    nb.finish(footer="m", metadata={}, text=HOSTILE)
    assert pub.final["text/plain"] == ESCAPED


def test_result_text_plain_escapes_controls_but_keeps_newlines_and_tabs():
    assert Result(text=HOSTILE)._repr_mimebundle_()["text/plain"] == ESCAPED


def test_a_hostile_answer_through_the_magic_in_a_notebook(monkeypatch, notebook):
    (run,) = run_against(sse(*answer([HOSTILE])), monkeypatch, "%%respond\nhi")
    assert run.error is None and notebook.final["text/plain"] == ESCAPED
