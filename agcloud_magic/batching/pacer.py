"""How many of a batch's requests may be in flight, and when the next one may start.

The limit adapts to the server the way TCP's congestion control does (additive increase,
multiplicative decrease), because a batch does not know the account's rate limit and the
limit is what bounds most batches:

* it starts at ``start`` (32) requests in flight and grows by one for every request answered,
  so it doubles each round trip ("slow start") until the server first pushes back;
* a 429 or 503 (heard from the client before it waits out ``Retry-After``, see
  :mod:`agcloud_magic.http.pressure`) halves it, at most once per wait, and holds every new
  request until that wait is over: the server said when it would take more;
* after the first push-back it grows by one per round trip (``1/limit`` per answer) while no
  429 comes, up to ``ceiling`` (the batch's ``concurrency``).

Optional client-side limits keep a job under a known quota instead of finding it by 429s:
``rpm`` requests and ``tpm`` tokens per rolling 60 s window, as the API counts them (each
request counted a little longer than the window: it reaches the server after it leaves).  A
request's tokens are estimated before it is sent (its prompt's characters/4 plus the output
expected from the answers so far) and corrected to its ``usage`` once it is answered.

Waiters queue in order: a freed slot wakes only the first, so thousands of queued rows cost
nothing while they wait.  Everything runs on the one event loop, so no locks are needed.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

__all__ = ["START", "WINDOW", "Pacer", "Slot"]

# Requests in flight before the server has said anything.  A grouped request takes seconds
# (20 rows stream ~250 tokens), so each doubling costs one such round trip: starting at 32
# lets a 1,000-row job (50 requests) finish in two rounds, and the first 429 halves it.
START = 32
WINDOW = 60.0  # seconds: the API's rate-limit window
# A request reaches the server a little after it left here (a new connection's handshake
# alone can take a good part of a second), so the server's window lets it go later too:
# entries stay counted 2% and half a second longer than the window (61.7 s of 60).
MARGIN = 1.02
SLACK = 0.5


@dataclass(eq=False)
class Slot:
    """One request's place: when it was sent and the tokens it counts for in the window (its
    estimate until :meth:`Pacer.settle` sets what its answer used)."""

    at: float
    tokens: int
    in_window: bool = True
    answered: bool = False  # set by the holder once the server answered (the limit may grow)


class Pacer:
    """The in-flight limit and the rate windows of one batch (see the module docstring)."""

    def __init__(self, ceiling: int, *, start: int = START, rpm: int | None = None,
                 tpm: int | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.ceiling = ceiling
        self.limit = float(min(start, ceiling))
        self.rpm = rpm
        self.tpm = tpm
        self.clock = clock
        self.in_flight = 0
        self.peak = 0  # the most requests in flight at once (for benchmarks and tests)
        self.pushbacks = 0  # 429s and 503s heard
        self.paused_until = 0.0
        self._calm_from = 0.0  # push-backs before this belong to the last decrease
        self._slow_start = True
        self._window: collections.deque[Slot] = collections.deque()
        self._window_tokens = 0
        self._waiters: collections.deque[asyncio.Event] = collections.deque()

    # -- the gate ---------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def slot(self, estimate: int) -> AsyncIterator[Slot]:
        """Wait for a place for a request estimated at ``estimate`` tokens; hold it inside the
        block.  A slot marked ``answered`` when the block ends lets the limit grow."""
        slot = await self._acquire(estimate)
        try:
            yield slot
        finally:
            self.in_flight -= 1
            if slot.answered:
                self._grow()
            self._wake_first()

    def settle(self, slot: Slot, tokens: int) -> None:
        """The tokens the answer of ``slot`` used, in place of its estimate."""
        if slot.in_window:  # an entry older than the window no longer counts
            self._window_tokens += tokens - slot.tokens
        slot.tokens = tokens

    def pushed_back(self, status: int, delay: float) -> None:
        """The server answered 429 or 503 and the client waits ``delay`` s before retrying."""
        now = self.clock()
        self.pushbacks += 1
        self.paused_until = max(self.paused_until, now + delay)
        if now >= self._calm_from:  # one decrease per episode, however many 429s it held
            self.limit = max(1.0, math.floor(self.limit / 2))
            self._slow_start = False
            self._calm_from = now + max(delay, 1.0)

    def pause(self, seconds: float) -> None:
        """Start no request for ``seconds`` (after a request gave up on a rate limit)."""
        self.paused_until = max(self.paused_until, self.clock() + seconds)

    # -- inside -----------------------------------------------------------------------------

    async def _acquire(self, estimate: int) -> Slot:
        if not self._waiters and self._wait(estimate) <= 0:
            return self._take(estimate)
        turn = asyncio.Event()
        self._waiters.append(turn)
        try:
            while True:
                timeout = None
                if self._waiters[0] is turn:
                    wait = self._wait(estimate)
                    if wait <= 0:
                        break
                    timeout = None if math.isinf(wait) else wait
                turn.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(turn.wait(), timeout)
        finally:
            first = bool(self._waiters) and self._waiters[0] is turn
            self._waiters.remove(turn)
            if first:
                self._wake_first()  # the next in line may go too, or must set its own timer
        return self._take(estimate)

    def _take(self, estimate: int) -> Slot:
        slot = Slot(self.clock(), estimate)
        self._window.append(slot)
        self._window_tokens += estimate
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        return slot

    def _wait(self, estimate: int) -> float:
        """Seconds before a request of ``estimate`` tokens may start: 0 now, ``inf`` until a
        request in flight ends."""
        now = self.clock()
        span = WINDOW * MARGIN + SLACK
        while self._window and self._window[0].at <= now - span:
            old = self._window.popleft()
            old.in_window = False
            self._window_tokens -= old.tokens
        if now < self.paused_until:
            return self.paused_until - now
        if self.in_flight >= int(self.limit):
            return math.inf
        if self.rpm is not None and len(self._window) >= self.rpm:
            return self._window[len(self._window) - self.rpm].at + span - now
        if self.tpm is not None and self._window and self._window_tokens + estimate > self.tpm:
            # A request larger than tpm alone goes once the window is empty, not never.
            excess = self._window_tokens + estimate - self.tpm
            for slot in self._window:
                excess -= slot.tokens
                if excess <= 0:
                    return slot.at + span - now
            return self._window[-1].at + span - now
        return 0.0

    def _grow(self) -> None:
        step = 1.0 if self._slow_start else 1.0 / max(self.limit, 1.0)
        self.limit = min(float(self.ceiling), self.limit + step)

    def _wake_first(self) -> None:
        if self._waiters:
            self._waiters[0].set()
