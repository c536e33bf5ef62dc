"""A kernel's spending limit: every request of a session counted, and refused before it is
sent once it would pass the limit.

The limit is the session's ``budget_tokens`` (and ``budget_cost`` in US dollars, for a model
in the ``prices`` table), set by ``%agcloud budget``, ``%agcloud config`` or a configuration
trait (a course's ``ipython_config.py``).  Every request of the magics, the panel, the Python
API and the batches goes through the one driver, which asks :meth:`Meter.admit` first: the
request's estimate (characters/4 of its body, plus ``max_output_tokens`` when set) is
reserved, so requests in flight at once cannot pass the limit together, and once answered
the reservation becomes the answer's ``usage``.  Without ``max_output_tokens`` the output is
not known in advance, so the last request may pass the limit by its own answer; set
``max_output_tokens`` for a strict ceiling.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agcloud_magic.errors import SpendingLimitError

if TYPE_CHECKING:  # pricing loads with the first request, not with %load_ext
    from agcloud_magic.engine.pricing import PriceTable

__all__ = ["Meter", "Ticket"]

CHARS_PER_TOKEN = 4  # every estimate of the client's (the meter's, a batch's): no tokenizer


@dataclass
class Ticket:
    """One admitted request: the tokens (and dollars) reserved for it, and its model."""

    tokens: int
    cost: float
    model: str | None


class Meter:
    """What a session's requests used, against the limits ``prefs`` holds (read live, so a
    new limit applies to the next request)."""

    def __init__(self, prefs: Any, default_model: Callable[[], str | None] = lambda: None) -> None:
        self.prefs = prefs
        self.default_model = default_model  # the model of a body that names none
        self.used_tokens = 0
        self.used_cost = 0.0  # USD of the requests whose model has a price
        self._reserved_tokens = 0
        self._reserved_cost = 0.0
        self._lock = threading.Lock()  # the magic's worker thread and the loop both admit

    def prices(self) -> PriceTable:
        from agcloud_magic.engine.pricing import PriceTable  # loads with the first request

        return PriceTable.parse(self.prefs.prices)

    def admit(self, body: dict[str, Any]) -> Ticket:
        """Reserve ``body``'s estimate, or raise :class:`SpendingLimitError` (nothing sent)."""
        from agcloud_magic.engine.pricing import format_usd
        model = body.get("model") or (self.default_model() if self.prefs.prices else None)
        tokens = estimate(body)
        cap = body.get("max_output_tokens")
        outputs = cap if isinstance(cap, int) else 0
        prices = self.prices()
        cost = prices.cost(model, tokens - outputs, outputs) or 0.0
        with self._lock:
            limit = self.prefs.budget_tokens
            if limit is not None and self.used_tokens + self._reserved_tokens + tokens > limit:
                raise SpendingLimitError(
                    f"Not sent: this request (about {tokens:,} tokens) would pass the kernel's "
                    f"budget of {limit:,} tokens ({self.used_tokens:,} used). Raise it with "
                    "%agcloud budget tokens=N, or %agcloud budget off.")
            dollars = self.prefs.budget_cost
            if (dollars is not None and prices.rates(model) is not None
                    and self.used_cost + self._reserved_cost + cost > dollars):
                raise SpendingLimitError(
                    f"Not sent: this request (about {format_usd(cost)}) would pass the kernel's "
                    f"budget of {format_usd(dollars)} ({format_usd(self.used_cost)} used). "
                    "Raise it with %agcloud budget cost=USD, or %agcloud budget off.")
            self._reserved_tokens += tokens
            self._reserved_cost += cost
        return Ticket(tokens, cost, model)

    def settle(self, ticket: Ticket, usage: dict[str, Any] | None) -> None:
        """The request ended: its reservation becomes what its ``usage`` says (nothing if the
        server reported none, e.g. it failed before answering)."""
        tokens, cost = used(usage, ticket.model, self.prices())
        with self._lock:
            self._reserved_tokens -= ticket.tokens
            self._reserved_cost -= ticket.cost
            self.used_tokens += tokens
            self.used_cost += cost

    def left(self) -> str | None:
        """``"12,345 of 50,000 tokens left"`` (and dollars), or None without a limit."""
        from agcloud_magic.engine.pricing import format_usd
        parts = []
        limit, dollars = self.prefs.budget_tokens, self.prefs.budget_cost
        if limit is not None:
            parts.append(f"{max(0, limit - self.used_tokens):,} of {limit:,} tokens")
        if dollars is not None:
            parts.append(f"{format_usd(max(0.0, dollars - self.used_cost))} of "
                         f"{format_usd(dollars)}")
        return " and ".join(parts) + " left" if parts else None

    def reset(self) -> None:
        """Count from zero again (``%agcloud budget reset``)."""
        with self._lock:
            self.used_tokens = 0
            self.used_cost = 0.0


def estimate(body: dict[str, Any]) -> int:
    """A request's tokens before it is sent: characters/4 of its input, instructions and
    tools, plus ``max_output_tokens`` when set (no tokenizer: an order of magnitude)."""
    chars = 0
    for key in ("input", "instructions", "tools"):
        value = body.get(key)
        if isinstance(value, str):
            chars += len(value)
        elif value is not None:
            chars += len(json.dumps(value, ensure_ascii=False))
    cap = body.get("max_output_tokens")
    return math.ceil(chars / CHARS_PER_TOKEN) + (cap if isinstance(cap, int) else 0)


def used(usage: dict[str, Any] | None, model: str | None,
         prices: PriceTable) -> tuple[int, float]:
    """Tokens and dollars an answer's ``usage`` reports (0 for what it does not say)."""
    usage = usage or {}
    inputs, outputs = usage.get("input_tokens"), usage.get("output_tokens")
    total = usage.get("total_tokens")
    split = isinstance(inputs, int) and isinstance(outputs, int)
    tokens = total if isinstance(total, int) else (inputs + outputs if split else 0)
    # Only a total: priced as output (the dearer side), so a limit errs on the safe side.
    cost = prices.cost(model, inputs, outputs) if split else prices.cost(model, 0, tokens)
    return tokens, cost or 0.0
