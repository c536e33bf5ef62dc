"""One Send of the panel: the sink the engine streams into, and how its outcome is settled.

Deltas arrive on the loop thread and tool lines on the worker thread tools run in; both only
append to Python lists and schedule one coalesced widget update on the loop (at most every
``FLUSH_INTERVAL``).  :meth:`LiveRequest.settle` turns the finished future into the answer
entry's final state: completed, incomplete (cut by ``max_output_tokens``: the turn exists),
stopped or failed, with the partial text kept.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Callable
from typing import Any

from agcloud_magic.display.markdown import BlockSplitter
from agcloud_magic.display.render import format_footer
from agcloud_magic.engine.runner import get_runner
from agcloud_magic.errors import AGCloudError
from agcloud_magic.panel.style import Pair, tool_html

__all__ = ["FLUSH_INTERVAL", "LiveRequest", "one_line_error"]

# Seconds between widget updates while an answer streams (at most ~20 updates a second).
FLUSH_INTERVAL = 0.05


class LiveRequest:
    """One Send: the sink ``session.arun`` streams into, and its live state.

    ``flush`` is called on the loop thread with this request when an update is due."""

    def __init__(self, flush: Callable[[LiveRequest], None], pair: Pair,
                 model: str | None) -> None:
        self._flush = flush
        self.pair = pair
        self.model = model
        self.chunks: list[str] = []
        self.thinking: list[str] = []
        self.tools: list[str] = []
        self.splitter = BlockSplitter()
        self.new_blocks: list[str] = []
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
        self.chunks.append(delta)
        self.new_blocks.extend(self.splitter.feed(delta))
        self._schedule()

    def reasoning(self, delta: str) -> None:
        """Keep reasoning-summary text."""
        if not self.finished and delta:
            self.thinking.append(delta)
            self._schedule()

    def tool_call(self, name: str, arguments: str, result: str | None) -> None:
        """Note a tool call the model made (escaped when it is rendered)."""
        if not self.finished:
            self.tools.append(tool_html(name, arguments, result))
            self._schedule()

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
        answer.text = result.text or self.text
        answer.response_id = user.response_id = result.id
        answer.model = result.model or answer.model
        self.result = result
        return error, format_footer(answer.model, result.usage, result.elapsed or elapsed)


def one_line_error(exc: BaseException) -> str:
    """An unexpected exception as one line: its type and message."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__
