"""Conversation threads and the re-run rule, pure (DESIGN section 3)."""

from __future__ import annotations

import itertools

from agcloud_magic.engine.ask import Ask
from agcloud_magic.engine.conversation import Conversation, Turn
from agcloud_magic.engine.exchange import Exchange
from agcloud_magic.wire.result import Result

_ids = itertools.count(1)


def run(conversation: Conversation, cell: str | None, text: str = "q", **ask_kwargs) -> Exchange:
    """One successful turn from ``cell``; returns the exchange (its first body is inspectable)."""
    exchange = Exchange(conversation, Ask(text=text, cell_id=cell, **ask_kwargs))
    exchange.first_body()
    exchange.on_result(
        Result(id=f"resp_{next(_ids)}", status="completed", text=f"answer to {text}")
    )
    exchange.record()
    return exchange


def history(conversation: Conversation) -> list[str]:
    return [turn.prompt for turn in conversation.thread().path()]


def test_chaining_uses_the_head():
    conv = Conversation()
    a = run(conv, "A", "a")
    b = Exchange(conv, Ask(text="b", cell_id="B"))
    assert b.first_body()["previous_response_id"] == a.last.id
    assert "previous_response_id" not in Exchange(Conversation(), Ask(text="x")).first_body()


def test_rerun_last_cell_replaces_it():
    conv = Conversation()
    run(conv, "A", "a")
    run(conv, "B", "b")
    run(conv, "B", "b2")
    assert history(conv) == ["a", "b2"]


def test_rerun_middle_cell_drops_the_later_turns_from_the_path():
    conv = Conversation()
    run(conv, "A", "a")
    run(conv, "B", "b")
    run(conv, "C", "c")
    run(conv, "B", "b2")
    assert history(conv) == ["a", "b2"]


def test_rerun_first_then_second():
    conv = Conversation()
    run(conv, "A", "a")
    run(conv, "B", "b")
    run(conv, "A", "a2")
    assert history(conv) == ["a2"]
    run(conv, "B", "b2")
    assert history(conv) == ["a2", "b2"]


def test_cells_without_ids_always_append():
    conv = Conversation()
    run(conv, None, "a")
    run(conv, None, "a")
    assert history(conv) == ["a", "a"]


def test_failure_leaves_the_head():
    conv = Conversation()
    a = run(conv, "A", "a")
    exchange = Exchange(conv, Ask(text="b", cell_id="B"))
    exchange.first_body()  # sent, then failed: nothing recorded
    assert conv.thread().head == a.last.id


def test_instructions_are_resent_every_turn_and_tools_every_round():
    conv = Conversation()
    run(conv, "A", "a", fields={"instructions": "Be brief."})
    body = Exchange(conv, Ask(text="b", cell_id="B")).first_body()
    assert body["instructions"] == "Be brief."
    body = Exchange(conv, Ask(text="c", fields={"instructions": "Be long."})).first_body()
    assert body["instructions"] == "Be long."


def test_new_and_named_threads_and_continue():
    conv = Conversation()
    a = run(conv, "A", "a")
    body = Exchange(conv, Ask(text="x", new=True)).first_body()
    assert "previous_response_id" not in body
    run(conv, "X", "other", thread="side")
    assert conv.current == "side" and history(conv) == ["other"]
    assert conv.thread("main").head == a.last.id
    body = Exchange(conv, Ask(text="y", continue_id="resp_from_before")).first_body()
    assert body["previous_response_id"] == "resp_from_before"


def test_usage_totals_count_tool_rounds():
    conv = Conversation()
    thread = conv.thread()
    thread.record(
        Turn(
            "r1",
            None,
            usage={"input_tokens": 5, "output_tokens": 7},
            round_usage=[{"input_tokens": 1, "output_tokens": 2}],
        )
    )
    thread.record(Turn("r2", "r1", usage={"input_tokens": 10, "output_tokens": 1}))
    assert thread.usage_totals() == (2, 16, 10)
    assert conv.usage_totals() == (2, 16, 10)
