"""The panel's transcript and look: entries, their HTML, the Markdown export, one style sheet.

Everything here is written by us; model and user text only ever enters through
:func:`~agcloud_magic.display.markdown.to_safe_html` (answers) or
:func:`~agcloud_magic.display.markdown.escape` (prompts, errors, notes), because JupyterLab
inserts an ``HTML`` widget's value unsanitised (here wrapped as :func:`markdown_html` and
:func:`escape`, which also make the text sendable by a kernel, see :func:`sendable`).
Colours come from JupyterLab's CSS variables, so the light and dark themes both look right;
the fallbacks after each variable keep the panel readable in front ends that lack them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agcloud_magic.display import markdown

__all__ = [
    "BAD_STATUSES",
    "CSS",
    "ROLE_LABELS",
    "UNRECORDED",
    "Entry",
    "Pair",
    "assistant_html",
    "error_html",
    "escape",
    "live_header",
    "markdown_export",
    "markdown_html",
    "preview_html",
    "sendable",
    "thread_entries",
    "tool_html",
    "usage_html",
    "user_html",
]

# Scoped to .agc-panel so nothing leaks into the rest of the notebook.
CSS = """
<style>
.agc-panel {
  border: 1px solid var(--jp-border-color2, #ccc);
  border-radius: 6px;
  padding: 8px;
  background: var(--jp-layout-color1, #fff);
  color: var(--jp-ui-font-color1, #222);
  max-width: 960px;
  gap: 6px;
}
.agc-panel .agc-title .widget-html-content {
  font-weight: 600;
  color: var(--jp-ui-font-color1, #222);
}
.agc-panel .agc-row { gap: 6px; align-items: center; flex-wrap: wrap; }
.agc-panel .agc-transcript {
  border: 1px solid var(--jp-border-color2, #ccc);
  border-radius: 4px;
  background: var(--jp-layout-color2, #f5f5f5);
  max-height: 420px;
  min-height: 60px;
  overflow-y: auto;
  padding: 6px 8px;
}
.agc-panel .agc-transcript .widget-html-content,
.agc-panel .agc-df-preview .widget-html-content,
.agc-panel .agc-usage .widget-html-content,
.agc-panel .agc-error .widget-html-content {
  line-height: 1.45;
  white-space: normal;
  height: auto;
  color: var(--jp-content-font-color1, #222);
}
.agc-panel .agc-turn { margin: 4px 0 8px 0; }
.agc-panel .agc-role {
  font-size: var(--jp-ui-font-size0, 11px);
  font-weight: 600;
  text-transform: uppercase;
  letter-spacing: 0.04em;
  color: var(--jp-ui-font-color2, #666);
}
.agc-panel .agc-user .agc-text {
  white-space: pre-wrap;
  background: var(--jp-layout-color1, #fff);
  border-left: 3px solid var(--jp-brand-color1, #1976d2);
  padding: 4px 8px;
  border-radius: 3px;
}
.agc-panel .agc-md pre {
  background: var(--jp-cell-editor-background, #f0f0f0);
  color: var(--jp-content-font-color1, #222);
  padding: 6px;
  border-radius: 3px;
  overflow-x: auto;
}
.agc-panel .agc-md code { font-family: var(--jp-code-font-family, monospace); }
.agc-panel .agc-md table { border-collapse: collapse; }
.agc-panel .agc-md th, .agc-panel .agc-md td {
  border: 1px solid var(--jp-border-color2, #ccc);
  padding: 2px 6px;
}
.agc-panel .agc-md a { color: var(--jp-content-link-color, #1976d2); }
.agc-panel .agc-md p { margin: 0 0 6px 0; }
.agc-panel .agc-mark, .agc-panel .agc-note, .agc-panel .agc-usage .widget-html-content {
  font-size: var(--jp-ui-font-size0, 11px);
  color: var(--jp-ui-font-color2, #666);
}
.agc-panel .agc-mark { font-style: italic; }
.agc-panel .agc-mark-bad { color: var(--jp-error-color1, #d32f2f); }
.agc-panel .agc-error .widget-html-content { color: var(--jp-error-color1, #d32f2f); }
.agc-panel .agc-df-preview pre {
  max-height: 180px;
  overflow: auto;
  background: var(--jp-layout-color2, #f5f5f5);
  color: var(--jp-content-font-color1, #222);
  padding: 4px;
  font-size: var(--jp-code-font-size, 12px);
  white-space: pre;
}
.agc-panel .agc-reasoning {
  color: var(--jp-ui-font-color2, #666);
  font-size: var(--jp-ui-font-size1, 13px);
  white-space: pre-wrap;
}
/* The reasoning streams in chunks, one widget each: let them flow as one text. */
.agc-panel .agc-reasoning-flow, .agc-panel .agc-reasoning-page { display: block; }
.agc-panel .agc-reasoning-flow .widget-html,
.agc-panel .agc-reasoning-flow .widget-html-content { display: inline; }
.agc-panel .agc-prompt textarea { min-height: 64px; font-family: inherit; }
.agc-panel .agc-keys { display: none; }
</style>
"""

# A UTF-16 surrogate code point (lone, or a pair kept as two code points) cannot be encoded as
# UTF-8, so a kernel cannot send a widget value holding one: the message raises.  A hostile
# server can put one in any text (JSON allows "\ud83d"); the panel shows U+FFFD instead.
_SURROGATE = re.compile("[\ud800-\udfff]")


def sendable(text: str) -> str:
    """``text`` as a kernel can send it to a widget: surrogate code points become U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def escape(text: str) -> str:
    """Plain text as inert HTML that a widget can carry (see :func:`sendable`)."""
    return sendable(markdown.escape(text))


def markdown_html(text: str) -> str:
    """Markdown as safe HTML that a widget can carry (see :func:`sendable`)."""
    return sendable(markdown.to_safe_html(text))


ROLE_LABELS = {"user": "You", "assistant": "Assistant"}
BAD_STATUSES = frozenset({"failed", "cut", "error", "stopped"})


def user_html(text: str, notes: list[str], source: str, excerpt: bool) -> str:
    """A prompt, escaped, with what was attached and where it came from."""
    label = "You" + _from(source, excerpt)
    body = f'<div class="agc-text">{escape(text) if text else "<i>(attachments only)</i>"}</div>'
    extra = f'<div class="agc-note">+ {escape(", ".join(notes))}</div>' if notes else ""
    return f'<div class="agc-turn agc-user"><div class="agc-role">{label}</div>{body}{extra}</div>'


def assistant_html(
    text: str, *, model: str | None, status: str, source: str, excerpt: bool, mark: str = ""
) -> str:
    """An answer rendered as safe Markdown, with its model and a mark for unfinished answers."""
    label = "Assistant" + (f" · {escape(model)}" if model else "") + _from(source, excerpt)
    body = f'<div class="agc-md">{markdown_html(text)}</div>' if text else ""
    cls = "agc-mark agc-mark-bad" if status in BAD_STATUSES else "agc-mark"
    note = f'<div class="{cls}">{escape(mark)}</div>' if mark else ""
    return (
        f'<div class="agc-turn agc-assistant"><div class="agc-role">{label}</div>'
        f"{body}{note}</div>"
    )


def _from(source: str, excerpt: bool) -> str:
    if source == "panel":
        return ""
    face = "%%respond" if source == "magic" else source
    return f" · from {escape(face)}" + (" (excerpt)" if excerpt else "")


def live_header(model: str | None) -> str:
    """The label above an answer that is still streaming."""
    suffix = f" · {escape(model)}" if model else ""
    return f'<div class="agc-role">Assistant{suffix} · answering…</div>'


def tool_html(name: str, arguments: str, result: str | None) -> str:
    """One line per tool call the model made."""
    shown = f"{name}({arguments})" + (f" → {result}" if result is not None else "")
    return f'<div class="agc-note">tool: {escape(shown)}</div>'


def preview_html(summaries: list[tuple[str, str]]) -> str:
    """What the picked DataFrames would send, folded away under one line each."""
    if not summaries:
        return ""
    items = []
    for name, text in summaries:
        items.append(
            f"<details><summary>{escape(name)}: {len(text):,} characters will be sent"
            f"</summary><pre>{escape(text)}</pre></details>"
        )
    return "".join(items)


def error_html(message: str) -> str:
    """The error line."""
    return f"<span>⚠ {escape(message)}</span>" if message else ""


def usage_html(line: str) -> str:
    """The usage line."""
    return f"<span>{escape(line)}</span>" if line else ""


# Answers that never became a turn of the thread (the panel keeps showing them, marked).
UNRECORDED = frozenset({"failed", "stopped"})


@dataclass
class Entry:
    """One side of a turn as the transcript shows it."""

    role: str
    text: str
    thread: str
    response_id: str | None = None
    status: str = "completed"
    source: str = "panel"
    excerpt: bool = False
    model: str | None = None
    mark: str = ""
    notes: list[str] = field(default_factory=list)
    html: str = ""  # rendered once: an entry does not change after it is finished

    def render(self) -> str:
        """The entry's HTML (cached)."""
        if not self.html:
            if self.role == "user":
                self.html = user_html(self.text, self.notes, self.source, self.excerpt)
            else:
                self.html = assistant_html(
                    self.text, model=self.model, status=self.status, source=self.source,
                    excerpt=self.excerpt, mark=self.mark,
                )
        return self.html

    def as_dict(self) -> dict[str, Any]:
        """The public view (``Panel.transcript`` items)."""
        return {
            "role": self.role, "text": self.text, "response_id": self.response_id,
            "status": self.status, "thread": self.thread, "source": self.source,
            "excerpt": self.excerpt, "model": self.model,
        }


@dataclass
class Pair:
    """A prompt and its answer as the panel made them (full text, not excerpts)."""

    user: Entry
    answer: Entry
    anchor: str | None  # the thread's head when it was sent: where an unrecorded pair shows


def thread_entries(name: str, path: list[Any], pairs: list[Pair]) -> list[Entry]:
    """A thread's transcript from its path (``Thread.path()``) and the panel's own pairs.

    Every recorded turn shows in full (its :class:`~agcloud_magic.engine.conversation.Turn`
    keeps the whole prompt and answer); turns made elsewhere (``%%respond``) are marked with
    their source.
    Failed or stopped answers were never recorded in the thread: they show after the turn that
    was the head when they were sent, as long as that turn is still on the path.
    """
    made_here = {p.answer.response_id: p for p in pairs if p.answer.response_id}
    on_path = {turn.response_id for turn in path}
    loose: dict[str | None, list[Pair]] = {}
    for pair in pairs:
        if pair.answer.response_id not in on_path and pair.answer.status in UNRECORDED:
            loose.setdefault(pair.anchor, []).append(pair)
    entries: list[Entry] = []
    for pair in loose.get(None, []):
        entries += [pair.user, pair.answer]
    for turn in path:
        pair = made_here.get(turn.response_id)
        if pair is None:
            source = turn.source or "magic"
            pair = Pair(
                Entry("user", turn.prompt, name, turn.response_id, source=source),
                Entry("assistant", turn.answer, name, turn.response_id, status=turn.status,
                      source=source, model=turn.model),
                turn.parent_id,
            )
        entries += [pair.user, pair.answer]
        for lost in loose.get(turn.response_id, []):
            entries += [lost.user, lost.answer]
    return entries


def markdown_export(thread: str, entries: list[dict[str, Any]]) -> str:
    """A transcript (``Panel.transcript``) as Markdown: prompts quoted, answers as written."""
    lines = [f"# AGCloud conversation: thread `{thread}`", ""]
    for entry in entries:
        if entry["role"] == "user":
            where = "" if entry["source"] == "panel" else f" (from {entry['source']})"
            lines += [f"**You**{where}:", ""]
            lines += [f"> {line}" if line else ">" for line in entry["text"].splitlines()]
        else:
            status = "" if entry["status"] == "completed" else entry["status"]
            meta = ", ".join(x for x in (entry["model"], status) if x)
            lines += [f"**Assistant**{f' ({meta})' if meta else ''}:", "", entry["text"]]
        if entry["excerpt"]:
            lines += ["", "_(excerpt)_"]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
