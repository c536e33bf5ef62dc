"""``StandinServer``: lifecycle, recorded requests, stored responses, faults and scripts."""

from __future__ import annotations

import collections
import contextlib
import os
import selectors
import socket
import sys
import threading
from collections.abc import Iterable
from http.server import ThreadingHTTPServer
from typing import Any

from .catalog import Catalog
from .faults import Fault, FaultInjection
from .handler import StandinHandler
from .profiles import Profiles
from .records import RecordedRequest, StoredResponse, StreamRecord
from .scripts import normalise_turn
from .store import MAX_STORED, ResponseStore, check_max_stored

__all__ = ["StandinServer", "serve"]


class _HTTPServer(ThreadingHTTPServer):
    """A threading server that knows its connections, so that stop() can end and join them."""

    daemon_threads = True
    # socketserver's default listen backlog (5) drops connections under a burst of a few dozen
    # at once (a batch, an unbounded gather): the client sees them closed mid-request.  A real
    # API accepts the burst and answers 429 when it must; so does the stand-in.
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], standin: StandinServer) -> None:
        self.standin = standin
        self._conn_lock = threading.Lock()
        self._conns: dict[threading.Thread, socket.socket] = {}
        # serve_forever() polls for shutdown every poll_interval; a wake-up socket lets stop()
        # return at once instead (tests start and stop hundreds of servers).
        self._wake_r, self._wake_w = socket.socketpair()
        try:
            super().__init__(address, StandinHandler)
        except OSError:
            self._wake_r.close()
            self._wake_w.close()
            raise

    def serve_until_woken(self) -> None:
        """Accept connections until :meth:`wake` is called."""
        with selectors.DefaultSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while True:
                ready = selector.select()
                if any(key.fileobj is self._wake_r for key, _ in ready):
                    return
                self._handle_request_noblock()

    def wake(self) -> None:
        """Make :meth:`serve_until_woken` return (safe from any thread)."""
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def server_close(self) -> None:
        super().server_close()
        self._wake_r.close()
        self._wake_w.close()

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection, args=(request, client_address),
            name="agcloud-standin-connection", daemon=True,
        )
        with self._conn_lock:
            self._conns[thread] = request
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._conn_lock:
                self._conns.pop(threading.current_thread(), None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up is normal for a test server; anything else is a bug to show.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def close_connections(self, timeout: float) -> None:
        with self._conn_lock:
            conns = list(self._conns.items())
        for _thread, sock in conns:
            # Wakes a handler blocked on a keep-alive read; the socket may already be closed.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread, _sock in conns:
            thread.join(timeout)


class _HTTPServerV6(_HTTPServer):
    address_family = socket.AF_INET6


class StandinServer(FaultInjection, Profiles):
    """The offline stand-in for ``POST /v1/responses``, served from a daemon thread.

    ``start()`` and ``stop()`` are idempotent; ``stop()`` ends open connections and joins every
    thread it started.  Use as a context manager, or through :func:`serve`.  Fault injection
    methods come from :class:`FaultInjection`; a stream-only fault (``drip``, ``stall_after``,
    ``cut_after``, ``error_mid_stream``, ``fail_in_stream``, ``ignore_stream``) met by a
    ``stream:false`` request is answered with a 500 ``standin_fault_mismatch`` so that a
    wrongly written test shows up.

    Profiles (:class:`.Profiles`) apply to every request until changed, and are off by
    default: ``latency(first_token, tokens_per_second)`` and ``rate_limit(rpm, tpm)``, with
    the counters ``requests_served`` and ``rate_limited``.

    ``models`` replaces :data:`~.catalog.DEFAULT_MODELS`, the names served: ``lorem`` covers
    ``lorem-N``, every other name is the echo model, and any name not listed is answered with
    the API's 404 ``model_not_found``.

    Stored responses (``previous_response_id``, ``GET /v1/responses/{id}``) are kept in memory,
    at most ``max_stored`` (the oldest forgotten first).  With ``store_path`` they are also kept
    in that JSON-lines file (see :mod:`.store`) and loaded from it when the server is made, so
    a new server on the same file continues the conversations of the one before.  The file
    never holds a header or key; deleting it is the caller's business.
    """

    def __init__(
        self,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        token_delay: float = 0.0,
        *,
        log_requests: bool = False,
        models: Iterable[str] | None = None,
        store_path: str | os.PathLike[str] | None = None,
        max_stored: int = MAX_STORED,
    ) -> None:
        #: The models served (``GET /v1/models``); any other name is the API's 404.
        self.catalog = Catalog(models)
        self.max_stored = check_max_stored(max_stored)
        #: The JSON-lines file stored responses are kept in (None: memory only).
        self.store_path = None if store_path is None else os.fspath(store_path)
        self._store = None if store_path is None else ResponseStore(store_path, max_stored)
        self.api_key = api_key
        self.host = host
        self._port = port
        self.token_delay = token_delay
        self.log_requests = log_requests
        #: Append ``data: [DONE]`` after the terminal event (some gateways do).
        self.done_marker = False
        #: Act as a gateway that keeps no state (LiteLLM without a database): accept any
        #: ``previous_response_id``, echo it, and answer without the history it names.
        self.drop_history = False
        #: A recorded lesson (:class:`~.cassette.Cassette`) answering every request, or None.
        self.cassette: Any = None
        #: Every request, in arrival order.
        self.requests: list[RecordedRequest] = []
        #: Every SSE stream, in the order they started: how far each got, how it ended.
        self.streams: list[StreamRecord] = []
        #: Stored responses by id (for previous_response_id), oldest first, at most
        #: ``max_stored``; loaded from ``store_path`` when given.
        self.stored: dict[str, StoredResponse] = self._store.load() if self._store else {}
        self._lock = threading.Lock()
        self._life_lock = threading.Lock()
        self._faults: collections.deque[Fault] = collections.deque()
        self._init_profiles()
        self._scripts: collections.deque[dict[str, Any]] = collections.deque()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._httpd is not None

    @property
    def port(self) -> int:
        """The bound port while running (useful with ``port=0``), else the configured one."""
        return self._httpd.server_address[1] if self._httpd is not None else self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``; requests go to ``f"{base_url}/responses"``."""
        if self._httpd is None:
            raise RuntimeError("the stand-in is not running; call start() first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    def start(self) -> StandinServer:
        """Bind and serve in a daemon thread; does nothing if already running."""
        with self._life_lock:
            if self._httpd is not None:
                return self
            self._stopping.clear()
            cls = _HTTPServerV6 if ":" in self.host else _HTTPServer
            httpd = cls((self.host, self._port), self)
            thread = threading.Thread(
                target=httpd.serve_until_woken, name="agcloud-standin-server", daemon=True
            )
            thread.start()
            self._httpd, self._thread = httpd, thread
        return self

    def stop(self) -> None:
        """Stop serving, close connections and join all threads; does nothing if stopped."""
        with self._life_lock:
            httpd, thread = self._httpd, self._thread
            if httpd is None or thread is None:
                return
            self._stopping.set()  # wakes sleeping faults and drips
            httpd.wake()
            thread.join(timeout=5.0)
            httpd.server_close()
            httpd.close_connections(timeout=5.0)
            self._httpd = self._thread = None

    def __enter__(self) -> StandinServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def clear(self) -> None:
        """Forget recorded requests and streams, queued faults and scripts, and zero the
        counters (stored responses and the latency and rate-limit profiles stay)."""
        with self._lock:
            self.requests.clear()
            self.streams.clear()
            self._faults.clear()
            self._scripts.clear()
            self.requests_served = self.rate_limited = self.peak_in_flight = 0

    def script(self, turns: Iterable[Any] | dict[str, Any] | str) -> None:
        """Queue scripted turns, answered FIFO by the next valid requests whatever the model.

        A turn is ``{"text": ...}``, ``{"calls": [{"name", "arguments" | "arguments_raw"}],
        "text"?}``, ``{"reasoning_summary": ..., "text"?}`` or ``{"replay": path}`` (a ``.sse``
        or ``.jsonl`` fixture, loaded now); a bare string means ``{"text": string}``.
        """
        if isinstance(turns, (dict, str)):
            turns = [turns]
        normalised = [normalise_turn(t) for t in turns]
        with self._lock:
            self._scripts.extend(normalised)

    # -- used by the handler -------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _record_stream(self, record: StreamRecord) -> None:
        with self._lock:
            self.streams.append(record)

    def _next_fault(self) -> Fault | None:
        with self._lock:
            if not self._faults:
                return None
            fault = self._faults[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.popleft()
            return Fault(fault.kind, dict(fault.params))

    def _pop_script(self) -> dict[str, Any] | None:
        with self._lock:
            return self._scripts.popleft() if self._scripts else None

    def _remember(self, record: StoredResponse) -> None:
        with self._lock:
            self.stored[record.id] = record
            while len(self.stored) > self.max_stored:
                self.stored.pop(next(iter(self.stored)))  # the oldest goes first
            if self._store is not None:
                self._store.put(record, self.stored)

    def _forget(self, response_id: str) -> StoredResponse | None:
        with self._lock:
            record = self.stored.pop(response_id, None)
            if record is not None and self._store is not None:
                self._store.delete(response_id, self.stored)
            return record

    def _sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds)


def serve(
    api_key: str | None = None, host: str = "127.0.0.1", port: int = 0,
    token_delay: float = 0.0, *, log_requests: bool = False,
    models: Iterable[str] | None = None, store_path: str | os.PathLike[str] | None = None,
    max_stored: int = MAX_STORED,
) -> StandinServer:
    """Start a stand-in now and return it; use ``with serve() as srv:`` to stop it on exit.

    ``models``, ``store_path`` and ``max_stored``: see :class:`StandinServer`."""
    return StandinServer(
        api_key, host, port, token_delay, log_requests=log_requests, models=models,
        store_path=store_path, max_stored=max_stored,
    ).start()
