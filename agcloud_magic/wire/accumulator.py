"""Fold Responses API stream events into a :class:`~agcloud_magic.wire.result.Result`. Pure.

The accumulator keys state by ``output_index`` and ``content_index`` (never assumes items
arrive one after another), prefers the full values of ``*.done`` events and of the terminal
response over the concatenated deltas (a client that missed a delta recovers), and tells a
stream that ended without a terminal event apart from a completed one.

It trusts no value's type: a field of the wrong type (a number as a delta, a list as an
index, a dict as an id) is ignored, never ``str()``-ed into the result, so any events fold
into a result a face can show.  The first terminal event wins: what comes after it is neither
folded nor passed on (:meth:`Accumulator.feed` returns ``False``), so a second
``response.completed`` is not shown and not recorded.
"""

from __future__ import annotations

from typing import Any

from agcloud_magic.textbuffer import TextBuffer
from agcloud_magic.wire import events as ev
from agcloud_magic.wire.result import Result, clean_usage, output_text
from agcloud_magic.wire.sse import ServerSentEvent

__all__ = ["Accumulator"]

_STATUS = {ev.COMPLETED: "completed", ev.INCOMPLETE: "incomplete", ev.FAILED: "failed"}
_SURROGATE_FIRST, _HIGH_END, _LOW, _LOW_END = "\ud800", "\udbff", "\udc00", "\udfff"


def _index(value: Any) -> int | None:
    """An ``output_index``: an int (a bool is no index), else ``None`` (treated as missing)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    """A non-empty string, else ``None``."""
    return value if isinstance(value, str) and value else None


def _dict(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


class Accumulator:
    """Feed events in order with :meth:`feed` (or raw SSEs with :meth:`feed_sse`); read
    :attr:`result` at any time."""

    def __init__(self) -> None:
        self.result = Result()
        self.terminal: str | None = None
        self.error_code: str | None = None
        self.error_message: str | None = None
        self.last_sequence: int | None = None
        self.sequence_gaps = 0
        self.malformed = 0  # SSE data that was not a JSON object (counted by feed_sse)
        self._items: dict[int, dict[str, Any]] = {}
        # Buffers, not lists: millions of deltas in a list cost every garbage collection a
        # walk over them (0.13 s per full collection after 30 s of a fast stream).
        self._text = TextBuffer()
        self._summary = TextBuffer()
        self._args: dict[int, list[str]] = {}
        self._held: dict[str, str] = {}  # per delta type: a high surrogate awaiting its pair

    @property
    def text(self) -> str:
        """The answer text so far."""
        return self._text.getvalue()

    def feed_sse(self, sse: ServerSentEvent) -> ev.Event | None:
        """Decode and fold one SSE; the event to pass on to the faces, or ``None`` (``[DONE]``,
        data that is no JSON object, anything after the terminal event)."""
        event = ev.decode_event(sse)
        if event is None:
            if sse.data and sse.data != "[DONE]":
                self.malformed += 1
            return None
        return event if self.feed(event) else None

    def feed(self, event: ev.Event) -> bool:
        """Fold one event into the state; ``False`` if it came after the terminal event (it
        is then ignored, and must not be shown either).

        A delta's text is normalised in place (``event["delta"]``) before the faces see it:
        not text -> ``""``, surrogate halves split across deltas joined (see :meth:`_delta`).
        """
        if self.terminal is not None:
            return False
        kind = event.get("type")
        seq = event.get("sequence_number")
        if type(seq) is int:  # not isinstance: a bool is no sequence number
            if self.last_sequence is not None and seq != self.last_sequence + 1:
                self.sequence_gaps += 1
            self.last_sequence = seq
        if kind == ev.TEXT_DELTA:
            # The hot path, inlined: plain text with no surrogate at either end, none held.
            delta = event.get("delta")
            if (type(delta) is not str or not delta or self._held
                    or _SURROGATE_FIRST <= delta[0] <= _LOW_END
                    or _SURROGATE_FIRST <= delta[-1] <= _LOW_END):
                delta = self._delta(kind, event)
            self._text.append(delta)
        elif kind in ev.DELTAS:
            delta = self._delta(kind, event)  # type: ignore[arg-type]  # kind is in DELTAS
            if kind == ev.SUMMARY_DELTA:
                self._summary.append(delta)
            elif kind == ev.ARGS_DELTA:
                index = _index(event.get("output_index"))
                self._args.setdefault(0 if index is None else index, []).append(delta)
        elif kind in (ev.ITEM_ADDED, ev.ITEM_DONE):
            item = event.get("item")
            if isinstance(item, dict):
                index = _index(event.get("output_index"))
                self._items[len(self._items) if index is None else index] = item
        elif kind == ev.REFUSAL_DONE:
            refusal = event.get("refusal")
            if isinstance(refusal, str):
                self.result.refusal = refusal
        elif kind in (ev.CREATED, ev.IN_PROGRESS, ev.QUEUED):
            self._snapshot(event.get("response"))
        elif kind in ev.TERMINAL:
            self.terminal = kind  # type: ignore[assignment]  # kind is in TERMINAL
            self._snapshot(event.get("response"), final=kind)  # type: ignore[arg-type]
        elif kind == ev.ERROR:
            self.error_code, self.error_message = ev.error_details(event)
        return True

    def _delta(self, kind: str, event: ev.Event) -> str:
        """The delta's text, with a high surrogate at its end held back for the next delta of
        the same type, and one held from the last non-empty delta joined with this one's low
        half (or replaced by U+FFFD when it has none).  O(1): only the two ends are looked at."""
        delta = event.get("delta")
        if not isinstance(delta, str):
            delta = ""
        if not delta:  # empty (or not text): a held half waits for the next one
            event["delta"] = ""
            return ""
        held = self._held.pop(kind, None) if self._held else None
        starts_low = _LOW <= delta[:1] <= _LOW_END
        if held is not None:
            if starts_low:
                pair = (held + delta[0]).encode("utf-16", "surrogatepass").decode("utf-16")
                delta = pair + delta[1:]
            else:
                delta = "\ufffd" + delta
        elif starts_low:
            delta = "\ufffd" + delta[1:]
        if _SURROGATE_FIRST <= delta[-1:] <= _HIGH_END:
            self._held[kind] = delta[-1]
            delta = delta[:-1]
        event["delta"] = delta
        return delta

    def _snapshot(self, response: Any, *, final: str | None = None) -> None:
        if not isinstance(response, dict):
            return
        result = self.result
        result.id = _str(response.get("id")) or result.id
        result.model = _str(response.get("model")) or result.model
        result.status = _str(response.get("status")) or _STATUS.get(final or "", result.status)
        if not final:
            return
        result.response = response
        result.usage = clean_usage(response.get("usage"))
        result.error = _dict(response.get("error"))
        result.incomplete_details = _dict(response.get("incomplete_details"))
        output = response.get("output")
        items = [item for item in output if isinstance(item, dict)] if isinstance(
            output, list) else []
        if items:
            self._items = dict(enumerate(items))

    def _release_held(self) -> None:
        """A high surrogate still held when the stream ended has no pair: U+FFFD."""
        for kind in list(self._held):
            self._held.pop(kind)
            if kind == ev.TEXT_DELTA:
                self._text.append("\ufffd")
            elif kind == ev.SUMMARY_DELTA:
                self._summary.append("\ufffd")

    def finish(self, *, cut: bool = False) -> Result:
        """Close the fold and return the result.

        ``cut`` says the stream ended without a terminal event; the status then becomes
        ``cut`` (or stays ``failed`` when an ``error`` event came first).
        """
        self._release_held()
        result = self.result
        result.output = [self._items[i] for i in sorted(self._items)]
        text = output_text(result.output)
        # Items in the final snapshot carry the whole text; without one (cut, failed) the
        # deltas are all we have.
        result.text = text if (text or self.terminal) else self.text
        if not result.text and len(self._text):
            result.text = self.text
        result.reasoning_summary = "\n\n".join(_summaries(result.output)) or (
            self._summary.getvalue())
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


def _summaries(output: list[dict[str, Any]]) -> list[str]:
    """The non-empty summary texts of the reasoning items, in order (wrong types skipped)."""
    texts = []
    for item in output:
        parts = item.get("summary") if item.get("type") == "reasoning" else None
        for part in parts if isinstance(parts, list) else ():
            text = part.get("text") if isinstance(part, dict) else None
            if isinstance(text, str) and text:
                texts.append(text)
    return texts
