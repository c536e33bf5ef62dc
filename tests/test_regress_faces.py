"""Regressions across the faces: one set of limits, a clean unload, the panel as a real widget,
inert reasoning/tool lines, and a slow tool that does not hold the private loop.

Written against the public entry points (``%load_ext``, ``%agcloud``, ``%config``,
``agcloud_magic.Panel``, ``agcloud_magic.respond``/``arespond``, the stand-in), so the same file
runs on the old flat layout too.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from html.parser import HTMLParser

import ipywidgets as w
import pytest
from IPython.core.error import UsageError

import agcloud_magic

from .magic_support import posts, run_cell

try:
    from agcloud_magic.ipython.extension import get_magics
except ImportError:  # the old flat layout
    from agcloud_magic.extension import get_magics  # type: ignore[no-redef]

ALLOWED_FORMATS = ("markdown", "text", "code", "json")
REASONING = "Thinking <img src=x onerror=alert(1)> then <script>alert(2)</script> done."
TOOL_NAME = "evil<img src=x onerror=alert(3)>"
TOOL_ARGS = '{"q": "<script>alert(4)</script>"}'
TOOL_RESULT = "<img src=y onerror=alert(5)><script>alert(6)</script>"
LONG = " ".join(f"word{i}" for i in range(40))


# -- helpers ------------------------------------------------------------------------------


def magics_of(ip):
    magics = get_magics(ip)
    assert magics is not None, "the extension is not loaded"
    return magics


def assert_one_line_usage_error(run, *words: str) -> None:
    assert isinstance(run.error, UsageError), (run.error, run.stdout, run.stderr)
    message = str(run.error)
    assert "\n" not in message.strip(), message
    assert "Traceback" not in run.stdout + run.stderr, run.stdout + run.stderr
    for word in words:
        assert word in message, message


def assert_respond_works(ip, srv, text: str = "hello") -> None:
    before = len(posts(srv))
    run = run_cell(ip, f"%respond {text}")
    assert run.error is None, (run.error, run.stderr)
    assert "ValueError" not in run.stdout + run.stderr
    assert text in run.stdout, run.stdout
    assert len(posts(srv)) == before + 1 and posts(srv)[-1]["input"] == text


@pytest.fixture()
def panel(ip):
    panel = agcloud_magic.Panel()
    yield panel
    panel.close()


def send(panel, text: str, timeout: float = 30):
    panel.prompt.value = text
    panel.send.click()
    return panel.wait(timeout)


def answers(panel) -> list[dict]:
    return [e for e in panel.transcript if e["role"] == "assistant"]


def html_values(widget) -> list[str]:
    """The value of every ``ipywidgets.HTML`` in the tree under ``widget``."""
    found = [widget.value] if isinstance(widget, w.HTML) else []
    for child in getattr(widget, "children", ()) or ():
        found += html_values(child)
    return found


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def assert_inert(value: str) -> None:
    """No live img/script element and no on* handler attribute (escaped text is fine)."""
    assert "<img" not in value.lower() and "<script" not in value.lower(), value
    parser = _Tags()
    parser.feed(value)
    for tag, attrs in parser.tags:
        assert tag not in ("img", "script"), value
        handlers = [name for name, _ in attrs if name.lower().startswith("on")]
        assert not handlers, value
    # " onerror=" may only appear as escaped text, never inside a tag.
    assert not re.search(r"<[a-zA-Z][^>]*\sonerror\s*=", value), value


def collect_while_busy(panel, timeout: float = 30) -> list[str]:
    """Poll every HTML value under ``panel.root`` until the request is done."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while panel.busy:
        seen += html_values(panel.root)
        if time.monotonic() > deadline:
            raise AssertionError("the panel's request did not finish in time")
        time.sleep(0.005)
    panel.wait(timeout)
    seen += html_values(panel.root)
    return seen


# -- 1. %agcloud config / %config refuse bad values, and %respond keeps working -----------


def test_agcloud_config_format_xyz_is_refused_and_respond_still_works(ip, srv):
    run = run_cell(ip, "%agcloud config format=xyz")
    assert_one_line_usage_error(run, "format", *ALLOWED_FORMATS)
    assert magics_of(ip).format == "markdown"
    assert_respond_works(ip, srv)


@pytest.fixture()
def clean_config(ip):
    """``%config`` merges a statement into the shell's shared config even when a trait refuses
    it: drop what the tests put there, so later extension loads do not read it."""
    yield ip
    section = ip.config.get("RespondMagics")
    if section is not None:
        section.pop("format", None)
    if get_magics(ip) is None:
        ip.run_line_magic("load_ext", "agcloud_magic")


def test_config_magic_format_xyz_is_refused_at_assignment(clean_config, ip, srv, caplog):
    assert magics_of(ip).format == "markdown"
    with caplog.at_level("ERROR"):
        run = run_cell(ip, '%config RespondMagics.format = "xyz"')
    shown = run.stdout + run.stderr + caplog.text  # IPython's %config logs the refusal
    assert "Traceback" not in shown
    assert magics_of(ip).format == "markdown", "the bad value was accepted"
    assert all(word in shown for word in ALLOWED_FORMATS), shown
    assert_respond_works(ip, srv)
    # A good value still goes through the same path.
    run = run_cell(ip, '%config RespondMagics.format = "text"')
    assert run.error is None and magics_of(ip).format == "text"


def test_a_refused_config_value_does_not_break_reloading(clean_config, ip, srv):
    run_cell(ip, '%config RespondMagics.format = "xyz"')
    assert magics_of(ip).format == "markdown", "the bad value was accepted"
    assert run_cell(ip, "%unload_ext agcloud_magic").error is None
    run = run_cell(ip, "%load_ext agcloud_magic")
    assert run.error is None, f"reloading failed: {run.error!r}"
    assert magics_of(ip).format == "markdown"
    magics_of(ip).max_retries = 0
    assert_respond_works(ip, srv)


@pytest.mark.parametrize(
    ("pair", "name"),
    [
        ("temperature=3", "temperature"),
        ("max_output_tokens=5", "max_output_tokens"),
        ("timeout=-1", "timeout"),
        ("stream=maybe", "stream"),
    ],
)
def test_agcloud_config_refuses_out_of_range_values(ip, srv, pair, name):
    before = getattr(magics_of(ip), name)
    run = run_cell(ip, f"%agcloud config {pair}")
    assert_one_line_usage_error(run, name)
    assert getattr(magics_of(ip), name) == before
    assert_respond_works(ip, srv)


# -- 2. max_output_tokens=10 is refused by every face, before anything is sent -------------


def test_magic_option_refuses_max_output_tokens_10(ip, srv):
    run = run_cell(ip, "%respond --max-output-tokens 10 hi")
    assert_one_line_usage_error(run, "16")
    assert posts(srv) == []


def test_panel_refuses_max_output_tokens_10(panel, srv):
    panel.max_tokens.value = 10
    panel.prompt.value = "hi"
    panel.send.click()
    panel.wait(10)
    error = panel.error.value
    assert "max_output_tokens" in error and "16" in error, error
    assert posts(srv) == []
    assert not panel.busy and not panel.send.disabled


def test_python_api_refuses_max_output_tokens_10(ip, srv):
    with pytest.raises(agcloud_magic.AGCloudError) as info:
        agcloud_magic.respond("hi", max_output_tokens=10)
    message = str(info.value)
    assert "\n" not in message and "max_output_tokens" in message and "16" in message, message
    assert posts(srv) == []


# -- 3. %unload_ext really unloads ------------------------------------------------------


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_unload_ext_removes_the_magics_stops_offline_and_reloads(ip, srv, monkeypatch):
    monkeypatch.delenv("AGCLOUD_STANDIN_URL", raising=False)
    try:
        run = run_cell(ip, "%agcloud offline")
        assert run.error is None, run.stderr
        match = re.search(r"http://(?:127\.0\.0\.1|localhost|\[::1\]):(\d+)", run.stdout)
        assert match, run.stdout
        port = int(match.group(1))
        assert port != srv.port and _accepts(port)

        run = run_cell(ip, "%unload_ext agcloud_magic")
        assert run.error is None, run.stderr
        for line, name in (("%respond hi", "respond"), ("%agcloud config", "agcloud")):
            run = run_cell(ip, line)
            assert isinstance(run.error, UsageError), (line, run.error, run.stdout)
            assert "not found" in str(run.error) and name in str(run.error)
        deadline = time.monotonic() + 2
        while _accepts(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _accepts(port), "the offline stand-in still accepts connections"

        run = run_cell(ip, "%load_ext agcloud_magic")
        assert run.error is None, run.stderr
        assert get_magics(ip) is not None
        magics_of(ip).max_retries = 0
        assert_respond_works(ip, srv, "hi")
    finally:
        if get_magics(ip) is None:
            ip.run_line_magic("load_ext", "agcloud_magic")


# -- 4. the panel is a widget: it sits in HBox / VBox / Tab ------------------------------


@pytest.mark.parametrize(
    "wrap",
    [
        lambda p: w.HBox([p]),
        lambda p: w.VBox([p]),
        lambda p: w.Tab(children=[p]),
    ],
    ids=["HBox", "VBox", "Tab"],
)
def test_panel_sits_in_containers_and_still_works(panel, srv, wrap):
    assert isinstance(panel, w.DOMWidget)
    box = wrap(panel)
    try:
        assert panel in box.children
        result = send(panel, "inside a box")
        assert result is not None and result.status == "completed"
        assert posts(srv)[-1]["input"] == "inside a box"
        assert "inside a box" in answers(panel)[-1]["text"]
        assert panel.error.value == ""
    finally:
        box.children = ()
        box.close()


# -- 5. reasoning and tool lines are inert ------------------------------------------------


def test_panel_reasoning_summary_is_inert_while_streaming_and_after(panel, srv):
    srv.script([{"reasoning_summary": REASONING, "text": "Done. " + LONG}])
    srv.drip(0.02)
    panel.prompt.value = "think"
    panel.send.click()
    seen = collect_while_busy(panel)
    assert panel.future is not None and panel.future.exception() is None
    assert "word39" in answers(panel)[-1]["text"]
    for value in seen:
        assert_inert(value)
    # The reasoning was shown (escaped), so the check above is not vacuous.
    joined = "\n".join(seen)
    assert "&lt;img" in joined and "&lt;script&gt;" in joined, "reasoning never shown"


def test_panel_tool_lines_are_inert(panel, srv, monkeypatch):
    # The panel has no tools control (its Ask never carries tools), so the model cannot call
    # a kernel function from it.  Its sink still renders tool lines: feed one through the
    # sink the panel hands to session.arun, on the loop thread, as the driver would.
    original = panel.session.arun

    async def with_a_tool_call(ask, sink, *args, **kwargs):
        sink.tool_call(TOOL_NAME, TOOL_ARGS, TOOL_RESULT)
        return await original(ask, sink, *args, **kwargs)

    monkeypatch.setattr(panel.session, "arun", with_a_tool_call)
    srv.drip(0.02)
    panel.prompt.value = LONG
    panel.send.click()
    seen = collect_while_busy(panel)
    assert panel.future.exception() is None
    for value in seen:
        assert_inert(value)
    assert "tool: evil&lt;img" in "\n".join(seen), "the tool line was never shown"


# -- 6. a slow tool runs off the private loop ----------------------------------------------


class _SlowTool:
    def __init__(self) -> None:
        self.started = threading.Event()
        self.returned = threading.Event()
        self.outcome: dict = {}

        def slow_tool() -> str:
            """Take a second, then answer."""
            self.started.set()
            time.sleep(1)
            self.returned.set()
            return "slow done"

        self.fn = slow_tool

    def run_in_thread(self) -> threading.Thread:
        def target() -> None:
            try:
                self.outcome["result"] = asyncio.run(
                    agcloud_magic.arespond(
                        "use the tool",
                        model="echo",
                        tools=[self.fn],
                        tool_choice={"type": "function", "name": "slow_tool"},
                    )
                )
            except BaseException as exc:  # reported by the test
                self.outcome["error"] = exc

        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        assert self.started.wait(15), f"the tool never ran: {self.outcome}"
        return thread

    def finish(self, thread: threading.Thread) -> None:
        thread.join(20)
        assert not thread.is_alive()
        assert "error" not in self.outcome, self.outcome
        assert "slow done" in self.outcome["result"].text


def test_a_slow_tool_does_not_block_another_arespond(ip, srv):
    slow = _SlowTool()
    thread = slow.run_in_thread()
    plain = asyncio.run(agcloud_magic.arespond("hi there", model="echo"))
    plain_first = not slow.returned.is_set()
    slow.finish(thread)
    assert "hi there" in plain.text
    assert plain_first, "the plain request waited for the slow tool"


def test_a_slow_tool_does_not_block_a_panel_turn(panel, srv):
    slow = _SlowTool()
    thread = slow.run_in_thread()
    result = send(panel, "from the panel")
    panel_first = not slow.returned.is_set()
    slow.finish(thread)
    assert result is not None and "from the panel" in answers(panel)[-1]["text"]
    assert panel_first, "the panel's turn waited for the slow tool"
