"""The one turn driver: request -> stream or not -> accumulate -> tool rounds -> record.

:func:`turn_steps` holds the steps of a turn free of I/O: it yields each request body and is
sent back the :class:`~agcloud_magic.wire.result.Result` (or the
:class:`~agcloud_magic.errors.IncompleteResponseError` carrying one).  Tool calls run inside
it, shown through the face's :class:`Sink`.  Three loops feed it: :func:`drive_blocking` (the
magic: a worker thread reads, the caller's thread renders and runs tools), :func:`drive_async`
(the panel and ``arespond``: on the private loop, tools in a worker thread) and
``Session.respond`` (the Python API, on the caller's thread).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any, Protocol

from agcloud_magic.engine.ask import Ask
from agcloud_magic.engine.conversation import Conversation
from agcloud_magic.engine.exchange import Exchange
from agcloud_magic.engine.meter import Meter
from agcloud_magic.errors import (
    IncompleteResponseError,
    PreviousResponseNotFoundError,
    RequestInterrupted,
    ToolError,
)
from agcloud_magic.textbuffer import TextBuffer
from agcloud_magic.wire import events as ev
from agcloud_magic.wire.result import Result

__all__ = ["NULL_SINK", "Inbox", "Sink", "drive", "drive_async", "drive_blocking", "show_event",
           "turn_steps"]

# Events the faces show while a response streams; the rest only feed the accumulator.
SHOWN_EVENTS = frozenset({ev.TEXT_DELTA, ev.REFUSAL_DELTA, ev.SUMMARY_DELTA})
POLL = 0.1  # seconds: the longest a pending delta waits before the main thread looks


class Sink(Protocol):
    """What a face shows a turn's events in (the renderers and the panel satisfy it)."""

    def append(self, delta: str) -> None: ...
    def reasoning(self, delta: str) -> None: ...
    def tool_call(self, name: str, arguments: str, result: str | None) -> None: ...


class _NullSink:
    """Shows nothing (the Python API)."""

    def append(self, delta: str) -> None:
        """Ignore a text delta."""

    def reasoning(self, delta: str) -> None:
        """Ignore a reasoning delta."""

    def tool_call(self, name: str, arguments: str, result: str | None) -> None:
        """Ignore a tool call."""


NULL_SINK = _NullSink()


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
    for run in ask.tools.run_all(calls, on_private_loop) if calls else ():
        arguments = run.arguments
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments, ensure_ascii=False)
        sink.tool_call(run.name, arguments, run.output)
        outputs.append(run.output_item)
    return outputs


def admit_calls(ask: Ask, calls: list[dict[str, Any]], ran: int, result: Result) -> None:
    """Refuse a round whose calls would pass the bounds, before any of them runs.

    A round runs whole or not at all: the model asked for those calls together, and answering
    only some of them would leave it with calls that never got an output.  ``ran`` is how
    many calls the turn ran already.  The ToolError carries ``result``, like the round bound's,
    and the turn is not recorded (the thread keeps its head)."""
    if len(calls) > ask.max_calls_per_round:
        raise ToolError(
            f"The model asked for {len(calls)} tool calls in one response; at most "
            f"{ask.max_calls_per_round} run per response, so none ran: raise "
            "max_tool_calls_per_round, or ask more narrowly.",
            partial=result,
        )
    if ran + len(calls) > ask.max_calls:
        raise ToolError(
            f"Stopped after {ran} tool calls: the next response asked for {len(calls)} more, "
            f"past the bound of {ask.max_calls} per turn, so none of them ran: raise "
            "max_tool_calls, or ask more narrowly.",
            partial=result,
        )


def on_private_loop(awaitable: Any) -> Any:
    """Run an async tool's awaitable on the package's loop thread and wait for it (tools run
    off that thread, so waiting here never blocks the loop itself)."""

    from agcloud_magic.engine.runner import get_runner

    async def wait() -> Any:
        return await awaitable

    return get_runner().submit(wait()).result()


def turn_steps(
    conversation: Conversation, ask: Ask, sink: Sink,
    on_done: Callable[[Result], None] | None,
) -> Generator[dict[str, Any], Any, Result]:
    """The steps of one turn (see the module docstring); returns the final result.

    Only a finished turn is recorded; ``on_done`` then sees its result (a cut-by-limit answer
    is recorded too, then its error is raised)."""
    exchange = Exchange(conversation, ask)
    body: dict[str, Any] | None = exchange.first_body()
    incomplete: IncompleteResponseError | None = None
    ran = 0  # function calls run so far in this turn
    while body is not None:
        outcome = yield body
        if isinstance(outcome, PreviousResponseNotFoundError):
            if not exchange.can_replay():
                raise outcome
            # The server lost the turn this one chains onto (a restarted stand-in, expired
            # storage, a gateway without a database): send the kernel's copy of the thread.
            body = exchange.replay_body()
            continue
        if isinstance(outcome, IncompleteResponseError):
            result, incomplete = outcome.partial, outcome
        else:
            result = outcome
        calls = exchange.on_result(result)
        admit_calls(ask, calls, ran, result)
        ran += len(calls)
        body = exchange.next_body(answer_calls(ask, calls, sink))
    if exchange.last is not None:
        exchange.last.notes.extend(exchange.notes)
    exchange.record()
    if on_done is not None and exchange.last is not None:
        on_done(exchange.last)
    if incomplete is not None:
        raise incomplete
    return exchange.last  # type: ignore[return-value]


class Inbox:
    """Events handed from the reading thread to the rendering thread in batches.

    A queue hand-off per delta made the two threads trade the GIL hundreds of times per
    answer (measured: twice the client's own CPU).  Here the reader only appends; it wakes the
    renderer for the very first event (so the first words show at once) and at the end.
    Otherwise the renderer comes by when it wants to push (about ten times a second) and takes
    everything that arrived in one go.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._items: list[Any] = []
        self._closed = False
        self._started = False

    def put(self, item: Any) -> None:
        """Add one item (wakes the taker for the first)."""
        with self._lock:
            self._items.append(item)
            first, self._started = not self._started, True
        if first:
            self._wake.set()

    def close(self) -> None:
        """No more items; wake the taker."""
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


def drive(steps: Generator[dict[str, Any], Any, Result],
          send: Callable[[dict[str, Any]], Result], meter: Meter | None = None) -> Result:
    """Run ``steps`` to the end on this thread, each request made by ``send`` (and admitted
    by ``meter`` first, if any: see :mod:`agcloud_magic.engine.meter`)."""
    body = next(steps)
    while True:
        with _metered(meter, body) as outcomes:
            try:
                outcome: Any = send(body)
            except (IncompleteResponseError, PreviousResponseNotFoundError) as exc:
                outcome = exc  # turn_steps decides: a cut answer is kept, a lost parent replayed
            outcomes.append(outcome)
        try:
            body = steps.send(outcome)
        except StopIteration as done:
            return done.value


def drive_blocking(steps: Generator[dict[str, Any], Any, Result], client: Any,
                   renderer: Any, meter: Meter | None = None) -> Result:
    """Run ``steps`` to the end on this thread, each request read by a worker thread while
    this one renders (the magic)."""
    return drive(steps, lambda body: read_in_worker(client, body, renderer), meter)


@contextlib.contextmanager
def _metered(meter: Meter | None, body: dict[str, Any]) -> Iterator[list[Any]]:
    """Admit ``body`` (or raise, nothing sent), then count what the request used: the usage of
    the outcome appended inside the block (a result, or a cut answer's partial one), else of
    the partial answer an error carries."""
    ticket = None if meter is None else meter.admit(body)
    outcomes: list[Any] = []
    try:
        yield outcomes
    except BaseException as exc:  # failed, cancelled or interrupted
        if ticket is not None:
            meter.settle(ticket, getattr(getattr(exc, "partial", None), "usage", None))
        raise
    if ticket is not None:
        outcome = outcomes[-1] if outcomes else None
        result = outcome.partial if isinstance(outcome, IncompleteResponseError) else outcome
        meter.settle(ticket, getattr(result, "usage", None))  # an error outcome has none


def read_in_worker(client: Any, body: dict[str, Any], renderer: Any) -> Result:
    """One request read by a worker thread; its events are rendered here, in batches.

    The blocking face reads with the sync client in a worker thread rather than on the
    package's event loop: measured in a real kernel, asyncio + httpx cost twice the CPU of a
    sync read for an answer that arrives at reading speed (``bench/bench_stream.py``).  Either
    way this thread only renders, and Ctrl-C cancels the read (and any retry wait) at once.
    """
    from agcloud_magic.engine.runner import get_runner
    from agcloud_magic.http.client import Cancellation

    inbox = Inbox()
    cancel = Cancellation()
    outcome: dict[str, Any] = {}

    def on_event(event: ev.Event) -> None:
        if event.get("type") in SHOWN_EVENTS:
            inbox.put(event)

    def read() -> None:
        try:
            outcome["result"] = client.create(body, on_event=on_event, cancel=cancel)
        except BaseException as exc:  # handed to the rendering thread, raised there
            outcome["error"] = exc
        finally:
            inbox.close()

    # The client times a finished read itself; an interrupted one never returns, so its
    # partial result is timed here, from the same moment (the footer's "N s").
    started = time.monotonic()
    done = get_runner().in_worker(read)
    shown = TextBuffer()  # the partial answer an interrupt keeps
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
        elapsed = time.monotonic() - started  # until the Ctrl-C, not the cancel's wait
        cancel.cancel()
        done.wait(0.5)
        raise RequestInterrupted(
            "Interrupted: the request was cancelled; the partial answer is kept and the "
            "conversation is unchanged.",
            partial=Result(text=shown.getvalue(), status="interrupted", elapsed=elapsed),
        ) from None
    done.wait()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


async def drive_async(steps: Generator[dict[str, Any], Any, Result], client: Any, sink: Sink,
                      on_event: Callable[[ev.Event], None] | None = None,
                      meter: Meter | None = None) -> Result:
    """Run ``steps`` on the running loop; tool rounds run in a worker thread."""
    import asyncio  # here, not at module level: %load_ext must not pay for asyncio

    def forward(event: ev.Event) -> None:
        if event.get("type") in SHOWN_EVENTS:
            show_event(event, sink)
        if on_event is not None:
            on_event(event)

    body = next(steps)
    while True:
        with _metered(meter, body) as outcomes:
            try:
                outcome: Any = await client.acreate(body, on_event=forward)
            except (IncompleteResponseError, PreviousResponseNotFoundError) as exc:
                outcome = exc  # turn_steps decides (see drive)
            outcomes.append(outcome)
        # steps.send runs the tools of this round: off the loop, so a slow tool does not hold
        # other requests (the panel's second Send, another arespond).
        finished, value = await asyncio.to_thread(_advance, steps, outcome)
        if finished:
            return value
        body = value


def _advance(steps: Generator[dict[str, Any], Any, Result], outcome: Any) -> tuple[bool, Any]:
    """``(False, next body)`` or ``(True, final result)``: a StopIteration cannot cross into
    an asyncio future, so it is turned into a value here."""
    try:
        return False, steps.send(outcome)
    except StopIteration as done:
        return True, done.value
