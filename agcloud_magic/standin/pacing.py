"""Latency profiles: how long the stand-in takes to the first token and per token after it.

A "token" is :data:`~.structured.CHARS_PER_TOKEN` (4) characters of output, the same estimate
``usage`` uses for structured answers, so ``tokens_per_second`` means what a benchmark
expects whatever the model.  Streamed answers wait ``first_token`` before the first delta
event and then ``len(delta) / 4 / tokens_per_second`` before each further delta; a JSON answer
waits the total of that before it is sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .events import StreamEvent
from .structured import CHARS_PER_TOKEN

__all__ = ["Latency", "output_chars"]


def output_chars(response: dict[str, Any] | None) -> int:
    """Characters of output in a Response: message texts, call arguments, summaries."""
    total = 0
    for item in (response or {}).get("output") or []:
        total += len(str(item.get("arguments") or ""))
        for part in [*(item.get("content") or []), *(item.get("summary") or [])]:
            if isinstance(part, dict):
                total += len(str(part.get("text") or part.get("refusal") or ""))
    return total


@dataclass(frozen=True)
class Latency:
    """A latency profile; the default (zero, no rate) adds no wait at all."""

    first_token: float = 0.0
    tokens_per_second: float | None = None

    def __post_init__(self) -> None:
        if not self.first_token >= 0:  # also refuses NaN
            raise ValueError("first_token must be a number of seconds >= 0")
        if self.tokens_per_second is not None and not self.tokens_per_second > 0:
            raise ValueError("tokens_per_second must be > 0 (or None for no limit)")

    @property
    def active(self) -> bool:
        """Whether this profile makes any answer wait."""
        return self.first_token > 0 or self.tokens_per_second is not None

    def seconds_for(self, chars: int) -> float:
        """How long producing ``chars`` characters of output takes (first token excluded)."""
        if self.tokens_per_second is None:
            return 0.0
        return chars / CHARS_PER_TOKEN / self.tokens_per_second

    def whole(self, response: dict[str, Any] | None) -> float:
        """The wait before a JSON answer: the first token, then the rest at the rate."""
        return self.first_token + self.seconds_for(output_chars(response))

    def stream_waits(self, events: Iterable[StreamEvent]) -> list[float]:
        """The wait before each event of a stream (the first delta carries ``first_token``).

        A stream with no delta puts ``first_token`` before its last event, so that an empty
        answer is not faster than a short one.
        """
        events = list(events)
        waits = [0.0] * len(events)
        first = True
        for i, event in enumerate(events):
            delta = event.data.get("delta")
            if not isinstance(delta, str):
                continue
            waits[i] = self.first_token if first else self.seconds_for(len(delta))
            first = False
        if first and events:
            waits[-1] = self.first_token
        return waits
