"""A loopback server that answers batch requests deterministically (built on HostileServer).

Each request's prompt (its input texts joined) goes to ``reply(prompt, body)``, which returns:

- a dict: the ``record_row`` function call's arguments (JSON-encoded as the API does);
- a str: a text answer (the no-schema case), or with ``raw=True`` the arguments text verbatim;
- :class:`Fail`: an HTTP error with the API's error body;
- :class:`Hang`: no answer until the server closes (to interrupt a job mid-way);
- :class:`Cut`: a stream that ends before the response completes.

A multi-row request (its forced tool's parameters have ``rows``) is answered row by row: each
``### row <id>`` block's text goes to ``reply`` and the dicts come back as ``{"rows": [{"id":
<id>, ...}, ...]}``; :class:`Drop` leaves that row out of the answer, and a :class:`Fail` (or
:class:`Hang`) of any row is the whole request's.

``requests`` counts what reached the server, so dedupe and the cache can be checked.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .hostile_server import SSE_HEAD, Connection, HostileServer, Request, answer, sse


@dataclass
class Fail:
    """Answer with an HTTP error."""

    status: int
    message: str = "bad row"
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class Raw:
    """Answer a function call whose arguments are this text, verbatim (e.g. not JSON)."""

    arguments: str


@dataclass
class Drop:
    """In a multi-row request: leave this row out of the answer."""


@dataclass
class Hang:
    """Never answer (until the server closes)."""


@dataclass
class Cut:
    """Start a streamed answer, then end the stream before the response completes."""


def prompt_of(body: dict[str, Any]) -> str:
    """The request's input texts, joined by newlines."""
    value = body.get("input")
    if isinstance(value, str):
        return value
    texts = []
    for item in value or ():
        content = item.get("content")
        if isinstance(content, str):
            texts.append(content)
            continue
        texts.extend(part.get("text", "") for part in content or () if isinstance(part, dict))
    return "\n".join(texts)


ROW_LINE = re.compile(r"^### row (\S+)$", re.MULTILINE)


def is_multi_row(body: dict[str, Any]) -> bool:
    """Whether the forced tool wraps rows (the batch client's many-rows-per-request shape)."""
    tools = body.get("tools") or [{}]
    return "rows" in (tools[0].get("parameters") or {}).get("properties", {})


def row_blocks(prompt: str) -> list[tuple[str, str]]:
    """``(id, text)`` of each ``### row <id>`` block of a multi-row prompt."""
    parts = ROW_LINE.split(prompt)[1:]  # [id, text, id, text, ...]
    return [(parts[i], parts[i + 1].strip("\n")) for i in range(0, len(parts), 2)]


def response_with(item: dict[str, Any]) -> dict[str, Any]:
    """A completed Response holding ``item``."""
    return {
        "id": "resp_batch", "object": "response", "status": "completed", "model": "batch",
        "output": [item], "usage": {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5},
    }


class BatchServer:
    """Answers each request with ``reply(prompt, body)``; see the module docstring."""

    def __init__(self, reply: Callable[[str, dict[str, Any]], Any]) -> None:
        self.reply = reply
        self.bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.server = HostileServer(self._script)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def count(self) -> int:
        """Requests that reached the server."""
        return len(self.bodies)

    def prompts(self) -> list[str]:
        return [prompt_of(body) for body in self.bodies]

    def _script(self, conn: Connection, request: Request) -> None:
        body = request.json()
        with self._lock:
            self.bodies.append(body)
        outcome = self._multi(body) if is_multi_row(body) else self.reply(prompt_of(body), body)
        if isinstance(outcome, Hang):
            while conn.open:
                conn.pause(0.05)
            return
        if isinstance(outcome, Cut):
            conn.head(200, SSE_HEAD)
            conn.chunk(sse({"type": "response.created", "response": {
                **response_with({}), "status": "in_progress", "output": []}}))
            conn.end_chunks()
            return
        if isinstance(outcome, Fail):
            error = {"error": {"message": outcome.message, "type": "invalid_request_error",
                               "code": None, "param": None}}
            answer(outcome.status, json.dumps(error).encode(),
                   [("content-type", "application/json"), *outcome.headers])(conn, request)
            return
        if isinstance(outcome, str):
            item: dict[str, Any] = {
                "type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                "content": [{"type": "output_text", "text": outcome, "annotations": []}]}
        else:
            arguments = outcome.arguments if isinstance(outcome, Raw) else json.dumps(outcome)
            item = {"type": "function_call", "id": "fc_1", "call_id": "call_1",
                    "name": "record_row", "arguments": arguments, "status": "completed"}
        response = response_with(item)
        if body.get("stream", True):
            conn.head(200, SSE_HEAD)
            conn.chunk(sse({"type": "response.created", "response": {**response,
                            "status": "in_progress", "output": []}}))
            conn.chunk(sse({"type": "response.completed", "response": response}))
            conn.end_chunks()
        else:
            answer(200, json.dumps(response).encode(),
                   [("content-type", "application/json")])(conn, request)

    def _multi(self, body: dict[str, Any]) -> Any:
        rows = []
        for row_id, text in row_blocks(prompt_of(body)):
            value = self.reply(text, body)
            if isinstance(value, (Fail, Hang, Cut)):
                return value
            if isinstance(value, dict):
                rows.append({"id": row_id, **value})
        return {"rows": rows}

    def close(self) -> None:
        self.server.close()

    def __enter__(self) -> BatchServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
