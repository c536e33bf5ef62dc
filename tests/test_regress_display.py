"""Regressions: an answer that arrives whole (not as deltas) must be shown, not just its footer.

``--no-stream``, ``%config RespondMagics.stream = False`` and a gateway that answers a
``stream: true`` request with the whole Response as JSON all end with no text delta at all: the
renderers must show the final ``Result.text`` they are handed at ``finish``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from agcloud_magic.standin import serve

from .helpers import REPO, execute_in_kernel
from .magic_support import posts, run_cell

PROMPT = "Tell me about whole answers"
ANSWER = f"You said: {PROMPT}"  # what the echo model restates


def _whole_answer(ip, srv, how: str):
    """Run the prompt so that the answer arrives whole, in the way ``how`` names."""
    if how == "flag":
        return run_cell(ip, f"%%respond --no-stream\n{PROMPT}"), False
    if how == "trait":
        run_cell(ip, "%config RespondMagics.stream = False")
        return run_cell(ip, f"%%respond\n{PROMPT}"), False
    srv.ignore_stream()  # "gateway": asked to stream, answers application/json
    return run_cell(ip, f"%%respond\n{PROMPT}"), True


@pytest.mark.parametrize("how", ["flag", "trait", "gateway"])
def test_whole_answer_is_printed_in_a_terminal(ip, srv, how):
    run, asked_to_stream = _whole_answer(ip, srv, how)
    assert run.error is None, run.stderr
    assert posts(srv)[0]["stream"] is asked_to_stream
    assert not srv.streams  # nothing was streamed: the answer came as one JSON body
    assert ANSWER in run.stdout, run.stdout
    assert "tokens" in run.stdout  # and the footer, after the answer
    assert run.stdout.index(ANSWER) < run.stdout.index("tokens")


class _Publisher:
    """Collects every display bundle (the notebook renderer's output) in order."""

    def __init__(self) -> None:
        self.shown: list[dict] = []

    def display(self, data, metadata=None):
        self.shown.append(dict(data))
        shown = self.shown

        class Handle:
            def update(self, data, metadata=None):
                shown.append(dict(data))

        return Handle()


@pytest.mark.parametrize("how", ["flag", "trait", "gateway"])
def test_whole_answer_is_displayed_in_a_notebook(ip, srv, how, monkeypatch):
    import agcloud_magic.ipython.renderers as render

    pub = _Publisher()
    original = render.make_renderer
    monkeypatch.setattr(
        render, "make_renderer",
        lambda shell=None, fmt="markdown", **kw: original(shell, fmt, publisher=pub),
    )
    run, _ = _whole_answer(ip, srv, how)
    assert run.error is None, run.stderr
    final = [d for d in pub.shown if "text/plain" in d][-1]
    assert ANSWER in final["text/plain"]
    assert ANSWER in final["text/html"]
    assert "tokens" in final["text/html"]  # the footer too


def test_streamed_answer_is_not_shown_twice(ip, srv, monkeypatch):
    """The final text replaces, never adds to, what streamed (terminal and notebook)."""
    import agcloud_magic.ipython.renderers as render

    run = run_cell(ip, f"%%respond\n{PROMPT}")
    assert run.stdout.count(ANSWER) == 1
    pub = _Publisher()
    original = render.make_renderer
    monkeypatch.setattr(
        render, "make_renderer",
        lambda shell=None, fmt="markdown", **kw: original(shell, fmt, publisher=pub),
    )
    run_cell(ip, f"%%respond --new\n{PROMPT}")
    final = [d for d in pub.shown if "text/plain" in d][-1]
    assert final["text/plain"].count(ANSWER) == 1


def test_whole_answer_in_terminal_ipython():
    """A real ``ipython`` process (TerminalRenderer on a real terminal shell)."""
    script = (
        "%load_ext agcloud_magic\n"
        "%%respond --no-stream\nfirst whole answer\n\n\n"
        "%config RespondMagics.stream = False\n"
        "%respond second whole answer\n"
    )
    with serve() as srv:
        env = {**os.environ, "AGCLOUD_BASE_URL": srv.base_url, "PYTHONPATH": str(REPO),
               "AGCLOUD_API_KEY": "sk-test-terminal-0000", "TERM": "dumb"}
        out = subprocess.run(
            [sys.executable, "-m", "IPython", "--no-banner", "--colors=NoColor",
             "--HistoryManager.enabled=False", "--InteractiveShell.simple_prompt=True"],
            input=script, capture_output=True, text=True, env=env, timeout=120, cwd=REPO,
        )
    assert [b["stream"] for b in posts(srv)] == [False, False], out.stderr[-2000:]
    assert "You said: first whole answer" in out.stdout, out.stdout[-2000:]
    assert "You said: second whole answer" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr


KERNEL_SETUP = """
import os, agcloud_magic
os.environ["AGCLOUD_BASE_URL"] = {base!r}
os.environ["AGCLOUD_API_KEY"] = "sk-test-kernel-0000"
%load_ext agcloud_magic
print(agcloud_magic.__file__)
"""


@pytest.mark.kernel
def test_whole_answer_in_a_real_kernel(srv):
    """Through ipykernel (NotebookRenderer with IPython's display handles)."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(
        kernel_name="python3", cwd=str(REPO), env={**os.environ, "PYTHONPATH": str(REPO)}
    )

    def run(code: str) -> tuple[str, list[dict]]:
        return execute_in_kernel(kc, code)

    try:
        where, _ = run(KERNEL_SETUP.format(base=srv.base_url))
        _, flagged = run("%%respond --no-stream\nkernel whole answer")
        run("%config RespondMagics.stream = False")
        _, traited = run("%respond kernel trait answer")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert where.strip().startswith(str(REPO)), where  # this checkout's package, not another
    assert [b["stream"] for b in posts(srv)] == [False, False]
    for displays, said in ((flagged, "kernel whole answer"), (traited, "kernel trait answer")):
        outputs = {}
        for m in displays:  # replay: the cell ends with each display's latest bundle
            outputs[m["transient"]["display_id"]] = m["data"]
        final = [d for d in outputs.values() if d.get("text/plain")]
        assert len(final) == 1, json.dumps(displays)[:2000]
        assert f"You said: {said}" in final[0]["text/plain"]
        assert f"You said: {said}" in final[0]["text/html"]


def test_renderers_replace_only_the_last_rounds_text():
    """Text streamed before a tool call stays; ``text`` stands for the last round only."""
    import io

    from agcloud_magic.display.notebook import NotebookRenderer
    from agcloud_magic.display.terminal import TerminalRenderer

    pub = _Publisher()
    nb = NotebookRenderer("text", publisher=pub)
    nb.append("Let me look. ")
    nb.tool_call("f", "{}", "1")
    nb.finish(footer="m", metadata={}, text="It is 1.")  # round 2 came whole
    assert pub.shown[-1]["text/plain"] == "Let me look. It is 1."

    out = io.StringIO()
    term = TerminalRenderer("text", stream=out, color=False)
    term.append("Let me look. ")
    term.tool_call("f", "{}", "1")
    term.append("It is")
    term.finish(footer="m", metadata={}, text="It is 1.")  # a missed tail is written
    assert out.getvalue() == "Let me look. \n[tool] f({}) -> 1\nIt is 1.\nm\n"

    for empty in ("", None):  # no final text (a refusal, a failure): the streamed copy stays
        pub = _Publisher()
        nb = NotebookRenderer("text", publisher=pub)
        nb.append("I can't help with that.")
        nb.finish(footer="m", metadata={}, text=empty)
        assert pub.shown[-1]["text/plain"] == "I can't help with that."
