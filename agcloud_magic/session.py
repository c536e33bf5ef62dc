"""The one service both faces call: an Ask in, a rendered, recorded answer out.

The magic calls :meth:`Session.run`, which blocks its own cell: a worker thread reads the
response, events come back in batches, and the main thread renders them (so display messages
always belong to the executing cell) and runs tools (user functions run where user code runs).
The panel calls :meth:`Session.arun` on the package's private event-loop thread, so its
callbacks return at once, and renders through a sink of its own.  Both drive the same steps
(:meth:`Session._turn` over :class:`~agcloud_magic.exchange.Exchange`); neither touches the
kernel's own event loop, so a kernel that applied nest_asyncio makes no difference.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Generator
from typing import Any, Protocol

from . import events as ev
from .config import Settings
from .conversation import Conversation
from .errors import IncompleteResponseError, RequestInterrupted
from .exchange import Ask, Exchange
from .result import Result

# api (asyncio, then httpx) and runner load on the first request, not at %load_ext.

# Events the faces show while a response streams; the rest only feed the accumulator.
SHOWN_EVENTS = frozenset({ev.TEXT_DELTA, ev.REFUSAL_DELTA, ev.SUMMARY_DELTA})
POLL = 0.1  # seconds: the longest a pending delta waits before the main thread looks


class Inbox:
    """Events handed from the loop thread to the main thread in batches.

    A queue hand-off per delta made the two threads trade the GIL hundreds of times per
    answer (measured: twice the client's own CPU).  Here the loop thread only appends; it
    wakes the main thread for the very first event (so the first words show at once) and at
    the end.  Otherwise the main thread comes by when the renderer wants to push (about ten
    times a second) and takes everything that arrived in one go.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._items: list[Any] = []
        self._closed = False
        self._started = False

    def put(self, item: Any) -> None:
        with self._lock:
            self._items.append(item)
            first, self._started = not self._started, True
        if first:
            self._wake.set()

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._wake.set()

    def take(self, timeout: float) -> tuple[list[Any], bool]:
        """Wait up to ``timeout`` for something, then return ``(items, closed)``."""
        self._wake.wait(timeout)
        with self._lock:
            items, self._items = self._items, []
            self._wake.clear()
            return items, self._closed


class Sink(Protocol):
    """What a face renders into (the notebook/terminal renderers and the panel satisfy it)."""

    def append(self, delta: str) -> None: ...
    def reasoning(self, delta: str) -> None: ...
    def tool_call(self, name: str, arguments: str, result: str | None) -> None: ...


def show_event(event: ev.Event, sink: Sink) -> None:
    """Pass one streamed event to ``sink``."""
    kind = event.get("type")
    if kind == ev.TEXT_DELTA or kind == ev.REFUSAL_DELTA:
        sink.append(event.get("delta") or "")
    elif kind == ev.SUMMARY_DELTA:
        sink.reasoning(event.get("delta") or "")


def answer_calls(ask: Ask, calls: list[dict[str, Any]], sink: Sink) -> list[dict[str, Any]]:
    """Run the model's function calls (only the functions the user named) and show each one."""
    outputs = []
    for run in ask.tools.run_all(calls) if calls else ():
        arguments = run.arguments
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments, ensure_ascii=False)
        sink.tool_call(run.name, arguments, run.output)
        outputs.append(run.output_item)
    return outputs


class Session:
    """Settings + conversation + client: runs asks for the magics and the panel."""

    def __init__(self, settings: Callable[[], Settings]) -> None:
        self._settings = settings
        self.conversation = Conversation()
        self.last: Result | None = None

    def settings(self) -> Settings:
        """The settings in force now (traits, login, environment)."""
        return self._settings()

    def preview(self, ask: Ask) -> dict[str, Any]:
        """The first request body ``ask`` would send (nothing is sent or recorded)."""
        body = Exchange(_Scratch(self.conversation), ask).first_body()
        body.setdefault("model", self.settings().model)
        return body

    # -- blocking face (magics) --------------------------------------------------------

    def _client(self) -> Any:
        """The client for the settings in force, after checking them (nothing sent yet)."""
        from .api import default_client

        settings = self.settings()
        settings.require_key()
        settings.checked_base_url()
        return default_client(settings)

    def _turn(self, ask: Ask, sink: Sink) -> Generator[dict[str, Any], Any, Result]:
        """The steps of one turn, free of I/O: yields each request body and is sent back its
        :class:`Result` (or the :class:`IncompleteResponseError` that carries one); returns the
        final result.  Tool calls run here, on the driver's thread, shown through ``sink``."""
        exchange = Exchange(self.conversation, ask)
        body: dict[str, Any] | None = exchange.first_body()
        incomplete: IncompleteResponseError | None = None
        while body is not None:
            outcome = yield body
            if isinstance(outcome, IncompleteResponseError):
                result, incomplete = outcome.partial, outcome
            else:
                result = outcome
            body = exchange.next_body(answer_calls(ask, exchange.on_result(result), sink))
        exchange.record()
        self.last = exchange.last
        if incomplete is not None:
            raise incomplete
        return exchange.last  # type: ignore[return-value]

    def run(self, ask: Ask, renderer: Any) -> Result:
        """Run ``ask`` to the end, rendering as it streams; the caller's thread blocks.

        Expected failures raise :class:`AGCloudError` subclasses with ``partial`` set; an
        interrupt raises :class:`RequestInterrupted`.  The thread's head moves only on success
        (a response cut by ``max_output_tokens`` counts: it exists on the server).
        """
        client = self._client()
        steps = self._turn(ask, renderer)
        body = next(steps)
        while True:
            try:
                outcome: Any = self._stream(client, body, renderer)
            except IncompleteResponseError as exc:
                outcome = exc
            try:
                body = steps.send(outcome)
            except StopIteration as done:
                return done.value

    def _stream(self, client: Any, body: dict[str, Any], renderer: Any) -> Result:
        """One request read by a worker thread; its events are rendered here, in batches.

        The blocking face reads with the sync client in a thread of its own rather than on the
        package's event loop: measured in a real kernel, asyncio + httpx cost twice the CPU of
        a sync read for an answer that arrives at reading speed (``bench/bench_stream.py``).
        Either way the main thread only renders, and Ctrl-C stops the read at once.
        """
        from .client import Cancellation

        inbox = Inbox()
        cancel = Cancellation()
        outcome: dict[str, Any] = {}

        def on_event(event: ev.Event) -> None:
            if event.get("type") in SHOWN_EVENTS:
                inbox.put(event)

        def read() -> None:
            try:
                outcome["result"] = client.create(body, on_event=on_event, cancel=cancel)
            except BaseException as exc:  # handed to the main thread, raised there
                outcome["error"] = exc
            finally:
                inbox.close()

        worker = threading.Thread(target=read, name="agcloud-magic-request", daemon=True)
        worker.start()
        shown: list[str] = []
        try:
            while True:
                due = renderer.next_due()
                # Wake for the first delta, at the end, when a push is due, and at least every
                # POLL seconds (Ctrl-C is seen there too); drain everything that came meanwhile.
                batch, closed = inbox.take(POLL if due is None else min(due, POLL))
                for event in batch:
                    show_event(event, renderer)
                    if event.get("type") == ev.TEXT_DELTA:
                        shown.append(event.get("delta") or "")
                if closed:
                    break  # no last flush: finish() sends the whole answer anyway
                due = renderer.next_due()
                if due is not None and due <= 0:
                    renderer.flush()
        except KeyboardInterrupt:
            cancel.cancel()
            worker.join(0.5)
            raise RequestInterrupted(
                "Interrupted: the request was cancelled; the partial answer is kept and the "
                "conversation is unchanged.",
                partial=Result(text="".join(shown), status="interrupted"),
            ) from None
        worker.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"]

    # -- non-blocking face (panel) -----------------------------------------------------

    async def arun(self, ask: Ask, sink: Sink) -> Result:
        """Run ``ask`` on the loop thread, feeding ``sink`` from there (for the panel)."""
        client = self._client()

        def on_event(event: ev.Event) -> None:
            if event.get("type") in SHOWN_EVENTS:
                show_event(event, sink)

        steps = self._turn(ask, sink)
        body = next(steps)
        while True:
            try:
                outcome: Any = await client.acreate(body, on_event=on_event)
            except IncompleteResponseError as exc:
                outcome = exc
            try:
                body = steps.send(outcome)
            except StopIteration as done:
                return done.value


class _Scratch(Conversation):
    """A throw-away view of a conversation for previews: reads it, never changes it."""

    def __init__(self, real: Conversation) -> None:
        super().__init__()
        # Building a first body may add a thread or switch the current one, nothing deeper,
        # so a copy of the thread table (not of the turns) keeps the real one untouched.
        self.threads = dict(real.threads)
        self.current = real.current


__all__ = ["Ask", "Session", "Sink", "show_event"]
