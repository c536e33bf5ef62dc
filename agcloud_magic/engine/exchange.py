"""One turn of a conversation as a small state machine. Pure (no I/O).

Every face drives the same steps (through :func:`agcloud_magic.engine.driver.turn_steps`), so
the rules live here once: which response to chain onto, what body to send (instructions resent
on every request; tools resent on every round), when the tool loop continues, and what gets
recorded.

Driver loop::

    exchange = Exchange(conversation, ask)
    body = exchange.first_body()
    while body is not None:
        result = <send body, streaming>
        calls = exchange.on_result(result)       # function calls still to answer, or []
        outputs = <run calls>  if calls else []
        body = exchange.next_body(outputs)       # None when the turn is over
    turn = exchange.record()
"""

from __future__ import annotations

from typing import Any

from agcloud_magic.engine.ask import Ask
from agcloud_magic.engine.conversation import Conversation, Thread, Turn
from agcloud_magic.errors import ToolError
from agcloud_magic.wire.result import Result

__all__ = ["Exchange", "rounds_exhausted"]


def rounds_exhausted(bound: int, partial: Result, knob: str = "--max-rounds") -> ToolError:
    """The error for a tool loop that hit its bound (``knob`` names the setting to raise)."""
    return ToolError(
        f"Stopped after {bound} tool rounds without a final answer: raise {knob}, or ask "
        "more narrowly.",
        partial=partial,
    )


class Exchange:
    """The steps of one turn: first body, tool rounds, record.

    Reading the conversation is all it does until :meth:`record`: it never creates or
    selects a thread, so a dry run and a failed request leave the conversation untouched."""

    def __init__(self, conversation: Conversation, ask: Ask) -> None:
        self.conversation = conversation
        self.ask = ask
        name = ask.thread or conversation.current
        self.thread: Thread = conversation.threads.get(name) or Thread(name)
        # A turn with --new simply has no parent (it becomes the head of a fresh path).
        if ask.new:
            self.parent_id: str | None = None
        elif ask.continue_id:
            self.parent_id = ask.continue_id
        else:
            self.parent_id = self.thread.parent_for(ask.cell_id)
        instructions = ask.fields.get("instructions")
        # The API does not inherit instructions through previous_response_id: remember them
        # per thread and resend them on every turn.
        if instructions is None and not ask.new:
            instructions = self.thread.instructions
        self.instructions = instructions
        self.rounds: list[Result] = []
        self.sent: list[Any] = []  # the input of every request of the turn, in order
        self.last: Result | None = None

    def _base(self) -> dict[str, Any]:
        body = {k: v for k, v in self.ask.fields.items() if v is not None}
        if self.instructions:
            body["instructions"] = self.instructions
        if self.ask.tools is not None:
            specs = self.ask.tools.specs()
            if specs:
                body["tools"] = specs
        body.setdefault("stream", True)
        return body

    def first_body(self) -> dict[str, Any]:
        """The body of the turn's first request."""
        body = self._base()
        body["input"] = self.ask.input()
        if self.parent_id:
            body["previous_response_id"] = self.parent_id
        self.sent = [body["input"]]
        return body

    def on_result(self, result: Result) -> list[dict[str, Any]]:
        """Take a finished response; return the function calls that still need answers."""
        self.rounds.append(result)
        self.last = result
        calls = result.function_calls
        # stop_at_calls: the calls are the answer (the batch face reads them), not work to do;
        # so are the calls of raw function specs alone: the caller runs those functions.
        if (not calls or self.ask.stop_at_calls or self.ask.tools is None
                or not self.ask.tools.runs_functions()):
            return []
        if len(self.rounds) > self.ask.max_rounds:
            raise rounds_exhausted(self.ask.max_rounds, result)
        return calls

    def next_body(self, outputs: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The follow-up body carrying tool ``outputs``, or ``None`` when the turn is over."""
        if not outputs or self.last is None:
            return None
        body = self._base()
        body.pop("tool_choice", None)  # a forced choice would loop forever
        body["input"] = outputs
        body["previous_response_id"] = self.last.id
        self.sent.append(outputs)
        return body

    def record(self) -> Turn | None:
        """Record the finished turn in its thread (it becomes the head, the thread current)."""
        final = self.last
        if final is None or not final.id:
            return None
        earlier = self.rounds[:-1]
        turn = Turn(
            response_id=final.id,
            parent_id=self.parent_id,
            cell_id=self.ask.cell_id,
            model=final.model,
            prompt=self.ask.text,
            answer=final.text,
            usage=final.usage,
            status=final.status,
            source=self.ask.source,
            rounds=[r.id for r in earlier if r.id],
            round_usage=[r.usage for r in earlier if r.usage],
            input_items=_as_items(self.sent),
            output_items=[item for r in self.rounds for item in (r.output or [])],
        )
        self.conversation.threads.setdefault(self.thread.name, self.thread)
        self.conversation.current = self.thread.name
        self.thread.instructions = self.instructions
        self.thread.record(turn)
        return turn


def _as_items(inputs: list[Any]) -> list[dict[str, Any]]:
    """Every input the turn sent as input items (a bare string is a user message)."""
    items: list[dict[str, Any]] = []
    for sent in inputs:
        if isinstance(sent, str):
            items.append({"type": "message", "role": "user",
                          "content": [{"type": "input_text", "text": sent}]})
        else:
            items.extend(sent)
    return items
