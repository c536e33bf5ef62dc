"""Reading one answer's body: SSE events folded as they come, or one whole JSON Response.

Shared by the sync and async clients (they differ only in how chunks arrive).  Every body is
bounded: bytes are counted against ``max_answer_bytes`` after decompression (an endless stream
or a gzip bomb stops with one line, keeping what was shown), an error body is read only as far
as a one-line message needs, and after a cancel the reader stops at the next chunk.  The first
bytes are kept while no event has come, so a gateway that labels a whole JSON answer (or an
HTML page) as an event stream is understood, or named, instead of looking cut short.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from agcloud_magic.errors import (
    AGCloudError,
    AnswerTooLargeError,
    RequestInterrupted,
    redact,
    request_id_from,
)
from agcloud_magic.http import deadline
from agcloud_magic.http.cancel import Cancellation
from agcloud_magic.http.failures import Failures
from agcloud_magic.wire import events as ev
from agcloud_magic.wire.accumulator import Accumulator
from agcloud_magic.wire.outcome import conclude, whole_response
from agcloud_magic.wire.result import Result
from agcloud_magic.wire.sse import ServerSentEvent, SSEParser

__all__ = ["ERROR_BODY_LIMIT", "EventCallback", "Reading", "aerror_body", "error_body"]

EventCallback = Callable[[ev.Event], None]

# An error body is quoted in one line: a megabyte is far more than any server's message, and
# a bound keeps an endless or bombed error body from filling memory.
ERROR_BODY_LIMIT = 2**20


def error_body(response: httpx.Response) -> bytes:
    """The start of an error answer's body (``b""`` if it does not decode)."""
    body = bytearray()
    try:
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) >= ERROR_BODY_LIMIT:
                break
    except httpx.DecodingError:
        return b""
    return bytes(body[:ERROR_BODY_LIMIT])


async def aerror_body(response: httpx.Response) -> bytes:
    """Async :func:`error_body`."""
    body = bytearray()
    try:
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) >= ERROR_BODY_LIMIT:
                break
    except httpx.DecodingError:
        return b""
    return bytes(body[:ERROR_BODY_LIMIT])


def _fold(acc: Accumulator, sses: Iterable[ServerSentEvent],
          on_event: EventCallback | None) -> int:
    """Fold ``sses`` and pass on what is shown; returns how many were passed on."""
    count = 0
    for sse in sses:
        # Folded first (which also normalises its delta), then shown; None: not shown
        # (``[DONE]``, garbage, anything after the terminal event).
        event = acc.feed_sse(sse)
        if event is None:
            continue
        count += 1
        if on_event is not None:
            on_event(event)
    return count


class Reading:
    """One answer being read (see the module docstring); feed it with :meth:`take`, end it
    with :meth:`end`, or turn what interrupted it into the error to raise."""

    def __init__(self, response: httpx.Response, body: dict[str, Any], *, failures: Failures,
                 on_event: EventCallback | None, started: float,
                 cancel: Cancellation | None = None) -> None:
        self.response = response
        self.failures = failures
        self.settings = failures.settings
        # SSE only if we asked for a stream and did not get plain JSON (a gateway that
        # ignores ``stream: true`` answers with the whole Response).
        kind = response.headers.get("content-type", "")
        self.streamed = bool(body.get("stream")) and not kind.startswith("application/json")
        self.on_event = on_event
        self.started = started
        self.cancel = cancel
        self.acc = Accumulator()
        self.parser = SSEParser()
        self.received = 0
        self.events = 0
        self.head = bytearray()  # the body so far, while no event came (bounded by the cap)

    def take(self, chunk: bytes) -> None:
        """Count and fold one chunk of the (decompressed) body."""
        if self.cancel is not None and self.cancel.cancelled:
            # A shut-down socket still hands over what its receive buffer holds (megabytes
            # on loopback): parsing that for nobody held the GIL a quarter of a second.
            raise self._interrupted()
        self.received += len(chunk)
        if self.received > self.settings.max_answer_bytes:
            raise self.failures.too_large(self.acc.finish(cut=True))
        if not self.streamed or not self.events:
            self.head += chunk
        if self.streamed:
            self.events += self._feed(chunk)

    def _feed(self, chunk: bytes) -> int:
        try:
            sses = self.parser.feed(chunk)
        except AnswerTooLargeError as exc:
            # Fold (and show) what came before the oversized line, then stop with it kept.
            _fold(self.acc, getattr(exc, "events", ()), self.on_event)
            exc.partial = self.acc.finish(cut=True)
            raise
        return _fold(self.acc, sses, self.on_event)

    def _interrupted(self) -> RequestInterrupted:
        """Cancelled: what was folded so far is the partial answer (deltas collect in text
        buffers, so this stays cheap however much came)."""
        partial = self.acc.finish(cut=True)
        partial.status = "interrupted"
        return RequestInterrupted("Interrupted: the request was cancelled.", partial=partial)

    def timed_out(self, exc: Exception) -> AGCloudError:
        """The error for a timeout mid-answer: the deadline's, or the silence's."""
        if deadline.passed():
            return self.failures.deadline(self.acc.finish(cut=True))
        if not self.streamed:
            return self.failures.transport(exc)
        return self.failures.stalled(self.acc.finish(cut=True))

    def not_decodable(self, exc: Exception) -> AGCloudError:
        """The error for a body that stopped decoding."""
        return self.failures.not_decodable(exc, self.acc.finish(cut=True))

    def dropped(self, exc: Exception) -> None:
        """The connection dropped mid-answer: a whole answer cannot be used."""
        if self.cancel is not None and self.cancel.cancelled:
            raise self._interrupted() from None
        if not self.streamed:
            raise self.failures.transport(exc) from None

    def end(self) -> Result:
        """The result of the whole body, or the error saying what was wrong with it."""
        acc = self.acc
        if not self.streamed or (not self.events and self.head.lstrip()[:1] in (b"{", b"<")):
            acc = self._whole(bytes(self.head))
        secret = self.settings.api_key
        # The request id is the server's header, kept on the result: it may echo the key too.
        request_id = request_id_from(self.response.headers)
        request_id = None if request_id is None else redact(request_id, secret)
        return conclude(acc, elapsed=time.monotonic() - self.started, request_id=request_id,
                        secret=secret)

    def _whole(self, data: bytes) -> Accumulator:
        """The accumulator of a whole JSON answer, or the error saying what came instead."""
        acc = whole_response(data)
        if acc.terminal is None:
            looks_html = data.lstrip()[:1] == b"<" or "html" in self.response.headers.get(
                "content-type", "")
            raise self.failures.not_the_api(
                self.response, "an HTML page" if looks_html else
                "something other than a JSON Response")
        return acc
