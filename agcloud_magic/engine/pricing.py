"""A price table: what a model's tokens cost, for estimates and budgets in money.

The package ships no prices (they change, and differ by account and gateway); the user gives
them once, as text, in US dollars per million tokens, input then output::

    %agcloud config prices="gpt-4o-mini=0.15/0.60, gpt-4o=2.50/10"

A model is priced by the longest entry its name starts with, so ``gpt-4o-mini`` also prices
``gpt-4o-mini-2024-07-18``.  A model no entry matches has no price: costs are then unknown
(``None``), never guessed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from agcloud_magic.errors import ConfigError

__all__ = ["PriceTable", "canonical_prices", "format_usd"]

PER = 1_000_000  # the table's prices are per million tokens
_ENTRY = re.compile(r"^\s*([^\s=,/]+)\s*=\s*([0-9.eE+-]+)\s*/\s*([0-9.eE+-]+)\s*$")
EXAMPLE = 'prices="gpt-4o-mini=0.15/0.60, gpt-4o=2.50/10" (USD per million input/output tokens)'


@dataclass(frozen=True)
class PriceTable:
    """Model name prefix -> (USD per million input tokens, per million output tokens)."""

    entries: tuple[tuple[str, float, float], ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> PriceTable:
        """The table ``text`` describes (see the module docstring); ConfigError if it is not
        one."""
        if text is None or not text.strip():
            return cls()
        entries: dict[str, tuple[float, float]] = {}
        for part in text.split(","):
            match = _ENTRY.match(part)
            if match is None:
                raise ConfigError(f"prices: {part.strip()!r} is not model=input/output; "
                                  f"e.g. {EXAMPLE}.")
            model, *prices = match.groups()
            try:
                low, high = (float(p) for p in prices)
            except ValueError:
                raise ConfigError(f"prices: {part.strip()!r} holds a price that is not a "
                                  f"number; e.g. {EXAMPLE}.") from None
            if not all(math.isfinite(p) and p >= 0 for p in (low, high)):
                raise ConfigError(f"prices: {part.strip()!r}: prices must be 0 or more.")
            entries[model] = (low, high)
        return cls(tuple((m, i, o) for m, (i, o) in entries.items()))

    def __bool__(self) -> bool:
        return bool(self.entries)

    def rates(self, model: str | None) -> tuple[float, float] | None:
        """USD per *token* (input, output) for ``model``, or None if it is not priced."""
        if not model:
            return None
        best = max((e for e in self.entries if model.startswith(e[0])), default=None,
                   key=lambda e: len(e[0]))
        return None if best is None else (best[1] / PER, best[2] / PER)

    def cost(self, model: str | None, input_tokens: int, output_tokens: int) -> float | None:
        """What these tokens cost on ``model`` in USD, or None if it is not priced."""
        rates = self.rates(model)
        if rates is None:
            return None
        return input_tokens * rates[0] + output_tokens * rates[1]

    def text(self) -> str:
        """The table as the text :meth:`parse` reads."""
        return ", ".join(f"{m}={i:g}/{o:g}" for m, i, o in self.entries)


def canonical_prices(name: str, value: object) -> str | None:
    """The ``prices`` setting's rule: text (or a dict of model -> (input, output)) checked
    and written back in one form."""
    if isinstance(value, dict):
        try:
            value = ", ".join(f"{m}={i}/{o}" for m, (i, o) in value.items())
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: a dict must map model -> (input, output) prices; "
                              f"e.g. {EXAMPLE}.") from None
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be text such as {EXAMPLE}.")
    table = PriceTable.parse(value)
    return table.text() or None


def format_usd(amount: float) -> str:
    """``$0.0123``: enough digits for the cents of a small batch."""
    return f"${amount:,.4f}" if amount < 100 else f"${amount:,.2f}"
