"""Server-sent events: bytes in, ``(event, data)`` pairs out.

Why not httpx-sse: measured side by side (``bench/bench_client.py``) the two cost the same
for a 500-token answer, so speed is no reason either way.  We keep this parser because it fits
the design better: it is pure (bytes in, events out, no httpx), so the core is tested without a
network, including hypothesis tests over arbitrary byte chunkings; it does not refuse a stream
whose ``Content-Type`` a gateway mislabelled (httpx-sse raises on anything but
``text/event-stream``); and moving to another HTTP library stays a one-module change.

It decodes each complete line once (a line never ends inside a UTF-8 sequence, so chunk
boundaries inside a character are harmless) and follows the WHATWG rules that matter here:
``\\r\\n``, ``\\r`` or ``\\n`` line ends, comment lines, multi-line ``data`` joined with
``\\n``, a missing ``event:`` line meaning ``message``, a single optional space after the
colon, unknown fields ignored, and a final event without a trailing blank line dropped (as the
spec says).

It is linear in the bytes fed: only the new chunk is searched for line ends, and the pieces of
a line still open are kept in a list and joined once, when its end arrives (joining the whole
buffer to every chunk made one 50 MB event cost 66 s).  Its memory is bounded by two caps, a
line's and an event's (see :class:`SSEParser`); past one it raises
:class:`~agcloud_magic.errors.AnswerTooLargeError`.
"""

from __future__ import annotations

from typing import NamedTuple, NoReturn

from agcloud_magic.errors import AnswerTooLargeError

__all__ = ["SSEParser", "ServerSentEvent"]

_MIB = 1 << 20


class ServerSentEvent(NamedTuple):
    """One dispatched event: its ``event`` name (default ``message``), ``data`` and ``id``."""

    event: str
    data: str
    id: str | None = None


class SSEParser:
    """Incremental parser; call :meth:`feed` with each chunk of bytes as it arrives.

    ``max_line`` caps one line (bytes, without its line end) and ``max_event`` the ``data``
    lines of one event together.  The Responses API puts each event on one ``data:`` line of
    JSON, so the line cap is what bounds a real event: the largest one is
    ``response.completed``, which repeats the whole output.  Text is small (128k output
    tokens are ~0.5 MB), base64 images are a few MB each; 32 MiB leaves ten times that, and is
    still a size a kernel parses into objects (a few times larger) without trouble.  The
    event cap, twice that, bounds a proxy that re-wraps a line into many ``data:`` lines.
    """

    MAX_LINE = 32 * _MIB
    MAX_EVENT = 64 * _MIB

    __slots__ = (
        "_data", "_event", "_event_size", "_id", "_pending", "_pending_cr", "_pending_len",
        "max_event", "max_line",
    )

    def __init__(self, *, max_line: int | None = None, max_event: int | None = None) -> None:
        self.max_line = self.MAX_LINE if max_line is None else max_line
        self.max_event = self.MAX_EVENT if max_event is None else max_event
        self._pending: list[bytes] = []  # pieces of the line still open, joined at its end
        self._pending_len = 0
        self._pending_cr = False
        self._event = ""
        self._data: list[str] = []
        self._event_size = 0
        self._id: str | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Parse ``chunk`` and return the events it completed (possibly none)."""
        if not chunk:
            return []
        if self._pending_cr:
            # A lone "\r" ended the last chunk: it was a line end, and a "\n" right after it
            # belongs to the same line end.
            self._pending_cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if b"\r" in chunk:
            # Only the "\r" | "\n" pair can straddle chunks, and the flag above joins it.
            self._pending_cr = chunk.endswith(b"\r")
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = chunk.split(b"\n")
        rest = lines.pop()  # the start of a line not ended yet ("" after a line end)
        # No line can be longer than the chunk plus what was pending: most chunks skip the
        # per-line length check.
        check = len(chunk) + self._pending_len > self.max_line
        if lines and self._pending:
            lines[0] = b"".join([*self._pending, lines[0]])
            self._pending, self._pending_len = [], 0
        long = None
        if check:
            long = next((i for i, line in enumerate(lines) if len(line) > self.max_line), None)
        if long is None:
            self._pending_len += len(rest)
            if self._pending_len <= self.max_line:
                if rest:
                    self._pending.append(rest)
                return self._lines(lines) if lines else []
            long = len(lines)
        # The events completed before the long line still count (they are the answer so far).
        done = self._lines(lines[:long])
        self._too_large("line", self.max_line, done)

    def _lines(self, lines: list[bytes]) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        data = self._data
        for raw in lines:
            if not raw:
                if data:
                    events.append(
                        ServerSentEvent(self._event or "message", "\n".join(data), self._id)
                    )
                    data = self._data = []
                    self._event_size = 0
                self._event = ""
            elif raw.startswith(b"data:"):
                # The hot path (every event has one): no per-line function call.
                value = raw[6:] if raw[5:6] == b" " else raw[5:]
                self._event_size += len(value) + 1
                if self._event_size > self.max_event:
                    self._too_large("event", self.max_event, events)
                data.append(value.decode("utf-8", "replace"))
            elif raw.startswith(b"event:"):
                value = raw[7:] if raw[6:7] == b" " else raw[6:]
                self._event = value.decode("utf-8", "replace")
            elif raw[:1] != b":":  # ":" starts a comment (keep-alive)
                self._field(raw.decode("utf-8", "replace"))
        return events

    @staticmethod
    def _too_large(what: str, limit: int, done: list[ServerSentEvent]) -> NoReturn:
        """Raise for a line or event past its cap; ``events`` on the error are the events this
        chunk completed before it, which the caller folds before it reports the error."""
        # The parser's state is past repair (half a line, or half an event, is dropped):
        # the read ends here.
        error = AnswerTooLargeError(
            f"The server sent an SSE {what} of more than {limit:,} bytes, the limit of one "
            f"{what}; the stream was stopped there and the answer so far is kept."
        )
        error.events = done  # type: ignore[attr-defined]
        raise error

    def _field(self, line: str) -> None:
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        # "retry" and unknown fields: nothing to do for a one-shot request.
