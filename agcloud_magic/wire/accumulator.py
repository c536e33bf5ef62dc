"""Fold Responses API stream events into a :class:`~agcloud_magic.wire.result.Result`. Pure.

The accumulator keys state by ``output_index`` and ``content_index`` (never assumes items
arrive one after another), prefers the full values of ``*.done`` events and of the terminal
response over the concatenated deltas (a client that missed a delta recovers), and tells a
stream that ended without a terminal event apart from a completed one.
"""

from __future__ import annotations

from typing import Any

from agcloud_magic.wire import events as ev
from agcloud_magic.wire.result import Result, output_text

__all__ = ["Accumulator"]


class Accumulator:
    """Feed events in order with :meth:`feed`; read :attr:`result` at any time."""

    def __init__(self) -> None:
        self.result = Result()
        self.terminal: str | None = None
        self.error_code: str | None = None
        self.error_message: str | None = None
        self.last_sequence: int | None = None
        self.sequence_gaps = 0
        self._items: dict[int, dict[str, Any]] = {}
        self._text: list[str] = []
        self._summary: list[str] = []
        self._args: dict[int, list[str]] = {}

    @property
    def text(self) -> str:
        """The answer text so far."""
        return "".join(self._text)

    def feed(self, event: ev.Event) -> None:
        """Fold one event into the state."""
        kind = event.get("type")
        seq = event.get("sequence_number")
        if isinstance(seq, int):
            if self.last_sequence is not None and seq != self.last_sequence + 1:
                self.sequence_gaps += 1
            self.last_sequence = seq
        if kind == ev.TEXT_DELTA:
            self._text.append(event.get("delta") or "")
        elif kind == ev.SUMMARY_DELTA:
            self._summary.append(event.get("delta") or "")
        elif kind == ev.ARGS_DELTA:
            self._args.setdefault(event.get("output_index", 0), []).append(event.get("delta") or "")
        elif kind in (ev.ITEM_ADDED, ev.ITEM_DONE):
            item = event.get("item")
            if isinstance(item, dict):
                self._items[event.get("output_index", len(self._items))] = item
        elif kind == ev.REFUSAL_DONE:
            self.result.refusal = event.get("refusal") or ""
        elif kind in (ev.CREATED, ev.IN_PROGRESS, ev.QUEUED):
            self._snapshot(event.get("response"))
        elif kind in ev.TERMINAL:
            self.terminal = kind
            self._snapshot(event.get("response"), final=True)
        elif kind == ev.ERROR:
            self.error_code, self.error_message = ev.error_details(event)

    def _snapshot(self, response: Any, *, final: bool = False) -> None:
        if not isinstance(response, dict):
            return
        result = self.result
        result.id = response.get("id") or result.id
        result.model = response.get("model") or result.model
        result.status = response.get("status") or result.status
        if not final:
            return
        result.response = response
        result.usage = response.get("usage")
        result.error = response.get("error")
        result.incomplete_details = response.get("incomplete_details")
        output = response.get("output")
        if isinstance(output, list) and output:
            self._items = dict(enumerate(output))

    def finish(self, *, cut: bool = False) -> Result:
        """Close the fold and return the result.

        ``cut`` says the stream ended without a terminal event; the status then becomes
        ``cut`` (or stays ``failed`` when an ``error`` event came first).
        """
        result = self.result
        result.output = [self._items[i] for i in sorted(self._items)]
        text = output_text(result.output)
        # Items in the final snapshot carry the whole text; without one (cut, failed) the
        # deltas are all we have.
        result.text = text if (text or self.terminal) else self.text
        if not result.text and self._text:
            result.text = self.text
        summaries = [
            part.get("text") or ""
            for item in result.output
            if item.get("type") == "reasoning"
            for part in item.get("summary") or ()
        ]
        result.reasoning_summary = "\n\n".join(s for s in summaries if s) or "".join(self._summary)
        for index, chunks in self._args.items():
            item = self._items.get(index)
            if item is not None and not item.get("arguments"):
                item["arguments"] = "".join(chunks)
        if self.terminal is None:
            if self.error_message is not None:
                result.status = "failed"
                result.error = {"code": self.error_code, "message": self.error_message}
            elif cut:
                result.status = "cut"
        return result
