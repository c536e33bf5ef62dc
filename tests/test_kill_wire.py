"""Mutation-testing gaps in the wire layer (SSE fields, error events, Result): pure functions,
tested directly."""

from __future__ import annotations

import json

import pytest

from agcloud_magic.wire import events as ev
from agcloud_magic.wire.accumulator import Accumulator
from agcloud_magic.wire.result import Result
from agcloud_magic.wire.sse import ServerSentEvent, SSEParser


def parse(raw: bytes) -> list[ServerSentEvent]:
    return SSEParser().feed(raw)


# -- SSE: the rarer field lines -------------------------------------------------------------


def test_an_event_line_without_colon_resets_the_event_name():
    # WHATWG: a line "event" (no colon) is the field "event" with an empty value.
    (event,) = parse(b"event: custom\nevent\ndata: x\n\n")
    assert event.event == "message" and event.data == "x"


def test_a_field_line_without_colon_is_only_its_name():
    (event,) = parse(b"event: custom\nidle\ndata: x\n\n")
    assert event.event == "custom"


def test_id_keeps_colons_in_its_value_and_refuses_nul():
    (event,) = parse(b"id: a:b:c\ndata: x\n\n")
    assert event.id == "a:b:c"
    (event,) = parse(b"id:7\ndata: x\n\n")
    assert event.id == "7"
    first, second = parse(b"id: 1\ndata: x\n\nid: 2\x003\ndata: y\n\n")
    assert first.id == "1" and second.id == "1"  # an id with NUL is ignored; the last stays


def test_unknown_fields_and_retry_are_ignored():
    (event,) = parse(b"retry: 100\nfoo: bar\nevent: e\ndata: d\n\n")
    assert event == ServerSentEvent("e", "d", None)


# -- error events: nested (OpenAI) and flat (the spec) ----------------------------------------


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"type": "error", "error": {"code": "c1", "type": "t1", "message": "m1"}}, ("c1", "m1")),
        ({"type": "error", "error": {"type": "t1", "message": "m1"}}, ("t1", "m1")),
        ({"type": "error", "error": {"code": "c1"}, "message": "outer"}, ("c1", "outer")),
        ({"type": "error", "error": {}}, (None, "unknown error")),
        ({"type": "error", "code": "c2", "message": "m2"}, ("c2", "m2")),
        ({"type": "error", "code": 429, "message": "m2"}, ("429", "m2")),
        ({"type": "error"}, (None, "unknown error")),
        ({"type": "error", "error": "just text", "code": "c3", "message": "m3"}, ("c3", "m3")),
        ({"type": "error", "message": 12}, (None, "12")),
    ],
)
def test_error_details(event, expected):
    assert ev.error_details(event) == expected


def test_an_error_event_alone_fails_the_result_with_its_code_and_message():
    acc = Accumulator()
    acc.feed({"type": ev.TEXT_DELTA, "delta": "partial "})
    acc.feed({"type": "error", "error": {"code": "server_error", "message": "boom"}})
    result = acc.finish(cut=True)
    assert result.status == "failed" and result.text == "partial "
    assert result.error == {"code": "server_error", "message": "boom"}


# -- Result -------------------------------------------------------------------------------


def test_result_json_parses_the_text():
    assert Result(text='{"a": [1, 2]}').json() == {"a": [1, 2]}
    with pytest.raises(json.JSONDecodeError):
        Result(text="not json").json()


@pytest.mark.parametrize("length", [59, 60])
def test_result_repr_shows_short_texts_whole(length):
    text = "x" * length
    assert f"text={text!r}" in repr(Result(id="r1", text=text))


def test_result_repr_cuts_long_texts_to_sixty_characters():
    text = "y" * 61
    shown = repr(Result(id="r1", model="m", status="completed", text=text))
    assert shown == (
        "Result(id='r1', model='m', status='completed', text=" + repr("y" * 57 + "...") + ")"
    )


# -- the accumulator ----------------------------------------------------------------------


def fold(*events: dict, cut: bool = True) -> tuple[Accumulator, Result]:
    acc = Accumulator()
    for event in events:
        acc.feed(event)
    return acc, acc.finish(cut=cut)


def test_sequence_gaps_are_counted_and_the_last_number_kept():
    acc, _ = fold(*({"type": "x", "sequence_number": n} for n in (0, 1, 3, 4, 9)),
                  {"type": "x", "sequence_number": "10"}, {"type": "x"})
    assert acc.sequence_gaps == 2 and acc.last_sequence == 9
    acc, _ = fold({"type": "x", "sequence_number": 5}, {"type": "x", "sequence_number": 6})
    assert acc.sequence_gaps == 0 and acc.last_sequence == 6


def test_a_cut_stream_keeps_its_deltas_and_snapshot_fields():
    acc, result = fold(
        {"type": ev.CREATED, "response": {"id": "r1", "model": "m1", "status": "queued"}},
        {"type": ev.IN_PROGRESS, "response": {"id": None, "status": "in_progress"}},
        {"type": ev.TEXT_DELTA, "delta": "Hel"},
        {"type": ev.TEXT_DELTA, "delta": None},
        {"type": ev.TEXT_DELTA, "delta": "lo"},
        {"type": ev.SUMMARY_DELTA, "delta": "think"},
        {"type": ev.SUMMARY_DELTA, "delta": "ing"},
    )
    assert acc.text == "Hello" and acc.terminal is None
    assert (result.id, result.model, result.status, result.text) == ("r1", "m1", "cut", "Hello")
    assert result.reasoning_summary == "thinking" and result.usage is None
    assert result.response is None
    _, uncut = fold({"type": ev.TEXT_DELTA, "delta": "x"}, cut=False)
    assert uncut.status == "in_progress" and uncut.text == "x"


def test_items_by_output_index_and_arguments_from_deltas():
    call = {"type": "function_call", "name": "f", "call_id": "c1", "arguments": ""}
    _, result = fold(
        {"type": ev.ITEM_ADDED, "output_index": 1, "item": call},
        {"type": ev.ITEM_ADDED, "output_index": 0,
         "item": {"type": "message", "content": [{"type": "output_text", "text": "A"}]}},
        {"type": ev.ITEM_ADDED, "item": "not an item"},
        {"type": ev.ARGS_DELTA, "output_index": 1, "delta": '{"x":'},
        {"type": ev.ARGS_DELTA, "output_index": 1, "delta": " 1}"},
        {"type": ev.ARGS_DELTA, "output_index": 7, "delta": "orphan"},
        {"type": ev.REFUSAL_DONE, "refusal": "no"},
    )
    assert [item["type"] for item in result.output] == ["message", "function_call"]
    assert result.function_calls[0]["arguments"] == '{"x": 1}'
    assert result.text == "A" and result.refusal == "no"
    _, result = fold({"type": ev.ITEM_ADDED, "item": {"type": "a"}},
                     {"type": ev.ITEM_ADDED, "item": {"type": "b"}},
                     {"type": ev.ARGS_DELTA, "delta": "d"})
    assert [i["type"] for i in result.output] == ["a", "b"] and result.output[0]["arguments"] == "d"


def test_the_terminal_snapshot_wins_over_deltas():
    final = {
        "id": "r2", "model": "m2", "status": "completed", "usage": {"total_tokens": 3},
        "error": None, "incomplete_details": None,
        "output": [
            {"type": "reasoning", "summary": [{"text": "one"}, {"text": ""}, {"text": "two"}]},
            {"type": "message", "content": [{"type": "output_text", "text": "Full answer"}]},
            {"type": "function_call", "name": "f", "arguments": '{"a":1}'},
        ],
    }
    acc, result = fold(
        {"type": ev.TEXT_DELTA, "delta": "Full ans"},
        {"type": ev.SUMMARY_DELTA, "delta": "partial"},
        {"type": ev.ARGS_DELTA, "output_index": 2, "delta": "ignored"},
        {"type": ev.COMPLETED, "response": final},
    )
    assert acc.terminal == ev.COMPLETED and result.response is final
    assert (result.status, result.text, result.usage) == ("completed", "Full answer",
                                                           {"total_tokens": 3})
    assert result.reasoning_summary == "one\n\ntwo"
    assert result.function_calls[0]["arguments"] == '{"a":1}'


def test_a_terminal_without_text_items_falls_back_to_the_deltas():
    _, result = fold({"type": ev.TEXT_DELTA, "delta": "only deltas"},
                     {"type": ev.INCOMPLETE, "response": {
                         "status": "incomplete", "output": [],
                         "incomplete_details": {"reason": "max_output_tokens"}}})
    assert result.text == "only deltas" and result.status == "incomplete"
    assert result.incomplete_details == {"reason": "max_output_tokens"}


def test_an_error_event_before_the_terminal_does_not_change_its_status():
    acc, result = fold(
        {"type": "error", "code": "boom", "message": "it broke"},
        {"type": ev.FAILED, "response": {"status": "failed", "error": {"code": "x"}}},
    )
    assert (acc.error_code, acc.error_message) == ("boom", "it broke")
    assert result.status == "failed" and result.error == {"code": "x"}
