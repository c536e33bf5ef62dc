"""Running a batch's requests: paced on the private loop, interruptible.

Each request is one prompt, or a group of prompts (:mod:`.group`) whose poorly answered rows
are sent again one by one; the tokens of a request count once, however many rows it carries.

Every request goes through the one turn engine (``Session.arun`` with a fresh
``Conversation``), so retries (429 with ``Retry-After``, 5xx), deadlines and the size cap are
the client's.  How many are in flight, and when the next may start, is the
:class:`~.pacer.Pacer`'s: it hears every 429 the client waits out and adapts.  A request whose
retries all met a rate limit is sent again (up to :data:`RATE_RESENDS` times, after a pause)
rather than failing its rows: a rate limit says "later", not "no".  A row's failure is its
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
from agcloud_magic.batching.group import GroupRequest, prompt_tokens
from agcloud_magic.batching.pacer import Pacer
from agcloud_magic.batching.plan import CHARS_PER_TOKEN, fixed_chars
from agcloud_magic.batching.request import RowRequest, reason
from agcloud_magic.engine.ask import Ask
from agcloud_magic.engine.conversation import Conversation
from agcloud_magic.engine.driver import NULL_SINK
from agcloud_magic.engine.meter import used
from agcloud_magic.engine.pricing import PriceTable, format_usd
from agcloud_magic.engine.runner import get_runner
from agcloud_magic.errors import QuotaExceededError, RateLimitError, RequestInterrupted
from agcloud_magic.http import pressure

__all__ = ["BudgetSpent", "Job", "Outcome"]

POLL = 0.1  # seconds between looks at the job while waiting (Ctrl-C is seen there too)
CANCEL_WAIT = 1.0  # seconds an interrupt waits for the cancelled requests to close
RATE_RESENDS = 4  # times a request is sent again after the client's retries met 429s
RESEND_PAUSE = 1.0  # seconds before the first such resend, doubled for each next one


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
                 pacer: Pacer, budget: int | None = None, *, budget_cost: float | None = None,
                 prices: PriceTable | None = None, model: str | None = None) -> None:
        self.session = session
        self.client = client
        self.request = request
        self.batches = batches  # groups of prompts; a group of one takes the one-row path
        self.group = GroupRequest(request) if any(len(b) > 1 for b in batches) else None
        self.keys = keys
        self.cache = cache
        self.pacer = pacer
        self.outcomes: dict[str, Outcome] = {}  # written on the loop thread only
        # The prompts in the order they finished (appended after their outcome is set), so
        # progress reads only what is new since its last look, not every row each time.
        self.finished: list[str] = []
        self.tokens = 0  # usage.total_tokens of every answered request (repairs included)
        self.budget = budget  # tokens; once spent, nothing more is sent
        self.budget_cost = budget_cost  # USD, the same way (needs the model in ``prices``)
        self.prices = prices or PriceTable()
        self.model = model  # the requests' model, as the price table names it
        # USD of every answered request, None while the model has no price.
        self.cost: float | None = 0.0 if self.prices.rates(model) is not None else None
        # What every request of a kind carries besides its rows, for the pacer's estimates.
        self._fixed_one = fixed_chars(request.fields, request.spec)
        self._fixed_many = 0 if self.group is None else fixed_chars(self.group.fields,
                                                                      self.group.spec)
        self._cap = request.fields.get("max_output_tokens")
        self._output_tokens = self._output_rows = 0  # answers so far: output per row

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
        with pressure.listening(self.pacer.pushed_back):  # the tasks below inherit it
            tasks = [asyncio.ensure_future(self._one(b[0]) if len(b) == 1 else self._many(b))
                     for b in self.batches]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            done.set()

    async def _many(self, prompts: list[str]) -> None:
        """One request for several rows; what it does not answer well goes alone."""
        assert self.group is not None
        try:
            ask = self.group.ask(prompts)
            found = self.group.read(await self._send(ask, self._fixed_many, len(prompts)),
                                    prompts)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The whole request failed (after the client's retries): its combined length
            # or one row's content may be the cause, so each row gets its own request and
            # its own reason rather than sharing one.
            found = {}
        if self.cache is not None:  # the group's rows in one commit, not one commit a row
            self.cache.put_many({self.keys[p]: values for p, values in found.items()})
        for prompt, values in found.items():
            self._record(prompt, Outcome(values))
        await asyncio.gather(*(self._one(p) for p in prompts if p not in found))

    async def _one(self, prompt: str) -> None:
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
        self._record(prompt, outcome)

    def _record(self, prompt: str, outcome: Outcome) -> None:
        self.outcomes[prompt] = outcome
        self.finished.append(prompt)

    async def _answer(self, prompt: str) -> Outcome:
        """The first request, and one repair request for an answer that does not fit."""
        ask = self.request.ask(prompt)
        values, problem, bad = self.request.read(await self._send(ask, self._fixed_one))
        if values is not None:
            return Outcome(values)
        repaired = self.request.repair(prompt, bad, problem)
        values, problem, _ = self.request.read(
            await self._send(repaired, self._fixed_one + len(prompt) + len(bad)))
        if values is not None:
            return Outcome(values)
        return Outcome(error=f"invalid output after one repair: {problem}")

    async def _send(self, ask: Ask, fixed: int, rows: int = 1) -> Any:
        """One request through the engine, in a slot of the pacer; sent again after a pause
        when the client's own retries all met a rate limit."""
        estimate = self._estimate(ask, fixed, rows)
        for resend in range(RATE_RESENDS + 1):
            async with self.pacer.slot(estimate) as slot:
                self._check_budget()  # in the slot: the wait for it may have been long
                try:
                    result = await self.session.arun(ask, NULL_SINK, conversation=Conversation(),
                                                     client=self.client)
                except QuotaExceededError:
                    raise  # a balance is not refilled by waiting
                except RateLimitError:
                    if resend == RATE_RESENDS:
                        raise
                else:
                    slot.answered = True
                    tokens, cost = used(result.usage, self.model, self.prices)
                    self.pacer.settle(slot, tokens)
                    self.tokens += tokens
                    if self.cost is not None:
                        self.cost += cost
                    self._learn(result.usage, rows)
                    return result
            self.pacer.pause(RESEND_PAUSE * 2**resend)
        raise AssertionError("unreachable: the last resend raises")  # pragma: no cover

    def _check_budget(self) -> None:
        # Checked before each request, so the overshoot is at most the requests already in
        # flight: a hard stop that needs no token estimate.
        if self.budget is not None and self.tokens >= self.budget:
            raise BudgetSpent(
                f"not run: the budget of {self.budget} tokens is spent ({self.tokens} used)")
        if (self.budget_cost is not None and self.cost is not None
                and self.cost >= self.budget_cost):
            raise BudgetSpent(f"not run: the budget of {format_usd(self.budget_cost)} is spent "
                              f"({format_usd(self.cost)} used)")

    def _estimate(self, ask: Ask, fixed: int, rows: int) -> int:
        """The request's tokens for the pacer's ``tpm`` window: its characters/4, plus the
        output cap if set, else the output per row the answers so far used."""
        tokens = prompt_tokens(ask.text) + fixed // CHARS_PER_TOKEN
        if isinstance(self._cap, int):
            return tokens + self._cap
        if self._output_rows:
            tokens += rows * self._output_tokens // self._output_rows
        return tokens

    def _learn(self, usage: dict[str, Any] | None, rows: int) -> None:
        output = (usage or {}).get("output_tokens")
        if isinstance(output, int) and output >= 0:
            self._output_tokens += output
            self._output_rows += rows
