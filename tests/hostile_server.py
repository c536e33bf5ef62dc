"""A hostile HTTP server on loopback: each connection is handed to a script that may answer
anything, at any pace (a trickle, a header byte at a time, an endless stream, a gzip bomb, a
redirect, raw garbage), so the real client meets what broken gateways and attackers send.

Bounded by construction: scripts stop when the server closes (:attr:`Connection.open`) or
after :data:`MAX_SECONDS`, and the server only listens on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import functools
import json
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

MAX_SECONDS = 30.0  # no script runs longer, whatever it was asked to do


@dataclass
class Request:
    """What the client sent: the request line, the headers (lower-cased names), the body."""

    line: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    """One accepted connection, as a script sees it."""

    def __init__(self, sock: socket.socket, server: HostileServer) -> None:
        self.sock = sock
        self.server = server
        self.started = time.monotonic()

    @property
    def open(self) -> bool:
        """False once the server closes or the script ran :data:`MAX_SECONDS`."""
        return not self.server.closed and time.monotonic() - self.started < MAX_SECONDS

    def send(self, data: bytes) -> bool:
        """Write ``data``; False when the client has gone (the script should stop)."""
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def pause(self, seconds: float) -> None:
        time.sleep(seconds)

    def head(self, status: int = 200, headers: Iterable[tuple[str, str]] = (),
             reason: str = "OK") -> bool:
        lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers)]
        return self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def chunk(self, data: bytes) -> bool:
        """One chunk of a ``Transfer-Encoding: chunked`` body."""
        return self.send(b"%x\r\n%s\r\n" % (len(data), data)) if data else True

    def end_chunks(self) -> bool:
        return self.send(b"0\r\n\r\n")


Script = Callable[[Connection, Request], None]


@dataclass
class HostileServer:
    """Serves every connection with ``script`` (replace it between requests at will)."""

    script: Script
    requests: list[Request] = field(default_factory=list)
    closed: bool = False

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}/v1"

    def _accept(self) -> None:
        while not self.closed:
            try:
                sock, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        with sock:
            sock.settimeout(10)
            try:
                request = _read_request(sock)
            except (OSError, ValueError):
                return
            self.requests.append(request)
            with contextlib.suppress(OSError):  # the client went away mid-answer
                self.script(Connection(sock, self), request)

    def close(self) -> None:
        self.closed = True
        self._listener.close()
        self._thread.join(2)

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _read_request(sock: socket.socket) -> Request:
    data = b""
    while b"\r\n\r\n" not in data:
        got = sock.recv(65536)
        if not got:
            raise ValueError("no request")
        data += got
    head, _, body = data.partition(b"\r\n\r\n")
    line, *rest = head.decode("latin-1").split("\r\n")
    headers = {}
    for raw in rest:
        name, _, value = raw.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    while len(body) < length:
        got = sock.recv(65536)
        if not got:
            break
        body += got
    return Request(line, headers, body)


# -- pieces of answers ----------------------------------------------------------------------

# "connection: close" as the server does close after each answer: without it the client may
# reuse a connection the server is closing, and fail the next request for the test's sake.
SSE_HEAD = [("content-type", "text/event-stream"), ("transfer-encoding", "chunked"),
            ("connection", "close")]


def sse(event: dict[str, Any]) -> bytes:
    """One event as it goes on the wire."""
    return f"event: {event.get('type', 'message')}\ndata: {json.dumps(event)}\n\n".encode()


def delta(text: str) -> dict[str, Any]:
    return {"type": "response.output_text.delta", "output_index": 0, "content_index": 0,
            "delta": text}


def completed(text: str, **response: Any) -> dict[str, Any]:
    """A ``response.completed`` whose output holds ``text``."""
    body = {
        "id": "resp_hostile", "object": "response", "status": "completed", "model": "hostile",
        "output": [{"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                    "content": [{"type": "output_text", "text": text, "annotations": []}]}],
        "usage": {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5},
    }
    body.update(response)
    return {"type": "response.completed", "response": body}


def stream_of(*events: dict[str, Any]) -> Script:
    """A script that streams ``events`` in one chunk each, then ends the body."""

    def script(conn: Connection, _request: Request) -> None:
        conn.head(200, SSE_HEAD)
        for event in events:
            conn.chunk(sse(event))
        conn.end_chunks()

    return script


def answer(status: int, body: bytes, headers: Iterable[tuple[str, str]] = (),
           reason: str = "OK") -> Script:
    """A script that sends one whole answer with a Content-Length."""

    def script(conn: Connection, _request: Request) -> None:
        conn.head(status, [*headers, ("content-length", str(len(body))),
                           ("connection", "close")], reason)
        conn.send(body)

    return script


@functools.lru_cache(maxsize=4)
def gzip_bomb(megabytes: int) -> bytes:
    """``megabytes`` MB of zeros, gzip-compressed (about a thousandth of that on the wire)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(2**20)
    parts = [packer.compress(block) for _ in range(megabytes)]
    return b"".join(parts) + packer.flush()
