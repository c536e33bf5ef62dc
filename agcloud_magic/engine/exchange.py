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
        self.notes: list[str] = []
        # Client-carried: the whole transcript of the turn so far (history, then what this
        # turn sent and got), resent on every request.
        self._transcript: list[dict[str, Any]] = []
        self._chained = False  # the first request went by previous_response_id

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
        self.sent = [body["input"]]
        if self.ask.stateless:
            return self._carried(body, store=False)
        if self.parent_id:
            body["previous_response_id"] = self.parent_id
            self._chained = True
        return body

    def history(self) -> list[dict[str, Any]]:
        """The items of the turns this one follows, oldest first, as input items: what the
        client sends when it carries the conversation (ids and statuses dropped: the server
        may never have stored them; reasoning without its encrypted content cannot be
        replayed)."""
        chain: list[Turn] = []
        current, seen = self.parent_id, set()
        while current is not None and current in self.thread.turns and current not in seen:
            seen.add(current)
            chain.append(self.thread.turns[current])
            current = chain[-1].parent_id
        items: list[dict[str, Any]] = []
        for turn in reversed(chain):
            items.extend(replayable(item) for item in turn.input_items + turn.output_items
                         if _can_replay(item))
        return items

    def can_replay(self) -> bool:
        """Whether a first request chained onto ``parent_id`` can be sent again carrying the
        thread's items instead (the kernel has the whole path to it)."""
        return bool(self.parent_id) and self.parent_id in self.thread.turns and not self.rounds

    def replay_body(self) -> dict[str, Any]:
        """The first request again, the thread's items in place of ``previous_response_id``
        (stored as usual, so the next turn chains onto the answer)."""
        body = self._base()
        body["input"] = self.ask.input()
        self._chained = False
        self.notes.append(
            f"Replayed the thread from this kernel's copy: the server no longer has response "
            f"{self.parent_id} (restarted, expired, or a gateway that keeps no state).")
        return self._carried(body, store=None)

    def _carried(self, body: dict[str, Any], store: bool | None) -> dict[str, Any]:
        self._transcript = self.history() + _as_items([body["input"]])
        body["input"] = list(self._transcript)
        body.pop("previous_response_id", None)
        if store is not None:
            body["store"] = store
        return body

    def on_result(self, result: Result) -> list[dict[str, Any]]:
        """Take a finished response; return the function calls that still need answers."""
        self.rounds.append(result)
        self.last = result
        if self._chained and len(self.rounds) == 1:
            self._check_history_used(result)
        calls = result.function_calls
        # stop_at_calls: the calls are the answer (the batch face reads them), not work to do;
        # so are the calls of raw function specs alone: the caller runs those functions.
        if (not calls or self.ask.stop_at_calls or self.ask.tools is None
                or not self.ask.tools.runs_functions()):
            return []
        if len(self.rounds) > self.ask.max_rounds:
            raise rounds_exhausted(self.ask.max_rounds, result)
        return calls

    def _check_history_used(self, result: Result) -> None:
        """A chained answer that read fewer input tokens than the thread before it held was
        given without that thread: the server (LiteLLM without a database, say) accepted
        ``previous_response_id`` and dropped the history.  Said once per kernel."""
        parent = self.thread.turns.get(self.parent_id or "")
        used = (result.usage or {}).get("input_tokens")
        if parent is None or not parent.usage or not isinstance(used, int):
            return
        before = sum(parent.usage.get(k, 0) for k in ("input_tokens", "output_tokens")
                     if isinstance(parent.usage.get(k), int))
        if used < before and not self.conversation.warned_history_dropped:
            self.conversation.warned_history_dropped = True
            self.notes.append(
                f"The server seems to ignore previous_response_id: this turn read {used:,} "
                f"input tokens, fewer than the {before:,} of the thread before it, so it "
                "answered without the history. %agcloud config conversation=client sends the "
                "history with every request.")

    def next_body(self, outputs: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The follow-up body carrying tool ``outputs``, or ``None`` when the turn is over."""
        if not outputs or self.last is None:
            return None
        body = self._base()
        body.pop("tool_choice", None)  # a forced choice would loop forever
        self.sent.append(outputs)
        if self.ask.stateless:  # carried by the client: everything so far, then the outputs
            self._transcript += [replayable(i) for i in self.last.output or [] if _can_replay(i)]
            self._transcript += outputs
            body["input"] = list(self._transcript)
            body["store"] = False
            return body
        # (A replayed turn's answers are stored, so its tool rounds chain as usual.)
        body["input"] = outputs
        body["previous_response_id"] = self.last.id
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


def _can_replay(item: dict[str, Any]) -> bool:
    return item.get("type") != "reasoning" or bool(item.get("encrypted_content"))


def replayable(item: dict[str, Any]) -> dict[str, Any]:
    """``item`` as an input item of a later request: without its server ``id`` and
    ``status`` (a response that was not stored has no items to refer to)."""
    return {k: v for k, v in item.items() if k not in ("id", "status")}


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
