"""A batch's dry run: what would be sent, counted and estimated, with nothing sent.

The estimate needs no tokenizer, so it is rough: about four characters a token, which holds
for English prose within a factor of about 1.5 and undercounts code, non-Latin scripts and the
request's own overhead (roles, the tool wrapper).  Read it as an order of magnitude.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from agcloud_magic.batching.group import GroupRequest
from agcloud_magic.batching.request import RowRequest
from agcloud_magic.engine.conversation import Conversation
from agcloud_magic.engine.exchange import Exchange
from agcloud_magic.engine.meter import CHARS_PER_TOKEN
from agcloud_magic.engine.pricing import PriceTable, format_usd

__all__ = ["CHARS_PER_TOKEN", "BatchPlan", "fixed_chars", "plan_of"]



@dataclass(frozen=True, repr=False)
class BatchPlan:
    """What ``map(..., dry_run=True)`` found: ``requests`` to send (distinct prompts not in the
    cache, grouped ``rows_per_request`` to a request), ``cached`` (distinct prompts the cache
    answers), ``estimated_input_tokens`` (characters/4 of each request's prompts, instructions
    and schema), ``first_body`` (the first
    request exactly as it would be POSTed, the key is never in a body; ``None`` if nothing is
    to be sent), ``max_output_tokens`` (``requests`` times the option, if it is set) and
    ``estimated_cost`` (USD of the input estimate, plus the output ceiling when there is one;
    ``None`` when the model has no price in the table)."""

    requests: int
    cached: int
    estimated_input_tokens: int
    first_body: dict[str, Any] | None
    max_output_tokens: int | None = None
    estimated_cost: float | None = None

    def _cost(self) -> str:
        if self.estimated_cost is None:
            return ""
        part = "" if self.max_output_tokens else " for the input"
        return f", about {format_usd(self.estimated_cost)}{part}"

    @property
    def estimated_tokens(self) -> int:
        """Input estimate plus the output ceiling (when ``max_output_tokens`` is set)."""
        return self.estimated_input_tokens + (self.max_output_tokens or 0)

    def __repr__(self) -> str:
        model = (self.first_body or {}).get("model")
        body = "None" if self.first_body is None else f"<POST /responses body, model {model!r}>"
        return (f"BatchPlan(requests={self.requests}, cached={self.cached}, "
                f"estimated_input_tokens={self.estimated_input_tokens:,}, "
                f"max_output_tokens={self.max_output_tokens}, "
                f"estimated_cost={self.estimated_cost}, first_body={body})")

    def question(self, rows: int) -> str:
        """The yes/no question before sending ``rows`` rows this way."""
        model = (self.first_body or {}).get("model")
        plural = "" if self.requests == 1 else "s"
        ceiling = (f" plus at most {self.max_output_tokens:,} output"
                   if self.max_output_tokens else "")
        return (f"Send {rows:,} rows as {self.requests:,} request{plural} to {model} (about "
                f"{self.estimated_input_tokens:,} input tokens{ceiling}{self._cost()})?")

    def describe(self) -> str:
        """Lines for a person: the counts, the estimate, the first body as JSON."""
        ceiling = (f" + at most {self.max_output_tokens:,} output tokens"
                   if self.max_output_tokens else "")
        plural = "" if self.requests == 1 else "s"
        lines = [f"Dry run: nothing was sent. {self.requests} request{plural} "
                 f"({self.cached} prompts answered by the cache); about "
                 f"{self.estimated_input_tokens:,} input tokens (characters/4){ceiling}"
                 f"{self._cost()}."]
        if self.first_body is not None:
            lines += ["First request body:", json.dumps(self.first_body, indent=2,
                                                        ensure_ascii=False)]
        return "\n".join(lines)


def fixed_chars(fields: dict[str, Any], spec: dict[str, Any] | None) -> int:
    """The characters a request carries whatever its rows: the instructions and the tool
    (paid once per request, not once per row)."""
    tool = 0 if spec is None else len(json.dumps(spec, ensure_ascii=False))
    return len(fields.get("instructions") or "") + tool


def plan_of(request: RowRequest, batches: list[list[str]], cached: int,
            model: str, prices: PriceTable | None = None) -> BatchPlan:
    """The plan for sending ``batches`` (groups of prompts, one request each) with
    ``request``'s options (``model`` if none is set), priced by ``prices`` if it has the
    model."""
    group = GroupRequest(request) if any(len(b) > 1 for b in batches) else None
    chars = 0
    asks = []
    for prompts in batches:
        if len(prompts) == 1:
            ask, spec = request.ask(prompts[0]), request.spec
        else:
            assert group is not None
            ask, spec = group.ask(prompts), group.spec
        asks.append(ask)
        chars += len(ask.text) + fixed_chars(ask.fields, spec)
    first = None
    if asks:
        first = Exchange(Conversation(), asks[0]).first_body()
        first.setdefault("model", model)
    cap = request.fields.get("max_output_tokens")
    tokens = math.ceil(chars / CHARS_PER_TOKEN)
    ceiling = cap * len(batches) if isinstance(cap, int) else None
    cost = (prices or PriceTable()).cost(request.fields.get("model") or model, tokens,
                                          ceiling or 0)
    return BatchPlan(requests=len(batches), cached=cached, estimated_input_tokens=tokens,
                     first_body=first, max_output_tokens=ceiling, estimated_cost=cost)
