"""A session's settings: defaults for requests and for how answers are shown, validated on set.

These are what ``%config RespondMagics.<trait>``, ``%agcloud config`` and the panel read and
write; every assignment passes :func:`agcloud_magic.engine.rules.check`, so a bad value is
refused where it is set (one line) instead of failing every later request.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from agcloud_magic.engine.rules import check

__all__ = ["Preferences"]


@dataclass
class Preferences:
    """Defaults of one session; ``None`` means "not set here" (environment or default wins)."""

    model: str | None = None
    base_url: str | None = None
    instructions: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    stream: bool = True
    format: str = "markdown"
    timeout: float = 60.0
    deadline: float = 900.0
    max_answer_mb: int = 64
    max_retries: int = 2
    summary_budget: int = 6000
    max_tool_rounds: int = 8
    max_tool_calls_per_round: int = 16
    max_tool_calls: int = 64
    allow_insecure_http: bool = False
    confirm_rows: int = 100
    prices: str | None = None  # see engine.pricing: "model=in/out, ..." USD per 1M tokens
    budget_tokens: int | None = None  # the kernel's spending limit (engine.meter), all faces
    budget_cost: float | None = None  # the same in USD, for priced models
    # Who carries a thread: the server (previous_response_id, the API's way) or the client
    # (the thread's items as input, store: false), see engine.exchange.
    conversation: str = "server"

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self.names():
            raise AttributeError(f"Preferences has no setting {name!r}")
        value = check(name, value)
        if value is None and self.__dataclass_fields__[name].default is not None:
            value = self.__dataclass_fields__[name].default  # unsetting restores the default
        object.__setattr__(self, name, value)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The settings' names, in declaration order."""
        return tuple(f.name for f in fields(cls))

    def request_defaults(self) -> dict[str, Any]:
        """Request fields set here (the magic line, panel or call overrides them)."""
        return {
            "instructions": self.instructions,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_output_tokens": self.max_output_tokens,
            "stream": None if self.stream else False,
        }
