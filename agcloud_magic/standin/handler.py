"""The HTTP layer: read a request, authorise it, route it, write JSON or an SSE stream.

Streams use chunked transfer encoding on a keep-alive HTTP/1.1 connection, as real servers do;
one SSE event is one chunk, written straight to the socket (no buffering), so every event is
flushed when it is produced.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import secrets
import socket
import sys
import time
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from .common import ApiError, dumps
from .events import StreamEvent
from .faults import STREAM_ONLY, Fault, fault_error, number_events, shape_stream
from .inputs import input_chars
from .pacing import output_chars
from .records import Headers, RecordedRequest, StreamRecord
from .service import commit, create_response
from .structured import estimate_tokens
from .validate import validate_request

if TYPE_CHECKING:
    from .server import StandinServer

__all__ = ["StandinHandler"]

MAX_BODY = 100 * 1024 * 1024
_NOT_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The API expects a JSON payload, but what was sent was "
    "not valid JSON.)"
)
_NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
)


class _ClientGone(ConnectionError):
    """The client closed the connection while we were writing."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _mask(key: str) -> str:
    # Like the real API: a short prefix, never the whole key.
    return key[:5] + "***" if len(key) > 8 else "***"


class StandinHandler(BaseHTTPRequestHandler):
    """Request handler bound to one :class:`StandinServer` (via ``self.server.standin``)."""

    protocol_version = "HTTP/1.1"
    server_version = "agcloud-magic-standin"
    # Idle keep-alive connections must not pin a thread forever.
    timeout = 30

    def setup(self) -> None:
        super().setup()
        # Without TCP_NODELAY, Nagle's algorithm holds back each small SSE event (and a JSON
        # body written after its headers) until the client's delayed ACK: ~40 ms per write.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @property
    def standin(self) -> StandinServer:
        return self.server.standin  # type: ignore[attr-defined]

    # http.server dispatches on do_<METHOD>; the names are not ours to choose.
    def do_POST(self) -> None:
        self._dispatch()

    def do_GET(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()  # answered with the API's JSON 404, not http.server's HTML 501

    def do_PATCH(self) -> None:
        self._dispatch()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (bad request line, unknown method) as the API's JSON."""
        self._started = time.monotonic()
        self._request_id = "req_" + secrets.token_hex(16)
        self.close_connection = True
        err = ApiError(code, message or explain or "Bad request.")
        with contextlib.suppress(_ClientGone):
            self._send_json(code, err.body())

    def log_message(self, format: str, *args: Any) -> None:
        if self.standin.log_requests:
            sys.stderr.write(f"stand-in: {format % args}\n")

    # -- reading -------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        try:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                return self._read_chunked()
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError as exc:
            self.close_connection = True  # the framing is lost, so is the connection
            raise ApiError(400, "Malformed HTTP request body framing.") from exc
        if length > MAX_BODY:
            self.close_connection = True  # we will not read it, so the connection is unusable
            raise ApiError(413, "Request body too large.")
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        data = bytearray()
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return bytes(data)
            data += self.rfile.read(size)
            self.rfile.readline()
            if len(data) > MAX_BODY:
                self.close_connection = True
                raise ApiError(413, "Request body too large.")

    def _record(self, raw: bytes) -> tuple[Any, bool]:
        """Record the request; return (parsed JSON, whether it parsed)."""
        try:
            body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
            parsed = True
        except (UnicodeDecodeError, ValueError):
            body, parsed = None, False
        headers = Headers(self.headers.items())
        for key in list(headers):
            if key.lower() == "authorization":
                headers[key] = "Bearer ***"
        self.standin._record(RecordedRequest(
            self.command, self.path, headers, body if isinstance(body, dict) else None
        ))
        return body, parsed

    # -- dispatch ------------------------------------------------------------------------

    def _dispatch(self) -> None:
        self._started = time.monotonic()
        self._request_id = "req_" + secrets.token_hex(16)
        self._headers_sent = False
        self._rate_headers: dict[str, str] = {}  # per request: the handler serves keep-alive
        srv = self.standin
        try:
            try:
                raw = self._read_body()
            except ApiError:
                self._record(b"")
                raise
            body, parsed = self._record(raw)
            fault = srv._next_fault()
            if fault is not None and fault.kind == "slow_first_byte":
                srv._sleep(fault.params["seconds"])
            if fault is not None and fault.kind == "fail_next":
                raise fault_error(fault.params)
            self._authorize()
            self._route(body, parsed, fault)
        except ApiError as err:
            self._send_json(err.status, err.body(), err.headers)
        except (_ClientGone, ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception as exc:  # a stand-in bug: say so loudly, never hang the client
            traceback.print_exc(file=sys.stderr)
            if self._headers_sent:
                self.close_connection = True
            else:
                err = ApiError(500, f"Offline stand-in internal error: {exc!r}",
                               error_type="server_error", code="server_error")
                self._send_json(500, err.body())

    def _authorize(self) -> None:
        header = self.headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, _NO_KEY)
        expected = self.standin.api_key
        if expected is not None and not hmac.compare_digest(token.encode(), expected.encode()):
            raise ApiError(401, f"Incorrect API key provided: {_mask(token)}.",
                           code="invalid_api_key")

    def _route(self, body: Any, parsed: bool, fault: Fault | None) -> None:
        path = urlsplit(self.path).path.rstrip("/")
        if path == "/v1/responses" and self.command == "POST":
            if not parsed:
                raise ApiError(400, _NOT_JSON)
            self._create(body, fault)
            return
        if path == "/v1/models" and self.command == "GET":
            self._send_json(200, self.standin.catalog.listing())
            return
        if path.startswith("/v1/models/") and self.command == "GET":
            name = unquote(path[len("/v1/models/"):])
            self.standin.catalog.require(name)
            self._send_json(200, self.standin.catalog.entry(name))
            return
        prefix = "/v1/responses/"
        if path.startswith(prefix) and self.command in ("GET", "DELETE"):
            response_id = path[len(prefix):]
            if self.command == "DELETE":
                record = self.standin._forget(response_id)
            else:
                record = self.standin.stored.get(response_id)
            if record is None:
                raise ApiError(404, f"Response with id '{response_id}' not found.",
                               param="response_id")
            if self.command == "DELETE":
                self._send_json(200, {"id": response_id, "object": "response", "deleted": True})
            else:
                self._send_json(200, record.response)
            return
        raise ApiError(404, f"Invalid URL ({self.command} {urlsplit(self.path).path})")

    def _create(self, body: Any, fault: Fault | None) -> None:
        validate_request(body)
        # Like the API, an unknown model fails before anything else is looked at (even a
        # scripted turn stays queued), so a typo never gets an answer offline.
        self.standin.catalog.require(body["model"])
        stream = body.get("stream") is True
        if not stream and fault is not None and fault.kind in STREAM_ONLY:
            raise ApiError(
                500, f"The offline stand-in had a '{fault.kind}' fault queued; it only applies "
                "to streaming requests and this request had stream:false.",
                error_type="server_error", code="standin_fault_mismatch",
            )
        srv = self.standin
        settle = self._admit(body)  # before the answer: a 429 consumes no scripted turn
        srv._enter()
        try:
            self._answer(body, fault, stream, settle)
        finally:
            srv._leave()

    def _answer(self, body: dict[str, Any], fault: Fault | None, stream: bool,
                settle: Callable[[dict[str, Any] | None], None]) -> None:
        srv = self.standin
        rendered = create_response(srv, body)
        settle(rendered.final)
        latency = srv.latency_profile
        if stream and fault is not None and fault.kind == "ignore_stream":
            stream = False  # a gateway that ignores stream: true sends the whole Response
        if not stream:
            if rendered.final is None:
                raise ApiError(500, "The replayed recording has no terminal event.",
                               error_type="server_error", code="server_error")
            commit(srv, rendered)
            if latency.active:
                srv._sleep(latency.whole(rendered.final))
            srv._count(served=1)
            self._send_json(200, rendered.final)
            return
        events, cut = shape_stream(rendered.events, fault, rendered.snapshot)
        if fault is None or fault.kind not in ("error_mid_stream", "fail_in_stream"):
            # Stored before the first byte, so a client that chains right after the terminal
            # event (or after a cut, like the real server) finds it.
            commit(self.standin, rendered)
        number_events(events)
        delay = self.standin.token_delay
        if fault is not None and fault.kind == "drip":
            delay = fault.params["seconds"]
        clean_cut = bool(fault is not None and fault.params.get("clean"))
        stall = None
        if fault is not None and fault.kind == "stall_after":
            stall = (fault.params["n_events"], fault.params["seconds"])
        waits = rendered.meta.get("waits") or (latency.stream_waits(events)
                                                if latency.active else None)
        srv._count(served=1)
        self._send_stream(events, cut=cut, clean_cut=clean_cut, delay=delay, stall=stall,
                          waits=waits)

    def _admit(self, body: dict[str, Any]) -> Callable[[dict[str, Any] | None], None]:
        """Pass the rate limiter (or raise its 429); return what settles the final count."""
        srv = self.standin
        limiter = srv.rate_limiter
        if limiter is None:
            return lambda _final: None
        input_estimate = estimate_tokens(input_chars(body["input"], body.get("instructions")))
        reserved = body.get("max_output_tokens")
        try:
            admission = limiter.admit(input_estimate + (reserved or 0))
        except ApiError:
            srv._count(rate_limited=1)
            raise
        self._rate_headers = admission.headers

        def settle(final: dict[str, Any] | None) -> None:
            # The API reserves max_output_tokens; without it the answer's own tokens count.
            spent = reserved if reserved is not None else estimate_tokens(output_chars(final))
            limiter.settle(admission, input_estimate + spent)

        return settle

    # -- writing -------------------------------------------------------------------------

    def _common_headers(self) -> None:
        self.send_header("x-request-id", self._request_id)
        elapsed = int((time.monotonic() - self._started) * 1000)
        self.send_header("openai-processing-ms", str(elapsed))
        for key, value in getattr(self, "_rate_headers", {}).items():
            self.send_header(key, value)

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self._common_headers()
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self._headers_sent = True
            self.wfile.write(data)
        except OSError as exc:
            raise _ClientGone from exc

    def _chunk(self, data: bytes) -> None:
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        except OSError as exc:
            raise _ClientGone from exc

    def _send_stream(
        self, events: list[StreamEvent], *, cut: bool, clean_cut: bool, delay: float,
        stall: tuple[int, float] | None = None, waits: list[float] | None = None,
    ) -> None:
        srv = self.standin
        record = StreamRecord(self._request_id, total=len(events))
        srv._record_stream(record)
        try:
            self._write_events(events, cut=cut, clean_cut=clean_cut, delay=delay, stall=stall,
                               record=record, waits=waits)
        except _ClientGone:
            record.end("client_gone")  # the client closed the connection mid-stream
            raise

    def _write_events(
        self, events: list[StreamEvent], *, cut: bool, clean_cut: bool, delay: float,
        stall: tuple[int, float] | None, record: StreamRecord,
        waits: list[float] | None = None,
    ) -> None:
        srv = self.standin
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self._common_headers()
            self.end_headers()
            self._headers_sent = True
        except OSError as exc:
            raise _ClientGone from exc
        for i, event in enumerate(events):
            if i and delay > 0:
                srv._sleep(delay)
            if stall is not None and i == stall[0]:
                srv._sleep(stall[1])
            if waits is not None and i < len(waits) and waits[i] > 0:
                srv._sleep(waits[i])  # the latency profile (first token, tokens per second)
            if srv._stopping.is_set():
                cut, clean_cut = True, False  # shutting down: drop, like a dying server
                break
            wire = event.raw or f"event: {event.type}\ndata: {dumps(event.data)}\n\n"
            self._chunk(wire.encode("utf-8"))
            record.sent += 1
        if cut and not clean_cut:
            # No terminating chunk: the client sees the body end mid-stream (a network drop).
            self.close_connection = True
            record.end("cut")
            return
        if not cut and srv.done_marker:
            self._chunk(b"data: [DONE]\n\n")
        self._chunk(b"")
        record.end("cut" if cut else "completed")
