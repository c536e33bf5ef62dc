"""Event streams a hostile (or just broken) server sends, as raw SSE bytes, and a replay
server that answers every request with one of them."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

from .gateway_support import Capture, ReplayServer

USAGE = {"input_tokens": 3, "output_tokens": 5, "total_tokens": 8,
         "input_tokens_details": {"cached_tokens": 0},
         "output_tokens_details": {"reasoning_tokens": 0}}


def sse(*events: Any) -> bytes:
    """``data:`` lines of the events (dicts are JSON-encoded with ASCII escapes, so a lone
    surrogate goes out as ``\\udXXX``, as a UTF-16 gateway writes it; bytes go out as they
    are)."""
    out = []
    for event in events:
        data = event if isinstance(event, bytes) else json.dumps(event).encode()
        out.append(b"data: " + data + b"\n\n")
    return b"".join(out)


def message(text: Any) -> dict[str, Any]:
    """A message output item with one ``output_text`` part."""
    return {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}


def response(text: Any = "", **fields: Any) -> dict[str, Any]:
    """A completed Response with ``text`` as its one message (``fields`` override)."""
    body = {"id": "resp_1", "object": "response", "model": "echo", "status": "completed",
            "output": [message(text)], "usage": USAGE}
    body.update(fields)
    return body


def answer(deltas: list[Any], final: Any = None, **fields: Any) -> list[dict[str, Any]]:
    """The events of one answer: created, the text deltas, the completed response (whose text
    is ``final``, by default the deltas joined)."""
    if final is None:
        final = "".join(d for d in deltas if isinstance(d, str))
    head = {"id": "resp_1", "object": "response", "model": "echo", "status": "in_progress"}
    events: list[dict[str, Any]] = [{"type": "response.created", "response": head}]
    events += [{"type": "response.output_text.delta", "output_index": 0, "content_index": 0,
                "delta": d} for d in deltas]
    events.append({"type": "response.completed", "response": response(final, **fields)})
    return events


def stream_capture(body: bytes) -> Capture:
    """A 200 event-stream answer with ``body``."""
    return Capture(200, "OK", [("content-type", "text/event-stream")], body)


@contextlib.contextmanager
def replaying(body: bytes) -> Iterator[ReplayServer]:
    """A replay server answering every request with the event stream ``body``."""
    server = ReplayServer()
    server.push(stream_capture(body))
    try:
        yield server
    finally:
        server.close()


class KernelPublisher:
    """Keeps every display bundle with its metadata, serialised first as ipykernel's session
    does (JSON that is not ASCII-only, then UTF-8), so what a kernel cannot send (a lone
    surrogate) fails here as it fails in a kernel."""

    def __init__(self) -> None:
        self.sent: list[tuple[dict[str, str], dict | None]] = []

    def display(self, data: dict[str, str], metadata: dict | None = None) -> Any:
        publisher = self

        class Handle:
            def update(self, data: dict[str, str], metadata: dict | None = None) -> None:
                publisher.send(data, metadata)

        self.send(data, metadata)
        return Handle()

    def send(self, data: dict[str, str], metadata: dict | None) -> None:
        json.dumps({"data": data, "metadata": metadata}, ensure_ascii=False).encode("utf-8")
        self.sent.append((dict(data), metadata))

    @property
    def shown(self) -> list[dict[str, str]]:
        """Every bundle sent, in order."""
        return [data for data, _meta in self.sent]

    @property
    def final(self) -> dict[str, str]:
        """The final bundle: the one with the metadata (earlier displays are emptied after
        it); ``{}`` when the cell showed none."""
        finals = [data for data, meta in self.sent if meta and "agcloud_magic" in meta]
        return finals[-1] if finals else {}

