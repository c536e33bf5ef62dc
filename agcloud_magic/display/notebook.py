"""The notebook renderer: one cell's streamed answer as display outputs of safe HTML.

Every display update re-sends its whole payload, so re-rendering the full answer on each
update is quadratic in the answer's length however it is throttled.  Here each finished
Markdown block is sent once, in its own display, and only the open tail is re-rendered in the
newest display; re-renders are limited to ~10/s and by a byte budget that grows with the text
received.  At the end everything collapses into the last display (the others are emptied), so
the cell keeps one output with the whole answer.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable

from agcloud_magic.display.markdown import BlockSplitter, escape, first_fence, to_safe_html
from agcloud_magic.display.render import (
    _DIM,
    _EMPTY,
    DIFFERS_NOTE,
    FORMATS,
    DisplayTarget,
    Publisher,
    _one_line,
    join_notes,
    plain_text,
)
from agcloud_magic.textbuffer import TextBuffer

__all__ = ["NotebookRenderer"]


def _dedent(text: str, indent: int) -> str:
    """Remove up to ``indent`` leading spaces from every line."""
    if indent <= 0:
        return text
    lines = text.splitlines(keepends=True)
    return "".join(ln[min(indent, len(ln) - len(ln.lstrip(" "))) :] for ln in lines)


def _restyle_pre(html: str, style: str, *, last: bool) -> str:
    """Add ``style`` to the first (or last) ``<pre>`` tag of our own rendered HTML."""
    at = html.rfind("<pre") if last else html.find("<pre")
    if at < 0:
        return html
    end = html.index(">", at)
    tag = html[at:end]
    if ' style="' in tag:
        tag = tag.replace(' style="', f' style="{style};', 1)
    else:
        tag += f' style="{style}"'
    return html[:at] + tag + html[end:]


def _pretty_json(text: str) -> str | None:
    """Pretty-print ``text`` (or its first fenced code block) if it is JSON."""
    fenced = first_fence(text)
    for candidate in (text, fenced[1] if fenced else None):
        if candidate and candidate.strip():
            try:
                return json.dumps(json.loads(candidate), indent=2, ensure_ascii=False)
            except ValueError:
                continue
    return None


class NotebookRenderer:
    """Streams an answer into display outputs of the running cell (see the module docstring).

    ``publisher`` creates the display outputs (the IPython face passes one); ``clock``
    (default ``time.monotonic``) is injectable so throttling can be tested without sleeping.
    """

    # Tuned with a simulated clock over synthetic answers (tests/test_render.py checks the bytes):
    # the end state alone costs ~2.3x the text (HTML + text/plain) and sending each block once
    # ~1.3x, which leaves ~1.5x of a 5x budget for re-rendering open tails.
    MIN_INTERVAL = 0.1  # at most ~10 pushes a second
    MAX_STALE = 1.5  # shown text lags at most this much behind, whatever the byte budget says
    CREDIT_PER_CHAR = 0.75  # bytes of tail re-rendering allowed per character received ...
    CREDIT_START = 600  # ... plus this, so the first lines stream smoothly
    CHUNK = 1024  # an open code block (or plain text) is frozen into a display every ~1 KB
    REASONING_INTERVAL = 0.5
    PREVIEW_CHARS = 120
    # Past this many characters the end does not re-render the whole answer into one display:
    # the streamed displays already show it, block by block, and rendering it again would
    # hold the kernel about a second per million characters (an interrupt of a runaway stream
    # must come back within half a second, whatever arrived; bench/bench_interrupt.py).
    KEEP_STREAMED_OVER = 100_000

    def __init__(
        self,
        fmt: str = "markdown",
        publisher: Publisher | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        self.fmt = fmt
        self._plain = fmt in ("text", "json")  # streamed as escaped <pre>, cut at any line
        if publisher is None:
            raise ValueError("NotebookRenderer needs a publisher (ipython.renderers has one)")
        self._pub = publisher
        self._clock = clock or time.monotonic
        self._parts = TextBuffer()  # the whole answer
        self._round_start = 0  # where in _parts the current round's text (after tools) begins
        self._split = BlockSplitter()
        self._blocks: list[str] = []  # finished blocks not yet committed to a display
        self._frozen = 0  # chars of the oldest open block already committed (code chunks)
        self._cont: tuple[str, int] | None = None  # (fence opener, indent) to render the rest
        self._prefix: list[str] = []  # HTML of tool lines / reasoning not yet committed
        self._prefix_len = 0
        self._reasoning: list[str] = []  # finished reasoning sections
        self._thinking: list[str] | None = None  # the reasoning section being streamed
        self._tools: list[str] = []
        self._handles: list[DisplayTarget] = []
        self._live: DisplayTarget | None = None  # the newest display, showing the open tail
        self._live_html = ""
        self._credit = float(self.CREDIT_START)
        self._last_push = -math.inf
        self._dirty = False  # something changed since the last push
        self._answer_dirty = False
        self._shown_text = False
        self._previewed = False  # the live display shows a reasoning preview
        self._ended = False
        self._footer: str | None = None
        self._note: str | None = None
        self._error: str | None = None
        self._metadata: dict | None = None
        self._replaced = False  # the final text is not what the displays streamed

    # -- the Renderer interface -------------------------------------------------------------

    def start(self) -> None:
        """Show a small grey "…" so the user sees the request is on its way."""
        if self._live is None and not self._ended:
            self._push_live(f'<div class="agcloud-magic-waiting" style="{_DIM}">…</div>')

    def append(self, delta: str) -> None:
        """Add answer text; the first visible text is shown at once, the rest on ``flush``."""
        if not delta or self._ended:
            return
        self._end_thinking()
        self._parts.append(delta)
        self._credit += self.CREDIT_PER_CHAR * len(delta)
        done = self._split.feed(delta)
        if done:
            self._blocks.extend(done)
        self._dirty = self._answer_dirty = True
        if not self._shown_text and not delta.isspace():
            self._shown_text = True  # the first words go out at once
            self.flush()
        elif self.next_due() == 0:
            # Due already: push from here too, so a caller whose loop only flushes when no
            # delta arrived for a while still shows a continuous stream.
            self.flush()

    def reasoning(self, delta: str) -> None:
        """Add reasoning text: previewed as one grey line, then kept as a closed ``<details>``."""
        if not delta or self._ended:
            return
        if self._thinking is None:
            self._thinking = []
        self._thinking.append(delta)
        self._dirty = True

    def tool_call(self, name: str, arguments: str, result: str | None) -> None:
        """Add one escaped line for a tool call."""
        if self._ended:
            return
        self._end_thinking()
        line = f"🔧 {_one_line(name, 80)}({_one_line(arguments or '', 160)})"
        if result is not None:
            line += f" → {_one_line(result, 160)}"
        item = (
            f'<div class="agcloud-magic-tool" style="{_DIM};font-family:'
            f'var(--jp-code-font-family,monospace);font-size:0.85em">{escape(line)}</div>'
        )
        self._tools.append(item)
        self._add_prefix(item)
        self._round_start = len(self._parts)  # the next round's text begins here

    def next_due(self) -> float | None:
        """Seconds until ``flush`` should run: ``MIN_INTERVAL`` after the last push when a block
        is ready or the byte budget allows re-rendering the tail, else ``MAX_STALE``."""
        if self._ended:
            return None
        if self._blocks or self._freezable():
            wait = self.MIN_INTERVAL
        elif self._answer_dirty:
            cost = self._split.tail_len - self._frozen + self._prefix_len
            wait = self.MIN_INTERVAL if self._credit >= cost else self.MAX_STALE
        elif self._dirty:
            wait = self.REASONING_INTERVAL if self._previewed else self.MIN_INTERVAL
        else:
            return None
        return max(0.0, self._last_push + wait - self._clock())

    def flush(self) -> None:
        """Commit finished blocks to their display, then re-render the open tail if it changed."""
        if self._ended or not (self._dirty or self._blocks):
            return
        self._commit()
        html = self._tail_html()
        self._previewed = self._thinking is not None
        if html and html != self._live_html:
            self._credit -= len(html)
            self._push_live(html)
        self._dirty = self._answer_dirty = False

    def finish(
        self, *, footer: str, metadata: dict, note: str | None = None, text: str | None = None
    ) -> None:
        """Collapse everything into the last display: safe HTML of the whole answer, reasoning,
        tool lines, footer and note, ``text/plain`` = the text with control characters
        escaped, metadata under ``"agcloud_magic"``; every earlier display is emptied.

        ``text`` (the final answer, see :meth:`Renderer.finish`) replaces the last round's
        streamed text when they differ: an answer that arrived whole had no deltas at all; one
        whose deltas said something else gets :data:`DIFFERS_NOTE` in the footer."""
        if text and not self._ended:
            streamed = self._parts.getvalue()[self._round_start :]
            if streamed != text:
                if streamed:
                    note = join_notes(note, DIFFERS_NOTE)
                self._parts.truncate(self._round_start)
                self._parts.append(text)
                self._replaced = True
        self._footer, self._metadata, self._note = footer, metadata, note
        self._finalize()

    def error(self, message: str) -> None:
        """End with one error line under whatever part of the answer arrived."""
        self._error = message
        self._finalize()

    # -- internals -------------------------------------------------------------------------

    def _add_prefix(self, html: str) -> None:
        self._prefix.append(html)
        self._prefix_len += len(html)
        self._dirty = True

    def _end_thinking(self) -> None:
        """Close the reasoning section being streamed (other output is arriving)."""
        if self._thinking is not None:
            text = "".join(self._thinking)
            self._thinking = None
            self._reasoning.append(text)
            self._add_prefix(self._details(text))

    @staticmethod
    def _details(text: str) -> str:
        return (
            '<details class="agcloud-magic-reasoning">'
            f'<summary style="{_DIM}">Reasoning</summary>{to_safe_html(text)}</details>'
        )

    def _freezable(self) -> bool:
        """True when the open block has grown a chunk of lines that can be shown for good:
        code lines of an open fence (or any lines of plain text) render the same later on."""
        extra = self._split.complete_len - self._frozen
        if extra <= self.CHUNK:
            return False
        if self._plain:
            return True
        fence = self._split.fence
        return fence is not None and self._split.complete_len > fence[1]

    def _render(self, text: str, cont: tuple[str, int] | None, more: bool = False) -> str:
        """Safe HTML for a piece of the answer; ``cont`` re-opens a fence cut by a freeze and
        ``more`` says the piece is cut by one: those sides of the code block lose their margin,
        so the chunks of one block sit together while they stream."""
        if self._plain:
            body = text.strip("\n")
            html = f'<pre style="white-space:pre-wrap">{escape(body)}</pre>' if body else ""
        else:
            if cont is not None:
                text = cont[0] + "\n" + _dedent(text, cont[1])
            html = to_safe_html(text)
        if cont is not None:
            html = _restyle_pre(html, "margin-top:0", last=False)
        if more:
            html = _restyle_pre(html, "margin-bottom:0", last=True)
        return html

    def _commit(self) -> None:
        """Show finished blocks (and a frozen code chunk) for good in the newest display."""
        if not (self._blocks or self._freezable() or (self._prefix and not self._split.tail_len)):
            return
        parts = self._prefix
        self._prefix, self._prefix_len = [], 0
        for block in self._blocks:  # only the first can have a frozen part
            parts.append(self._render(block[self._frozen :], self._cont))
            self._frozen, self._cont = 0, None
        self._blocks = []
        if self._freezable():  # (now that _frozen refers to the open tail)
            cut = self._split.complete_len
            parts.append(self._render(self._split.tail[self._frozen : cut], self._cont, True))
            if self._cont is None and not self._plain:
                opener = self._split.fence[0]  # type: ignore[index]  # _freezable checked it
                stripped = opener.lstrip(" \t")
                self._cont = (stripped, len(opener) - len(stripped))
            self._frozen = cut
        html = "".join(parts)
        if self._live is not None:
            if html != self._live_html:
                self._live.update({"text/html": html})
        elif html:
            self._handles.append(self._pub.display({"text/html": html}))
        self._live, self._live_html = None, ""
        self._last_push = self._clock()

    def _tail_html(self) -> str:
        parts = list(self._prefix)
        if self._thinking is not None:
            recent = "".join(self._thinking[-64:])[-self.PREVIEW_CHARS :]
            parts.append(
                f'<div class="agcloud-magic-thinking" style="{_DIM};font-style:italic">'
                f"💭 Reasoning… {escape(_one_line(recent, self.PREVIEW_CHARS + 1))}</div>"
            )
        tail = self._split.tail[self._frozen :]
        if tail.strip():
            parts.append(self._render(tail, self._cont))
        return "".join(parts)

    def _push_live(self, html: str) -> None:
        if self._live is None:
            self._live = self._pub.display({"text/html": html})
            self._handles.append(self._live)
        else:
            self._live.update({"text/html": html})
        self._live_html = html
        self._last_push = self._clock()

    def _final_bundle(self) -> tuple[str, str]:
        text = self._parts.getvalue()
        plain = text
        if self.fmt == "markdown":
            body = to_safe_html(text)
        elif self.fmt == "code":
            lang, plain = first_fence(text) or ("", text)
            cls = f' class="language-{escape(lang)}"' if lang else ""
            body = f"<pre><code{cls}>{escape(plain)}</code></pre>" if plain else ""
        else:
            pretty = _pretty_json(text) if self.fmt == "json" else None
            if pretty is not None:
                plain = pretty
                body = f'<pre><code class="language-json">{escape(pretty)}</code></pre>'
            else:
                body = self._render(text, None)
        # No wrapper element: top-level <pre>, <p>… get the same front-end styling as while
        # streaming (JupyterLab styles "> pre" differently from a nested <pre>).
        parts = []
        if self._reasoning:
            parts.append(self._details("\n\n".join(self._reasoning)))
        parts += self._tools
        parts.append(body)
        return "".join(parts) + self._closing_html(), self._plain_of(plain)

    def _closing_html(self) -> str:
        """The error line and the footer (with the note) that end the final display."""
        parts = []
        if self._error:
            parts.append(
                '<div class="agcloud-magic-error" style="color:var(--jp-error-color1,#c62828)">'
                f"⚠ {escape(self._error)}</div>"
            )
        footer = " · ".join(x for x in (self._footer, self._note) if x)
        if footer:
            parts.append(
                f'<div class="agcloud-magic-footer" style="{_DIM};font-size:0.85em;'
                f'margin-top:0.5em">{escape(footer)}</div>'
            )
        return "".join(parts)

    def _plain_of(self, plain: str) -> str:
        if not plain.strip():  # nothing answered: say why in plain front ends too
            plain = "\n".join(x for x in (self._error, self._note) if x)
        return plain_text(plain)

    def _keeps_streamed(self) -> bool:
        """True for a long answer whose displays show what it is (see KEEP_STREAMED_OVER)."""
        if self._replaced or self.fmt not in ("markdown", "text"):
            return False  # code and json end as one extracted or pretty-printed block
        return len(self._parts) > self.KEEP_STREAMED_OVER

    def _finalize_in_place(self) -> None:
        """End a long answer where it streamed: the finished blocks stay in their displays,
        the last display gets the open tail, error and footer, and ``text/plain`` of the whole
        answer (for front ends without HTML), with the metadata."""
        self._commit()
        html = self._tail_html() + self._closing_html()
        data = {"text/html": html, "text/plain": self._plain_of(self._parts.getvalue())}
        meta = {"agcloud_magic": self._metadata} if self._metadata is not None else None
        if self._live is not None:
            target = self._live
            target.update(data, meta)
        else:
            target = self._pub.display(data, meta)
        self._handles, self._live, self._live_html = [target], target, html

    def _finalize(self) -> None:
        self._end_thinking()
        self._ended = True
        if self._keeps_streamed():
            self._finalize_in_place()
            return
        html, plain = self._final_bundle()
        data = {"text/html": html, "text/plain": plain}
        meta = {"agcloud_magic": self._metadata} if self._metadata is not None else None
        if self._handles:
            target = self._handles[-1]
            target.update(data, meta)
            for handle in self._handles[:-1]:
                handle.update(_EMPTY)
        else:
            target = self._pub.display(data, meta)
        # Later calls (error after finish, or the reverse) only touch the final display.
        self._handles, self._live, self._live_html = [target], target, html
