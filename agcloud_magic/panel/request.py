"""One Send of the panel: the sink the engine streams into, and how its outcome is settled.

Deltas arrive on the loop thread and tool lines on the worker thread tools run in; both only
append to Python lists and schedule one coalesced widget update on the loop (at most every
``FLUSH_INTERVAL``).  :meth:`LiveRequest.settle` turns the finished future into the answer
entry's final state: completed, incomplete (cut by ``max_output_tokens``: the turn exists),
stopped or failed, with the partial text kept.
"""

from __future__ import annotations

import collections
import concurrent.futures
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from agcloud_magic.display.markdown import BlockSplitter
from agcloud_magic.display.render import DIFFERS_NOTE, format_footer
from agcloud_magic.engine.runner import get_runner
from agcloud_magic.errors import AGCloudError
from agcloud_magic.panel.style import Pair, tool_html

__all__ = ["FLUSH_INTERVAL", "LiveRequest", "ReasoningStream", "one_line_error"]

# Seconds between widget updates while an answer streams (at most ~20 updates a second).
FLUSH_INTERVAL = 0.05


class ReasoningStream:
    """A reasoning summary while it streams: chunks shown once each, and an open chunk.

    The open chunk is frozen (queued to be sent once, for good) when it reaches ``CHUNK``
    characters, cut at a line end or a space in its second half, so a frozen chunk is at least
    ``CHUNK / 2`` long: each chunk costs a widget (about 600 bytes of state, plus its page's
    list of children re-sent, see ``widgets.ReasoningFold``), so chunks must be long for that
    overhead to stay below their text.  Re-sending the open chunk on every update would cost up
    to ``CHUNK`` per update for a slow stream, so, like the notebook renderer's tail, it is
    re-sent only within a byte budget (``CREDIT_PER_CHAR`` per character received, plus
    ``CHUNK`` to start), or when it has been stale for ``MAX_STALE`` seconds (the fold is closed
    unless the reader opens it, so it may lag a little).  What :meth:`update` hands out is at
    most the text once, plus ``CREDIT_PER_CHAR`` of it again, plus ``CHUNK`` to start and one
    ``CHUNK`` per ``MAX_STALE`` seconds of a stream too slow to earn its budget.
    """

    CHUNK = 2048
    CREDIT_PER_CHAR = 0.5
    MAX_STALE = 2.0

    def __init__(self) -> None:
        self.started = False  # some reasoning arrived (the view shows its fold)
        self._open: list[str] = []
        self._open_len = 0
        self._done: collections.deque[str] = collections.deque()  # frozen, not yet shown
        self._new_section = False
        self._credit = float(self.CHUNK)
        self._shown = ""  # the open chunk as last sent
        self._sent_at = -math.inf

    def feed(self, delta: str) -> None:
        """Add reasoning text."""
        if self._new_section:  # a later section (after answer text or a tool round)
            self._new_section = False
            delta = "\n\n" + delta
        self.started = True
        self._open.append(delta)
        self._open_len += len(delta)
        self._credit += self.CREDIT_PER_CHAR * len(delta)
        if self._open_len >= self.CHUNK:
            self._freeze(whole=False)

    def end_section(self) -> None:
        """Answer text or a tool call came: the section is finished, freeze all of it."""
        if self._open_len:
            self._freeze(whole=True)
        self._new_section = self.started

    def update(self, now: float) -> tuple[list[str], str | None]:
        """The chunks to append for good, and the open chunk to show (``None``: leave the
        shown one as it is, it is not due)."""
        done = [self._done.popleft() for _ in range(len(self._done))]
        tail = "".join(self._open)
        # After a freeze the shown open chunk holds text now frozen: it must be replaced.
        due = bool(done) or len(tail) <= self._credit or now - self._sent_at >= self.MAX_STALE
        if not due or tail == self._shown:
            return done, None
        self._credit -= len(tail)
        self._shown, self._sent_at = tail, now
        return done, tail

    def _freeze(self, *, whole: bool) -> None:
        """Move the open chunk (up to a break in its second half, unless ``whole``) to the
        frozen ones.  What stays open is under half a chunk, so each character is joined a
        bounded number of times."""
        text = "".join(self._open)
        cut = len(text)
        if not whole:
            half = self.CHUNK // 2
            cut = text.rfind("\n") + 1
            if cut < half:
                cut = text.rfind(" ") + 1
            if cut < half:
                cut = len(text)  # no break near the end: cut anywhere (it is shown escaped)
        self._done.append(text[:cut])
        rest = text[cut:]
        self._open, self._open_len = ([rest] if rest else []), len(rest)


class LiveRequest:
    """One Send: the sink ``session.arun`` streams into, and its live state.

    ``flush`` is called on the loop thread with this request when an update is due.

    What an update sends stays linear in what streamed, as in the notebook renderer: finished
    Markdown blocks and tool lines are queued in :attr:`pending` and shown once each, and the
    reasoning summary streams in chunks (:class:`ReasoningStream`); only the answer's open
    block and the reasoning's open chunk are re-sent."""

    def __init__(self, flush: Callable[[LiveRequest], None], pair: Pair,
                 model: str | None) -> None:
        self._flush = flush
        self.pair = pair
        self.model = model
        self.chunks: list[str] = []
        self.round_start = 0  # index in chunks of the last round's text (after tool calls)
        self.thoughts = ReasoningStream()
        self.splitter = BlockSplitter()
        # ("md", finished Markdown block) or ("html", our HTML), to show once each.  A deque:
        # tool lines come from the tools' worker thread while the loop thread drains it.
        self.pending: collections.deque[tuple[str, str]] = collections.deque()
        self.scheduled = False
        self.finished = False
        self.updates = 0
        self.started = time.monotonic()
        self.future: concurrent.futures.Future[Any] | None = None
        self.result: Any = None
        self.done = threading.Event()
        self.live: Any = None  # the LiveView showing this answer while it streams

    # -- the engine's Sink ------------------------------------------------------------------

    def append(self, delta: str) -> None:
        """Keep answer text; schedule one coalesced widget update."""
        if self.finished or not delta:
            return
        self._end_thinking()
        self.chunks.append(delta)
        self.pending.extend(("md", block) for block in self.splitter.feed(delta))
        self._schedule()

    def reasoning(self, delta: str) -> None:
        """Keep reasoning-summary text (streamed in chunks, see :class:`ReasoningStream`)."""
        if not self.finished and delta:
            self.thoughts.feed(delta)
            self._schedule()

    def tool_call(self, name: str, arguments: str, result: str | None) -> None:
        """Note a tool call the model made (escaped when it is rendered)."""
        if not self.finished:
            self._end_thinking()
            self.round_start = len(self.chunks)
            self.pending.append(("html", tool_html(name, arguments, result)))
            self._schedule()

    def take_pending(self) -> list[tuple[str, str]]:
        """The pieces queued since the last update, oldest first (each is shown once)."""
        return [self.pending.popleft() for _ in range(len(self.pending))]

    def _end_thinking(self) -> None:
        """Answer text or a tool call came: the reasoning section so far is finished."""
        self.thoughts.end_section()

    def _schedule(self) -> None:
        # Deltas arrive on the loop thread, tool lines from the worker thread tools run in:
        # either way the flush is timed on the loop.
        if not self.scheduled:
            self.scheduled = True
            loop = get_runner().loop()
            loop.call_soon_threadsafe(loop.call_later, FLUSH_INTERVAL, self._flush, self)

    @property
    def text(self) -> str:
        """The answer text streamed so far."""
        return "".join(self.chunks)

    # -- the end ------------------------------------------------------------------------------

    def settle(self, future: concurrent.futures.Future[Any] | None) -> tuple[str, str]:
        """Fill in the answer entry from the finished ``future`` (``None``: it never ran, or
        Stop gave up on it, so it counts as stopped); return ``(error line, usage line)``
        (the error line is empty unless the request failed)."""
        answer, user = self.pair.answer, self.pair.user
        elapsed = time.monotonic() - self.started
        result, error, partial = None, "", None
        if future is None or future.cancelled():
            answer.status, answer.mark = "stopped", "stopped: the answer was cut off here"
        else:
            exc = future.exception()
            partial = getattr(exc, "partial", None)
            if exc is None:
                result = future.result()
                answer.status = result.status or "completed"
            elif getattr(exc, "code", None) == "max_output_tokens" and partial is not None:
                # Cut by max_output_tokens: the response exists and the turn was recorded.
                result, answer.status = partial, "incomplete"
                answer.mark = "incomplete: max_output_tokens reached"
            else:
                error = str(exc) if isinstance(exc, AGCloudError) else one_line_error(exc)
                answer.status, answer.mark = "failed", "failed: see the error line below"
        answer.html = ""
        if result is None:
            # Keep what had arrived: the partial answer stays in the transcript, marked.
            answer.text = (getattr(partial, "text", "") or "") or self.text
            return error, f"{answer.status} after {elapsed:.1f} s"
        streamed = "".join(self.chunks[self.round_start :])
        if result.text and streamed and streamed != result.text:
            # The user saw another text go by (deltas out of order, a gateway that rewrites):
            # the final one is what the thread keeps, and the panel says it changed.
            answer.mark = DIFFERS_NOTE
        answer.text = result.text or self.text
        answer.response_id = user.response_id = result.id
        answer.model = result.model or answer.model
        self.result = result
        footer = format_footer(answer.model, result.usage, result.elapsed or elapsed)
        # What the client did on the way (a thread replayed) is said there too, one line each.
        return error, " · ".join([footer, *result.notes])


def one_line_error(exc: BaseException) -> str:
    """An unexpected exception as one line: its type and message."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__
