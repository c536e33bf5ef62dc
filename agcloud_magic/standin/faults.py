"""Injected faults: what each one does to the next request, and how it reshapes a stream."""

from __future__ import annotations

import collections
import copy
import threading
from dataclasses import dataclass, field
from typing import Any

from .common import ApiError
from .events import StreamEvent

__all__ = [
    "STREAM_ONLY", "Fault", "FaultInjection", "fault_error", "number_events", "shape_stream",
]

# Faults that only make sense on an SSE stream; on a non-streaming request they give a 500
# naming the mismatch, because silently ignoring them would hide a test written wrongly.
STREAM_ONLY = frozenset(
    {"drip", "stall_after", "cut_after", "error_mid_stream", "fail_in_stream", "ignore_stream"}
)

# status -> (OpenAI error type, code, message, AGCloud-style type)
_DEFAULTS: dict[int, tuple[str, str | None, str, str]] = {
    400: ("invalid_request_error", None, "Bad request.", "invalid_request_error"),
    401: ("invalid_request_error", "invalid_api_key",
          "Incorrect API key provided.", "authentication_error"),
    402: ("insufficient_quota", "insufficient_quota",
          "Your account balance is not enough. Please top up in the Dashboard.", "billing_error"),
    403: ("permission_denied", "permission_denied",
          "You have exceeded your allocated usage quota or may not use this model.",
          "permission_error"),
    404: ("invalid_request_error", "model_not_found",
          "The model does not exist or you do not have access to it.", "not_found_error"),
    408: ("timeout", "timeout", "Request timed out.", "timeout_error"),
    409: ("conflict", "conflict", "Conflict.", "conflict_error"),
    422: ("invalid_request_error", "unprocessable_entity", "Unprocessable entity.",
          "invalid_request_error"),
    429: ("requests", "rate_limit_exceeded",
          "Rate limit reached for requests. Please try again in 1s.", "rate_limit_error"),
    500: ("server_error", "server_error",
          "The server had an error while processing your request.", "api_error"),
    502: ("server_error", "bad_gateway", "Bad gateway.", "api_error"),
    503: ("server_error", "service_unavailable",
          "The server is overloaded or not ready yet.", "overloaded_error"),
    504: ("server_error", "timeout", "Gateway timeout.", "api_error"),
}
_INJECTED = " (injected by the offline stand-in)"


@dataclass
class Fault:
    """A queued fault: ``kind`` is the StandinServer method that queued it."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    remaining: int = 1


class FaultInjection:
    """The fault-injection half of :class:`~agcloud_magic.standin.StandinServer`.

    Each queued fault applies to the next request that arrives (FIFO), ``times=N`` to the next
    N requests.
    """

    _lock: threading.Lock
    _faults: collections.deque[Fault]

    def _queue(self, kind: str, times: int, **params: Any) -> None:
        if not isinstance(times, int) or times < 1:
            raise ValueError("times must be a positive integer")
        with self._lock:
            self._faults.append(Fault(kind, params, times))

    def fail_next(
        self, status: int, *, retry_after: float | None = None, retry_after_ms: int | None = None,
        code: str | None = None, message: str | None = None, error_type: str | None = None,
        style: str = "openai", times: int = 1,
    ) -> None:
        """Answer the next request(s) with HTTP ``status`` and a JSON error body.

        ``retry_after`` sets ``Retry-After`` (seconds), ``retry_after_ms`` sets
        ``retry-after-ms``; ``style="agcloud"`` uses ``{"type":"error","error":{type,message}}``.
        """
        if not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        if style not in ("openai", "agcloud"):
            raise ValueError("style must be 'openai' or 'agcloud'")
        self._queue("fail_next", times, status=status, retry_after=retry_after,
                    retry_after_ms=retry_after_ms, code=code, message=message,
                    error_type=error_type, style=style)

    def slow_first_byte(self, seconds: float, times: int = 1) -> None:
        """Sleep ``seconds`` before sending the status line of the next request(s)."""
        self._queue("slow_first_byte", times, seconds=max(0.0, float(seconds)))

    def drip(self, seconds_per_event: float, times: int = 1) -> None:
        """Sleep between SSE events of the next streamed request(s) (overrides token_delay)."""
        self._queue("drip", times, seconds=max(0.0, float(seconds_per_event)))

    def stall_after(self, n_events: int, seconds: float, times: int = 1) -> None:
        """Send ``n_events`` events, then pause ``seconds`` before the rest (a server that
        stalls mid-stream: past the client's read timeout, the client gives up)."""
        self._queue("stall_after", times, n_events=int(n_events), seconds=max(0.0, float(seconds)))

    def ignore_stream(self, times: int = 1) -> None:
        """Answer the next streamed request(s) with the whole Response as JSON
        (``Content-Type: application/json``), like a gateway that ignores ``stream: true``."""
        self._queue("ignore_stream", times)

    def cut_after(self, n_events: int, times: int = 1, *, clean: bool = False) -> None:
        """Send ``n_events`` events, then drop the connection with no terminal event.

        By default the chunked body is left unterminated (httpx raises RemoteProtocolError,
        like a network drop); ``clean=True`` ends the body properly, like a proxy that closes
        the stream early.
        """
        self._queue("cut_after", times, n_events=int(n_events), clean=clean)

    def error_mid_stream(
        self, after_events: int = 3, *, shape: str = "nested", code: str = "server_error",
        message: str = "The server had an error while processing your request "
                       "(injected by the offline stand-in).",
        then_failed: bool = True, error_type: str | None = None, times: int = 1,
    ) -> None:
        """After ``after_events`` events send an ``error`` event (``nested`` as OpenAI sends it,
        or ``flat`` as the spec documents it), then ``response.failed`` if ``then_failed``."""
        if shape not in ("nested", "flat"):
            raise ValueError("shape must be 'nested' or 'flat'")
        self._queue("error_mid_stream", times, after_events=int(after_events), shape=shape,
                    code=code, message=message, then_failed=then_failed, error_type=error_type)

    def fail_in_stream(
        self, after_events: int = 2, code: str = "insufficient_quota",
        message: str = "You exceeded your current quota, please check your plan and billing "
                       "details (injected by the offline stand-in).",
        times: int = 1,
    ) -> None:
        """After ``after_events`` events send ``response.failed`` alone (HTTP status stays 200)."""
        self._queue("fail_in_stream", times, after_events=int(after_events), code=code,
                    message=message)


def fault_error(params: dict[str, Any]) -> ApiError:
    """The HTTP error a ``fail_next`` fault answers with (body and Retry-After headers)."""
    status = params["status"]
    family = status if status in _DEFAULTS else (500 if status >= 500 else 400)
    openai_type, code, message, agcloud_type = _DEFAULTS[family]
    style = params.get("style", "openai")
    headers = {}
    if params.get("retry_after") is not None:
        value = params["retry_after"]
        headers["Retry-After"] = str(int(value)) if float(value).is_integer() else str(value)
    if params.get("retry_after_ms") is not None:
        headers["retry-after-ms"] = str(params["retry_after_ms"])
    default_type = agcloud_type if style == "agcloud" else openai_type
    return ApiError(
        status,
        params.get("message") or message + _INJECTED,
        error_type=params.get("error_type") or default_type,
        code=params.get("code") or code,
        style=style,
        headers=headers,
    )


def _failed(
    snapshot: dict[str, Any], sent: list[StreamEvent], code: str, message: str
) -> StreamEvent:
    response = copy.deepcopy(snapshot)
    response.update(
        status="failed",
        error={"code": code, "message": message},
        incomplete_details=None,
        # Items finished before the failure stay visible, like in the final snapshot of 4.4 #3.
        output=[e.data["item"] for e in sent if e.type == "response.output_item.done"],
        usage=None,
    )
    return StreamEvent("response.failed",
                       {"type": "response.failed", "sequence_number": 0, "response": response})


def _error_event(shape: str, code: str, message: str, error_type: str | None) -> StreamEvent:
    if shape == "flat":  # the shape the spec documents
        data = {"type": "error", "code": code, "message": message, "param": None,
                "sequence_number": 0}
    else:  # the shape OpenAI actually sends (fixture stream-error-insufficient-quota.jsonl)
        data = {"type": "error", "sequence_number": 0,
                "error": {"type": error_type or code, "code": code, "message": message,
                          "param": None}}
    return StreamEvent("error", data)


def shape_stream(
    events: list[StreamEvent], fault: Fault | None, snapshot: dict[str, Any]
) -> tuple[list[StreamEvent], bool]:
    """Apply a stream fault; return the events to send and whether to drop the connection.

    The terminal event is never part of the ``n`` events kept, so ``after_events``/``n_events``
    larger than the stream simply put the fault where the terminal event would have been.
    """
    if fault is None or fault.kind not in ("cut_after", "error_mid_stream", "fail_in_stream"):
        return events, False
    p = fault.params
    n = p.get("n_events", p.get("after_events", 0))
    sent = events[: max(0, min(n, len(events) - 1))]
    if fault.kind == "cut_after":
        return sent, True
    last = next((e.data["response"] for e in reversed(sent) if "response" in e.data), snapshot)
    if fault.kind == "fail_in_stream":
        return [*sent, _failed(last, sent, p["code"], p["message"])], False
    tail = [_error_event(p["shape"], p["code"], p["message"], p.get("error_type"))]
    if p["then_failed"]:
        tail.append(_failed(last, sent, p["code"], p["message"]))
    return [*sent, *tail], False


def number_events(events: list[StreamEvent]) -> None:
    """Give generated events consecutive sequence numbers; replayed ones keep theirs."""
    previous = -1
    for event in events:
        if event.raw is None:
            event.data["sequence_number"] = previous + 1
        previous = event.data.get("sequence_number", previous + 1)
