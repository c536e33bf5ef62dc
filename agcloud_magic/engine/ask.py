"""The one request description every face builds: an :class:`Ask`, validated when made.

The magic, the panel and the Python API each translate their input into an ``Ask``; its
fields pass the same rules (:mod:`agcloud_magic.engine.rules`) whoever built it, so a value one
face refuses cannot slip in through another.  Building an ``Ask`` changes no state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agcloud_magic.engine.rules import check, check_fields
from agcloud_magic.errors import ConfigError

__all__ = ["Ask"]

NOTHING_TO_SEND = "Nothing to send: write a prompt (or attach a DataFrame, image or file) first."


@dataclass
class Ask:
    """Everything one request needs, whichever face it came from.

    ``text`` is the prompt, ``parts`` more ``input_*`` parts, ``fields`` request fields
    (checked here), ``thread``/``new``/``continue_id``/``cell_id`` say where the turn goes in
    the conversation, ``tools`` is a :class:`~agcloud_magic.tools.ToolRegistry` (or ``None``)
    and ``max_rounds`` bounds its loop, ``max_calls_per_round`` the function calls run per
    response and ``max_calls`` those run in the whole turn.  ``items`` replaces text and parts
    with raw input items (the Python API's list input).  ``stop_at_calls`` ends the turn at the
    first response and hands its function calls back unanswered in the ``Result`` (the batch
    face forces one function whose arguments are the row's result: nothing is to be run).
    ``stateless`` carries the conversation in the client: every request sends the thread's
    own items as input, with ``store: false`` and no ``previous_response_id``."""

    text: str
    parts: list[dict[str, Any]] = field(default_factory=list)
    role: str = "user"
    fields: dict[str, Any] = field(default_factory=dict)
    thread: str | None = None
    new: bool = False
    continue_id: str | None = None
    cell_id: str | None = None
    tools: Any = None
    max_rounds: int = 8
    max_calls_per_round: int = 16
    max_calls: int = 64
    source: str = "magic"
    items: list[dict[str, Any]] | None = None
    stop_at_calls: bool = False
    stateless: bool = False

    def __post_init__(self) -> None:
        self.fields = check_fields(self.fields)
        self.role = check("role", self.role)
        self.max_rounds = check("max_tool_rounds", self.max_rounds)
        self.max_calls_per_round = check("max_tool_calls_per_round", self.max_calls_per_round)
        self.max_calls = check("max_tool_calls", self.max_calls)
        if self.items is None and not self.text.strip() and not self.parts:
            raise ConfigError(NOTHING_TO_SEND)

    def input(self) -> Any:
        """The request's ``input``: a bare string when that says it all, else one message."""
        if self.items is not None:
            return self.items
        if not self.parts and self.role == "user":
            return self.text
        content: list[dict[str, Any]] = []
        if self.text:
            content.append({"type": "input_text", "text": self.text})
        content.extend(self.parts)
        return [{"type": "message", "role": self.role, "content": content}]
