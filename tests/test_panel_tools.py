"""Tools from the panel: the Tools field names kernel functions; they run off the loop thread,
so a slow tool holds neither the loop nor another panel, and their lines render inert."""

from __future__ import annotations

import threading
import time
from html.parser import HTMLParser

import ipywidgets as widgets
import pytest

from agcloud_magic.panel import Panel

from .magic_support import posts


@pytest.fixture()
def panels(ip):
    made: list[Panel] = []

    def make() -> Panel:
        made.append(Panel())
        return made[-1]

    yield make
    for panel in made:
        panel.close()


def html_values(widget) -> list[str]:
    found = [widget.value] if isinstance(widget, widgets.HTML) else []
    for child in getattr(widget, "children", ()):
        found += html_values(child)
    return found


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.bad: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("img", "script", "iframe") or any(k.startswith("on") for k, _ in attrs):
            self.bad.append(tag)


def live_tags(panel: Panel) -> list[str]:
    parser = _Tags()
    for value in html_values(panel.root):
        parser.feed(value)
    return parser.bad


def test_a_tool_named_in_the_panel_runs_and_its_line_is_inert(ip, panels, srv):
    ran: list[str] = []

    def lookup(name: str) -> str:
        """Look a name up."""
        ran.append(name)
        return f"<img src=x onerror=alert(1)> found {name} <script>alert(2)</script>"

    ip.user_ns["lookup"] = lookup
    srv.script([{"calls": [{"name": "lookup", "arguments": {"name": "<b onclick=x>ada"}}]}])
    panel = panels()
    panel.tools.value = "lookup"
    panel.prompt.value = "Who is ada?"
    panel.send.click()
    result = panel.wait(30)
    assert result is not None, panel.error.value
    assert ran == ["<b onclick=x>ada"]
    first, second = posts(srv)
    assert [t["name"] for t in first["tools"]] == ["lookup"]
    assert second["input"][0]["type"] == "function_call_output"
    assert "found" in second["input"][0]["output"]
    shown = "".join(html_values(panel.root))
    assert "lookup" in shown and "&lt;img" in shown
    assert live_tags(panel) == []


def test_an_unknown_tool_name_is_one_line_and_nothing_is_sent(ip, panels, srv):
    panel = panels()
    panel.tools.value = "no_such_function"
    panel.prompt.value = "hi"
    panel.send.click()
    assert panel.wait(5) is None
    assert "no_such_function" in panel.error.value
    assert posts(srv) == []


def test_a_slow_tool_in_one_panel_does_not_hold_a_second_panel(ip, panels, srv):
    started, finished = threading.Event(), threading.Event()

    def slow() -> str:
        """Take a second."""
        started.set()
        time.sleep(1.0)
        finished.set()
        return "slow done"

    ip.user_ns["slow"] = slow
    # The first request (panel A's) gets a call to slow; the rest are the echo model's.
    srv.script([{"calls": [{"name": "slow", "arguments": {}}]}])
    first, second = panels(), panels()
    second.thread_name.value = "other"  # a thread of its own, so the two do not chain
    first.tools.value = "slow"
    first.prompt.value = "be slow"
    first.send.click()
    assert started.wait(10)
    second.prompt.value = "be quick"
    second.send.click()
    quick = second.wait(10)
    assert quick is not None and "be quick" in quick.text
    assert not finished.is_set()  # the quick answer came while the tool still ran
    slow_result = first.wait(10)
    assert slow_result is not None and finished.is_set()
    assert len(posts(srv)) == 3
