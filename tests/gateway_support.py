"""A tiny loopback server that replays raw HTTP captures (status line, headers, body), and
hangs up on purpose, so the real client meets what real gateways put on the wire.

The captures under ``tests/reference/fixtures/gateways/`` were written after the gateway's own
framing was undone (a ``Transfer-Encoding: chunked`` header over a plain body, a
``Content-Length`` that may not match), so the framing is redone here: those two headers are
dropped, and the body goes out with a fresh ``Content-Length`` or, for an event stream, chunked
with one chunk per event, as a proxy streams it.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .helpers import REFERENCE

GATEWAYS = REFERENCE / "fixtures" / "gateways"

# What the replay server does instead of answering (the request has been read in full).
HANG_UP = "hang up"  # close the socket: the client sees EOF, no status line
RESET = "reset"  # close with SO_LINGER 0: the client sees a TCP reset


@dataclass
class Capture:
    """One raw HTTP response: what a gateway sent, framing aside."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def parse_capture(raw: bytes) -> Capture:
    """A capture's status, headers and body; a bare body (no status line) is a 200 stream."""
    if not raw.startswith(b"HTTP/"):
        return Capture(200, "OK", [("content-type", "text/event-stream")], raw)
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        head, _, body = raw.partition(b"\n\n")
    lines = head.decode("latin-1").splitlines()
    _, status, reason = [*lines[0].split(" ", 2), ""][:3]
    headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:] if line]
    return Capture(int(status), reason, headers, body)  # type: ignore[arg-type]


def capture(name: str) -> Capture:
    """The ``.raw`` capture ``name`` (without the suffix)."""
    return parse_capture((GATEWAYS / f"{name}.raw").read_bytes())


def error_captures() -> dict[str, Capture]:
    """The sections of ``litellm_error_bodies.txt``, by their ``== title``."""
    text = (GATEWAYS / "litellm_error_bodies.txt").read_bytes()
    out: dict[str, Capture] = {}
    for section in text.split(b"== ")[1:]:
        title, _, raw = section.partition(b"\n")
        found = parse_capture(raw.strip(b"\r\n") + b"\n")
        found.body = found.body.strip()
        out[title.decode().strip()] = found
    return out


@dataclass
class ReplayServer:
    """Answers each POST (or GET) with the next queued :class:`Capture` (or :data:`HANG_UP`,
    :data:`RESET`); the last one is repeated when the queue runs dry.  ``bodies`` keeps every
    request body received, in order."""

    queue: deque[Capture | str] = field(default_factory=deque)
    bodies: list[bytes] = field(default_factory=list)
    # False: bind the port but refuse connections until :meth:`listen` (nothing is sent).
    listening: bool = True

    def __post_init__(self) -> None:
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                replay.bodies.append(self.rfile.read(int(self.headers["content-length"] or 0)))
                replay.answer(self)

            def do_GET(self) -> None:  # GET /models: no body
                replay.bodies.append(b"")
                replay.answer(self)

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
        self._server.daemon_threads = True
        self._server.server_bind()
        self._thread: threading.Thread | None = None
        if self.listening:
            self.listen()

    def listen(self) -> None:
        """Start accepting connections (a bound port that does not listen refuses them)."""
        self._server.server_activate()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def push(self, *answers: Capture | str) -> ReplayServer:
        """Queue answers for the next requests."""
        self.queue.extend(answers)
        return self

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        """Send the next queued answer on ``handler``'s connection, then close it."""
        item = self.queue.popleft() if len(self.queue) > 1 else self.queue[0]
        handler.close_connection = True
        sock = handler.connection
        if item == RESET:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        if isinstance(item, str):
            sock.close()
            return
        wfile = handler.wfile
        chunked = (item.header("content-type") or "").startswith("text/event-stream")
        head = [f"HTTP/1.1 {item.status} {item.reason}"]
        head += [f"{k}: {v}" for k, v in item.headers
                 if k.lower() not in ("transfer-encoding", "content-length", "connection")]
        head.append("transfer-encoding: chunked" if chunked else f"content-length: "
                    f"{len(item.body)}")
        head.append("connection: close")
        wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        if not chunked:
            wfile.write(item.body)
        else:
            for event in item.body.split(b"\n\n"):
                if event.strip():
                    chunk = event + b"\n\n"
                    wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    wfile.flush()
            wfile.write(b"0\r\n\r\n")
        wfile.flush()

    def close(self) -> None:
        """Stop serving and close the listening socket."""
        if self._thread is not None:
            self._server.shutdown()
        self._server.server_close()

