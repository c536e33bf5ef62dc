"""Per-kernel conversation state: named threads, each a tree of turns. Pure (no I/O).

A new turn chains onto its thread's head with ``previous_response_id``.  Re-running a cell must
not stack duplicate turns: when the cell's earlier turn lies on the path from the root to the
head, the new turn branches from that turn's parent instead (DESIGN section 3):

* run A, B, re-run B            -> A, B'
* run A, B, C, re-run B         -> A, B'
* run A, B, re-run A, re-run B  -> A', B'

Failed or interrupted requests are never recorded, so the head stays where it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEFAULT_THREAD", "Conversation", "Thread", "Turn"]

DEFAULT_THREAD = "main"


def _tokens(usage: dict[str, Any] | None, key: str) -> int:
    value = (usage or {}).get(key)
    return value if isinstance(value, int) else 0


@dataclass
class Turn:
    """One exchange: the response that answered a cell (after any tool rounds).

    ``prompt`` and ``answer`` are the full texts; ``input_items`` every input item the turn
    sent (the prompt, then tool outputs) and ``output_items`` every output item it got, so
    the panel, ``%agcloud history`` and a later store all read the same transcript."""

    response_id: str
    parent_id: str | None
    cell_id: str | None = None
    model: str | None = None
    prompt: str = ""
    answer: str = ""
    usage: dict[str, Any] | None = None
    status: str = "completed"
    source: str = "magic"
    # Responses of earlier tool rounds of the same turn (their usage is counted too).
    rounds: list[str] = field(default_factory=list)
    round_usage: list[dict[str, Any]] = field(default_factory=list)
    input_items: list[dict[str, Any]] = field(default_factory=list)
    output_items: list[dict[str, Any]] = field(default_factory=list)

    @property
    def input_tokens(self) -> int:
        """Input tokens of this turn, tool rounds included."""
        return sum(_tokens(u, "input_tokens") for u in [self.usage, *self.round_usage])

    @property
    def output_tokens(self) -> int:
        """Output tokens of this turn, tool rounds included."""
        return sum(_tokens(u, "output_tokens") for u in [self.usage, *self.round_usage])


@dataclass
class Thread:
    """A named tree of turns with a head (the latest turn on the current path)."""

    name: str
    turns: dict[str, Turn] = field(default_factory=dict)
    head: str | None = None
    instructions: str | None = None

    def path(self) -> list[Turn]:
        """Turns from the root to the head, oldest first."""
        path: list[Turn] = []
        seen: set[str] = set()
        current = self.head
        while current is not None and current in self.turns and current not in seen:
            seen.add(current)
            turn = self.turns[current]
            path.append(turn)
            current = turn.parent_id
        path.reverse()
        return path

    def parent_for(self, cell_id: str | None) -> str | None:
        """The response a new turn from ``cell_id`` should chain onto."""
        if cell_id:
            for turn in self.path():
                if turn.cell_id == cell_id:
                    return turn.parent_id
        return self.head

    def record(self, turn: Turn) -> None:
        """Add ``turn`` and make it the head."""
        self.turns[turn.response_id] = turn
        self.head = turn.response_id

    def reset(self) -> None:
        """Start afresh: the next turn has no parent (old turns stay reachable by id)."""
        self.head = None
        self.instructions = None

    def usage_totals(self) -> tuple[int, int, int]:
        """``(turns, input tokens, output tokens)`` over every turn ever made in this thread."""
        turns = list(self.turns.values())
        return (
            len(turns),
            sum(t.input_tokens for t in turns),
            sum(t.output_tokens for t in turns),
        )


class Conversation:
    """All threads of one kernel, shared by the magics and the panel."""

    def __init__(self) -> None:
        self.threads: dict[str, Thread] = {DEFAULT_THREAD: Thread(DEFAULT_THREAD)}
        self.current = DEFAULT_THREAD
        # Said once per kernel: the server answered a chained turn without its history.
        self.warned_history_dropped = False

    def thread(self, name: str | None = None) -> Thread:
        """The thread called ``name`` (created on first use), or the current one."""
        name = name or self.current
        if name not in self.threads:
            self.threads[name] = Thread(name)
        return self.threads[name]

    def select(self, name: str) -> Thread:
        """Make ``name`` the current thread."""
        thread = self.thread(name)
        self.current = name
        return thread

    def find(self, response_id: str) -> tuple[Thread, Turn] | None:
        """The thread and turn that hold ``response_id``, if any."""
        for thread in self.threads.values():
            if response_id in thread.turns:
                return thread, thread.turns[response_id]
        return None

    def usage_totals(self) -> tuple[int, int, int]:
        """``(turns, input tokens, output tokens)`` over all threads."""
        totals = [t.usage_totals() for t in self.threads.values()]
        return tuple(sum(col) for col in zip(*totals, strict=False)) if totals else (0, 0, 0)  # type: ignore[return-value]
