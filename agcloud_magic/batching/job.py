"""Running a batch's requests: bounded concurrency on the private loop, interruptible.

Each request is one prompt, or a group of prompts (:mod:`.group`) whose poorly answered rows
are sent again one by one; the tokens of a request count once, however many rows it carries.

Every request goes through the one turn engine (``Session.arun`` with a fresh
``Conversation``), so retries (429 with ``Retry-After``, 5xx), deadlines and the size cap are
the client's.  ``concurrency`` requests are in flight at most.  A row's failure is its
``error``, never the job's.  Ctrl-C in the waiting thread cancels what is outstanding (the
streams close at once), waits about a second for that, and raises ``RequestInterrupted``;
finished rows are in the cache already.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agcloud_magic.batching.cache import RowCache
from agcloud_magic.batching.group import GroupRequest
from agcloud_magic.batching.request import RowRequest, reason
from agcloud_magic.engine.conversation import Conversation
from agcloud_magic.engine.driver import NULL_SINK
from agcloud_magic.engine.runner import get_runner
from agcloud_magic.errors import RequestInterrupted

__all__ = ["BudgetSpent", "Job", "Outcome"]

POLL = 0.1  # seconds between looks at the job while waiting (Ctrl-C is seen there too)
CANCEL_WAIT = 1.0  # seconds an interrupt waits for the cancelled requests to close


class BudgetSpent(Exception):
    """The job's token budget is spent: the row is not sent (its ``error`` says so)."""


@dataclass
class Outcome:
    """A finished prompt: its values, or why it failed."""

    values: dict[str, Any] | None = None
    error: str | None = None


class Job:
    """The prompts still to send, and where their outcomes go."""

    def __init__(self, session: Any, client: Any, request: RowRequest,
                 batches: list[list[str]], keys: dict[str, str], cache: RowCache | None,
                 concurrency: int, budget: int | None = None) -> None:
        self.session = session
        self.client = client
        self.request = request
        self.batches = batches  # groups of prompts; a group of one takes the one-row path
        self.group = GroupRequest(request) if any(len(b) > 1 for b in batches) else None
        self.keys = keys
        self.cache = cache
        self.concurrency = concurrency
        self.outcomes: dict[str, Outcome] = {}  # written on the loop thread only
        self.tokens = 0  # usage.total_tokens of every answered request (repairs included)
        self.budget = budget  # tokens; once spent, nothing more is sent

    def run(self, finished: Callable[[], int], total: int,
            tick: Callable[[], None] | None = None) -> None:
        """Send every prompt and wait, calling ``tick()`` (progress) between looks; on Ctrl-C
        cancel and raise ``RequestInterrupted`` saying ``finished()`` of ``total`` rows are
        done."""
        if not self.batches:
            return
        done = threading.Event()
        future = get_runner().submit(self._all(done))
        try:
            while not done.wait(POLL):
                if tick is not None:
                    tick()  # on this (the caller's) thread: a widget or a terminal is safe here
        except KeyboardInterrupt:
            future.cancel()  # cancels the task on the loop: each request's stream closes
            done.wait(CANCEL_WAIT)
            kept = " (kept in the cache: run again to send only the rest)" if self.cache else ""
            raise RequestInterrupted(
                f"Interrupted: {finished()} of {total} rows finished{kept}; the outstanding "
                "requests were cancelled."
            ) from None
        future.result()  # a bug in the job itself surfaces here rather than vanishing

    async def _all(self, done: threading.Event) -> None:
        gate = asyncio.Semaphore(self.concurrency)
        tasks = [asyncio.ensure_future(self._one(b[0], gate) if len(b) == 1
                                       else self._many(b, gate)) for b in self.batches]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            done.set()

    async def _many(self, prompts: list[str], gate: asyncio.Semaphore) -> None:
        """One request for several rows; what it does not answer well goes alone."""
        assert self.group is not None
        async with gate:
            try:
                found = self.group.read(await self._send(self.group.ask(prompts)), prompts)
            except asyncio.CancelledError:
                raise
            except Exception:
                # The whole request failed (after the client's retries): its combined length
                # or one row's content may be the cause, so each row gets its own request and
                # its own reason rather than sharing one.
                found = {}
        for prompt, values in found.items():
            self._finish(prompt, Outcome(values))
        # Outside the gate: each retry takes a slot of its own like any one-row request.
        await asyncio.gather(*(self._one(p, gate) for p in prompts if p not in found))

    async def _one(self, prompt: str, gate: asyncio.Semaphore) -> None:
        async with gate:
            try:
                outcome = await self._answer(prompt)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the row fails, with its reason; the job goes on
                outcome = Outcome(error=reason(exc))
        self._finish(prompt, outcome)

    def _finish(self, prompt: str, outcome: Outcome) -> None:
        # The one-row key whichever path answered, so another rows_per_request still hits it.
        if outcome.values is not None and self.cache is not None:
            self.cache.put(self.keys[prompt], outcome.values)
        self.outcomes[prompt] = outcome

    async def _answer(self, prompt: str) -> Outcome:
        """The first request, and one repair request for an answer that does not fit."""
        values, problem, bad = self.request.read(await self._send(self.request.ask(prompt)))
        if values is not None:
            return Outcome(values)
        repaired = self.request.repair(prompt, bad, problem)
        values, problem, _ = self.request.read(await self._send(repaired))
        if values is not None:
            return Outcome(values)
        return Outcome(error=f"invalid output after one repair: {problem}")

    async def _send(self, ask: Any) -> Any:
        if self.budget is not None and self.tokens >= self.budget:
            # Checked before each request, so the overshoot is at most the requests already
            # in flight (``concurrency`` of them): a hard stop that needs no token estimate.
            raise BudgetSpent(
                f"not run: the budget of {self.budget} tokens is spent ({self.tokens} used)")
        result = await self.session.arun(ask, NULL_SINK, conversation=Conversation(),
                                         client=self.client)
        self.tokens += used_tokens(result.usage)
        return result


def used_tokens(usage: dict[str, Any] | None) -> int:
    """A response's tokens: ``total_tokens``, else input plus output (some gateways send only
    those), else nothing."""
    if not usage:
        return 0
    total = usage.get("total_tokens")
    if isinstance(total, int):
        return total
    parts = (usage.get("input_tokens"), usage.get("output_tokens"))
    return sum(p for p in parts if isinstance(p, int))
