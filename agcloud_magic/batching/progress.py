"""How far a batch is: the counts, a throttled reporter, and the plain-text bar.

The job knows nothing of where progress is shown: it is given a :class:`ProgressSink` (an
object with ``update`` and ``finish``) by the face that called it.  The faces decide: the
``%%respond --each`` magic passes a widget bar in a kernel and this text bar elsewhere; the
Python API shows nothing unless asked (``progress=True`` is this text bar on stderr).  Updates
come from the thread that waits for the job (the caller's), never from the event loop, so a
sink may touch widgets or a terminal without locks.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from agcloud_magic.engine.pricing import format_usd

__all__ = ["INTERVAL", "Progress", "ProgressSink", "Reporter", "TextBar", "sink_for"]

INTERVAL = 0.2  # seconds between updates at least: five a second is smooth and cheap to draw


@dataclass(frozen=True)
class Progress:
    """A batch's rows so far: ``done`` (with values, cached ones included), ``failed``,
    ``cached`` (of ``done``, read from the cache), the ``tokens`` the answered requests used
    (their ``usage.total_tokens``) and the seconds since the batch started."""

    total: int
    done: int = 0
    failed: int = 0
    cached: int = 0
    tokens: int = 0
    elapsed: float = 0.0
    cost: float | None = None  # USD, when the model is in the price table

    def _cost(self) -> str:
        return "" if self.cost is None else f" · {format_usd(self.cost)}"

    @property
    def finished(self) -> int:
        """Rows with an outcome, good or bad."""
        return self.done + self.failed

    @property
    def rate(self) -> float:
        """Rows finished per second by requests (cached rows cost no time, so they are left out
        of the rate: it predicts the rest)."""
        return (self.finished - self.cached) / self.elapsed if self.elapsed > 0 else 0.0

    def summary(self) -> str:
        """One line, e.g. ``40 rows: 38 done, 2 failed, 12 from cache · 3,210 tokens · 4.1 s``."""
        return (f"{self.total} rows: {self.done} done, {self.failed} failed, {self.cached} from "
                f"cache · {self.tokens:,} tokens{self._cost()} · {self.elapsed:.1f} s")

    def status(self) -> str:
        """The running line beside a bar: rows, failures, tokens and the rate."""
        failed = f" · {self.failed} failed" if self.failed else ""
        return (f"{self.finished}/{self.total} rows{failed} · {self.tokens:,} tokens"
                f"{self._cost()} · {self.rate:.1f} rows/s")


class ProgressSink(Protocol):
    """Where a batch's progress goes (a face's bar)."""

    def update(self, progress: Progress) -> None:
        """The batch moved on (called at most every :data:`INTERVAL` seconds)."""

    def finish(self, progress: Progress) -> None:
        """The batch ended (finished or interrupted): show the summary."""


class Reporter:
    """Asks ``counts()`` for ``(done, failed, cached, tokens, cost)`` and tells ``sink``, at most
    every ``interval`` seconds by ``clock`` (injectable, so the throttle is testable).  The
    counts are only computed when an update is due: counting walks every row."""

    def __init__(self, sink: ProgressSink | None, total: int,
                 counts: Callable[[], tuple[int, int, int, int, float | None]], *,
                 clock: Callable[[], float] = time.monotonic, interval: float = INTERVAL) -> None:
        self.sink = sink
        self.total = total
        self.counts = counts
        self.clock = clock
        self.interval = interval
        self.start = clock()
        self.last: float | None = None

    def tick(self) -> None:
        """Update the sink if the last update is ``interval`` old (or there was none)."""
        if self.sink is None:
            return
        now = self.clock()
        if self.last is not None and now - self.last < self.interval:
            return
        self.last = now
        self.sink.update(self._progress(now))

    def finish(self) -> None:
        """The final counts, whenever the last update was."""
        if self.sink is not None:
            self.sink.finish(self._progress(self.clock()))

    def _progress(self, now: float) -> Progress:
        done, failed, cached, tokens, cost = self.counts()
        return Progress(self.total, done, failed, cached, tokens, now - self.start, cost)


class TextBar:
    """A one-line bar redrawn in place with ``\\r`` (stderr by default), replaced at the end by
    the summary and a newline: a terminal, or any log, keeps just the summary line."""

    WIDTH = 24

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self.drawn = 0  # characters of the last line, so a shorter one can blank them

    def update(self, progress: Progress) -> None:
        filled = self.WIDTH * progress.finished // progress.total if progress.total else 0
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self._draw(f"[{bar}] {progress.status()}", end="")

    def finish(self, progress: Progress) -> None:
        self._draw(progress.summary(), end="\n")

    def _draw(self, line: str, end: str) -> None:
        stream = self.stream or sys.stderr  # looked up late: pytest and IPython swap stderr
        pad = " " * max(0, self.drawn - len(line))  # blank what a longer line left
        stream.write("\r" + line + pad + end)
        stream.flush()
        self.drawn = len(line)


def sink_for(progress: Any) -> ProgressSink | None:
    """``progress=`` of the Python API: ``True`` the text bar, a sink itself, else nothing."""
    if progress is True:
        return TextBar()
    if progress is None or progress is False:
        return None
    if not callable(getattr(progress, "update", None)) or not callable(
            getattr(progress, "finish", None)):
        from agcloud_magic.errors import ConfigError

        raise ConfigError("progress must be True, False or an object with update() and "
                          f"finish(), not {type(progress).__name__}")
    return progress
