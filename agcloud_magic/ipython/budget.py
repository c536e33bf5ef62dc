"""``%agcloud budget``: the kernel's spending limit (see :mod:`agcloud_magic.engine.meter`).

    %agcloud budget                      what is used and what is left
    %agcloud budget tokens=50000         refuse any request that would pass 50,000 tokens
    %agcloud budget cost=2.50            the same in US dollars (needs %agcloud config prices=)
    %agcloud budget off                  no limit
    %agcloud budget reset                count from zero again

The limits are the ``budget_tokens`` and ``budget_cost`` settings, so a course can set them
for every kernel in its configuration (``c.RespondMagics.budget_tokens = 50000``).
"""

from __future__ import annotations

from typing import Any

from agcloud_magic.engine.pricing import format_usd
from agcloud_magic.errors import ConfigError

__all__ = ["WORDS", "run_budget"]

WORDS = ("tokens=N", "cost=USD", "off", "reset")


def run_budget(magics: Any, rest: list[str]) -> None:
    """Show, set, lift or reset the kernel's budget."""
    from agcloud_magic.ipython.control import _set  # the one way a setting is typed

    meter = magics.session.meter
    for word in rest:
        name, sep, value = word.partition("=")
        if word == "off":
            _set(magics, "budget_tokens=none")
            _set(magics, "budget_cost=none")
        elif word == "reset":
            meter.reset()
        elif sep and name in ("tokens", "cost"):
            _set(magics, f"budget_{name}={value}")
        else:
            raise ConfigError(f"%agcloud budget {word}: expected one of {', '.join(WORDS)}.")
    print(status(magics))


def status(magics: Any) -> str:
    """One line: what the kernel's requests used, and what is left of its budget."""
    meter = magics.session.meter
    used = f"{meter.used_tokens:,} tokens"
    if magics.session.prefs.prices:
        used += f" ({format_usd(meter.used_cost)} of priced models)"
    left = meter.left()
    if left is None:
        return f"No budget set ({used} used in this kernel); set one with %agcloud budget tokens=N."
    return f"Budget: {left} ({used} used in this kernel)."
