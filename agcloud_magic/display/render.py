"""Show a streamed answer: in a notebook (display handles, safe HTML) or in a terminal.

The caller (the session) owns the loop: it feeds text with :meth:`Renderer.append`, and whenever
:meth:`Renderer.next_due` reaches 0 while no text arrives it calls :meth:`Renderer.flush` (append
also pushes by itself once a push is due); :meth:`Renderer.finish` or :meth:`Renderer.error` ends
the output, and supersedes any pending push, so no flush is needed before it.  All calls happen
on the kernel's main thread, so display messages carry the running cell's parent header.

The renderers: :mod:`agcloud_magic.display.notebook` (display handles, bytes linear in the
answer) and :mod:`agcloud_magic.display.terminal` (plain text as it arrives).  Which one runs,
and the publisher that talks to IPython, is the IPython face's choice
(:mod:`agcloud_magic.ipython.renderers`): nothing here imports IPython.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from agcloud_magic.errors import printable

__all__ = [
    "DIFFERS_NOTE",
    "FORMATS",
    "DisplayTarget",
    "Publisher",
    "Renderer",
    "format_footer",
    "join_notes",
    "plain_text",
]

# Said once, at the end, when the final answer is not what streamed (deltas out of order, a
# gateway that rewrites): the final one is what -o, the thread and the panel keep.
DIFFERS_NOTE = "the final answer differs from what was streamed; showing the final one"

FORMATS = ("markdown", "text", "code", "json")
_DIM = "color:var(--jp-ui-font-color2,#888)"
_EMPTY: dict[str, str] = {"text/plain": ""}


class Renderer(Protocol):
    """What the session drives; both renderers implement it."""

    def start(self) -> None:
        """Before the request: at most a subtle "waiting" line."""

    def append(self, delta: str) -> None:
        """A text delta of the answer; O(len(delta)) amortised, the display may be deferred."""

    def reasoning(self, delta: str) -> None:
        """Reasoning-summary text, shown collapsed above the answer."""

    def tool_call(self, name: str, arguments: str, result: str | None) -> None:
        """One line for one tool call: name, arguments and a short result."""

    def next_due(self) -> float | None:
        """Seconds until pending content should be pushed (0: now; None: nothing pending)."""

    def flush(self) -> None:
        """Push pending content now, if any."""

    def finish(
        self, *, footer: str, metadata: dict, note: str | None = None, text: str | None = None
    ) -> None:
        """Final state: the whole answer, footer line, optional note ("interrupted", …).

        ``text`` is the final answer (``Result.text``) of a request that ended normally; the
        renderer shows it when it was not streamed (``--no-stream``, ``stream=False``, a
        gateway that answers a stream request with plain JSON: no delta ever arrived) or
        when it differs from what streamed since the last tool call; in that second case it
        says so (:data:`DIFFERS_NOTE`), since the user saw another text go by.  ``None``
        (failed or interrupted requests) keeps the streamed copy: it is exactly what arrived.
        An empty ``text`` never erases streamed text (a streamed refusal, say).
        """

    def error(self, message: str) -> None:
        """One clear line; the partial answer already shown stays."""


class DisplayTarget(Protocol):
    """One display output that can be replaced in place."""

    def update(self, data: dict[str, str], metadata: dict[str, Any] | None = None) -> None:
        """Replace the output's MIME bundle (and metadata)."""


class Publisher(Protocol):
    """Creates display outputs; injectable so tests can count messages and bytes."""

    def display(
        self, data: dict[str, str], metadata: dict[str, Any] | None = None
    ) -> DisplayTarget:
        """Show a new output (a raw MIME bundle) and return a handle to update it."""


def _count(n: Any) -> str:
    return f"{n:,}" if isinstance(n, int) else "?"


def format_footer(model: str | None, usage: dict | None, seconds: float | None) -> str:
    """One footer line, e.g. ``gpt-4o-mini · 12 in / 345 out tokens · 1.2 s``.

    Cached input and reasoning output tokens are shown in parentheses when non-zero; missing
    parts (no usage for an interrupted stream, no model) are left out.
    """
    parts = [printable(model)] if model else []  # the server's string, never a terminal code
    if usage and ("input_tokens" in usage or "output_tokens" in usage):
        cached = (usage.get("input_tokens_details") or {}).get("cached_tokens")
        thought = (usage.get("output_tokens_details") or {}).get("reasoning_tokens")
        tin = f"{_count(usage.get('input_tokens'))} in" + (
            f" ({_count(cached)} cached)" if cached else ""
        )
        tout = f"{_count(usage.get('output_tokens'))} out" + (
            f" ({_count(thought)} reasoning)" if thought else ""
        )
        parts.append(f"{tin} / {tout} tokens")
    if seconds is not None:
        parts.append(f"{seconds:.1f} s" if seconds < 100 else f"{seconds:.0f} s")
    return " · ".join(parts)


def join_notes(*notes: str | None) -> str | None:
    """The notes that are set, joined with `` · `` (``None`` if none is)."""
    return " · ".join(n for n in notes if n) or None


# C0 and C1 controls but tab and newline: model text in text/plain must not drive whatever
# shows it (a terminal front end, a pager, a copy pasted into a shell).
_PLAIN_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain_text(text: str) -> str:
    """``text`` for a ``text/plain`` output: control characters shown as escapes (``\\x1b``),
    like :func:`agcloud_magic.errors.printable`, but newlines and tabs kept (``\\r\\n``
    becomes ``\\n``; a lone ``\\r``, which overwrites the line, is escaped)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    return _PLAIN_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
