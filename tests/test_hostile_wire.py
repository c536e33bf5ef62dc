"""What a hostile or broken server sends, at the wire level: lone UTF-16 surrogates, values of
the wrong type, JSON nested past the recursion limit, a usage that is not token counts, events
after the terminal one.  Every byte sequence must end as a ``Result`` or one error of the
package's tree, with only well-typed values on the result."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agcloud_magic.display.render import format_footer
from agcloud_magic.errors import AGCloudError, ServerDataError, StreamCutError
from agcloud_magic.http.client import Client
from agcloud_magic.http.settings import Settings
from agcloud_magic.wire import events as ev
from agcloud_magic.wire.accumulator import Accumulator
from agcloud_magic.wire.outcome import conclude, whole_response
from agcloud_magic.wire.result import Result, clean_usage, output_text
from agcloud_magic.wire.sse import SSEParser

from .hostile_support import USAGE, answer, message, replaying, response, sse

SMILE = "\U0001f600"  # 😀, "\ud83d\ude00" in UTF-16


def fold(raw: bytes) -> tuple[Accumulator, list[dict[str, Any]]]:
    """Parse, decode and fold ``raw`` as the client does; the events it passes on."""
    acc, shown = Accumulator(), []
    for sse_event in SSEParser().feed(raw):
        event = acc.feed_sse(sse_event)
        if event is not None:
            shown.append(event)
    return acc, shown


def outcome(raw: bytes) -> Result | AGCloudError:
    acc, _ = fold(raw)
    try:
        return conclude(acc, elapsed=0.1, request_id=None, secret=None)
    except AGCloudError as exc:
        return exc


def deltas(shown: list[dict[str, Any]], kind: str = ev.TEXT_DELTA) -> str:
    return "".join(e["delta"] for e in shown if e["type"] == kind)


def utf8_clean(value: Any) -> bool:
    """Every string inside ``value`` encodes as UTF-8 (what a kernel's serialiser needs)."""
    json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")
    return True


# -- 1. lone surrogates ------------------------------------------------------------------


def test_an_emoji_split_across_two_deltas_is_joined():
    acc, shown = fold(sse(*answer(["Hi \ud83d", "\ude00 there"], final=f"Hi {SMILE} there")))
    assert deltas(shown) == f"Hi {SMILE} there"
    assert acc.text == f"Hi {SMILE} there"
    assert all(utf8_clean(e) for e in shown)
    assert outcome(sse(*answer(["Hi \ud83d", "\ude00 there"]))).text == f"Hi {SMILE} there"


def test_a_delta_that_is_only_the_high_half_passes_on_empty():
    _, shown = fold(sse(*answer(["a", "\ud83d", "", "\ude00", "b"])))
    assert [e["delta"] for e in shown if e["type"] == ev.TEXT_DELTA] == ["a", "", "", SMILE, "b"]


def test_lone_halves_become_the_replacement_character():
    # A high half not followed by a low one, a low half on its own, one inside a delta.
    acc, shown = fold(sse(*answer(["x\ud83d", "y", "\ude00z", "m\udc00n\ud800o"])))
    assert deltas(shown) == "x\ufffdy\ufffdzm\ufffdn\ufffdo"
    assert acc.text == deltas(shown)


def test_a_high_half_at_the_end_of_a_cut_stream_is_replaced():
    raw = sse(*answer(["end\ud83d"])[:-1])  # no completed event
    error = outcome(raw)
    assert isinstance(error, StreamCutError) and error.partial.text == "end\ufffd"


def test_halves_of_different_kinds_are_not_joined():
    reasoning = {"type": ev.SUMMARY_DELTA, "output_index": 0, "summary_index": 0,
                 "delta": "think \ud83d"}
    events = answer(["\ude00 text"])
    _, shown = fold(sse(events[0], reasoning, *events[1:]))
    assert deltas(shown) == "\ufffd text"
    assert deltas(shown, ev.SUMMARY_DELTA) == "think "  # held back, never completed


def test_reasoning_and_refusal_deltas_are_joined_too():
    events = [
        {"type": ev.SUMMARY_DELTA, "delta": "\ud83d"},
        {"type": ev.SUMMARY_DELTA, "delta": "\ude00"},
        {"type": ev.REFUSAL_DELTA, "delta": "no \ud83d"},
        {"type": ev.REFUSAL_DELTA, "delta": "\ude00"},
    ]
    _, shown = fold(sse(*events))
    assert deltas(shown, ev.SUMMARY_DELTA) == SMILE
    assert deltas(shown, ev.REFUSAL_DELTA) == f"no {SMILE}"


def test_lone_halves_in_every_other_server_string_are_replaced():
    final = response("done \ud83d", id="resp_\udc00", model="echo\ud83d")
    failed = {"type": ev.FAILED, "response": {
        **final, "status": "failed", "error": {"code": "x\ud800", "message": "boom \ud83d"}}}
    result = outcome(sse({"type": ev.COMPLETED, "response": final}))
    assert (result.text, result.id, result.model) == ("done \ufffd", "resp_\ufffd", "echo\ufffd")
    assert utf8_clean(result.response) and utf8_clean(result.output)
    error = outcome(sse(failed))
    assert "boom \ufffd" in str(error) and utf8_clean(error.partial.error)
    error_event = outcome(sse({"type": "error", "error": {"message": "bad \udc00 thing"}}))
    assert "bad \ufffd thing" in str(error_event)


def test_a_whole_json_answer_with_lone_halves_is_clean():
    body = json.dumps(response("whole \ud83d answer", model="m\udc00")).encode()
    result = conclude(whole_response(body), elapsed=0.1, request_id=None, secret=None)
    assert result.text == "whole \ufffd answer" and result.model == "m\ufffd"


def test_an_escaped_backslash_before_u_is_no_surrogate():
    # "\\ud83d" in JSON is a backslash and the letters "ud83d": nothing to replace.
    raw = b'data: {"type": "response.output_text.delta", "delta": "\\\\ud83d"}\n\n'
    _, shown = fold(raw)
    assert shown[0]["delta"] == "\\ud83d"


# -- 2. values of the wrong type -----------------------------------------------------------


def test_json_nested_past_the_recursion_limit_is_a_malformed_line():
    deep = b"[" * 100_000 + b"]" * 100_000
    raw = sse(deep, *answer(["still here"]))
    result = outcome(raw)
    assert isinstance(result, Result) and result.text == "still here"


@pytest.mark.parametrize("kind", [["response.output_text.delta"], {"a": 1}, 7, None])
def test_a_type_of_the_wrong_type_with_a_lone_half_is_no_crash(kind):
    # Found by tests/test_hostile_property.py: the surrogate walk looked the type up in a set.
    line = json.dumps({"type": kind, "delta": "\ud83d"}).encode()
    result = outcome(sse(line, *answer(["fine"])))
    assert isinstance(result, Result) and result.text == "fine"


def test_a_stream_of_only_garbage_is_server_data_not_completed():
    deep = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    error = outcome(sse(b"<html>", deep, b"[1, 2]", b'"text"', b"not json"))
    assert isinstance(error, ServerDataError) and not isinstance(error, StreamCutError)
    assert "5 " in str(error) and error.partial.status == "cut"


def test_a_plain_cut_stream_is_still_a_cut():
    assert type(outcome(sse(*answer(["partial"])[:-1]))) is StreamCutError


@pytest.mark.parametrize("delta", [5, 1.5, True, ["a"], {"a": "b"}, None])
def test_a_delta_that_is_not_text_is_dropped(delta):
    acc, shown = fold(sse(*answer(["a", delta, "b"], final="ab")))
    assert deltas(shown) == "ab" and acc.text == "ab"
    assert all(isinstance(e["delta"], str) for e in shown if e["type"] == ev.TEXT_DELTA)


@pytest.mark.parametrize("index", [[0], {"i": 0}, "0", 1.0, None, True])
def test_an_output_index_that_is_not_an_int_counts_as_missing(index):
    events = [
        {"type": ev.ITEM_ADDED, "output_index": index, "item": message("")},
        {"type": ev.ARGS_DELTA, "output_index": index, "delta": "{}"},
        {"type": ev.ITEM_DONE, "output_index": index, "item": message("hello")},
    ]
    error = outcome(sse(*events))
    assert isinstance(error, StreamCutError) and error.partial.text == "hello"


@pytest.mark.parametrize("value", [{"x": 1}, ["resp"], 7, True, ""])
def test_ids_models_and_statuses_of_the_wrong_type_are_dropped(value):
    result = outcome(sse({"type": ev.COMPLETED, "response": response(
        "ok", id=value, model=value, status=value)}))
    assert result.text == "ok"
    assert result.id is None and result.model is None
    assert result.status == "completed"  # from the terminal event, not str(value)


def test_non_dict_items_parts_and_wrong_typed_texts_are_skipped():
    output = [1, "x", None, ["message"],
              {"type": "message", "content": "not a list"},
              {"type": "message", "content": [1, "p", {"type": "output_text", "text": 5},
                                              {"type": "output_text", "text": "kept"}]},
              {"type": "reasoning", "summary": "abc"},
              {"type": "reasoning", "summary": [1, {"type": "summary_text", "text": ["t"]},
                                                {"type": "summary_text", "text": "why"}]}]
    result = outcome(sse({"type": ev.COMPLETED, "response": response(output=output)}))
    assert result.text == "kept" and result.reasoning_summary == "why"
    assert all(isinstance(item, dict) for item in result.output)
    assert output_text([1, {"type": "message", "content": [None]}]) == ""  # type: ignore[list-item]


@pytest.mark.parametrize("details", ["quota", ["max_output_tokens"], {"reason": 5}])
def test_incomplete_details_of_the_wrong_type(details):
    error = outcome(sse({"type": ev.INCOMPLETE, "response": response(
        "half", status="incomplete", incomplete_details=details)}))
    assert isinstance(error, AGCloudError) and "unknown reason" in str(error)
    assert error.partial.text == "half"


@pytest.mark.parametrize("error_value", ["boom", ["boom"], {"code": {"x": 1}, "message": 7}])
def test_a_failed_response_with_an_odd_error(error_value):
    error = outcome(sse({"type": ev.FAILED, "response": response(
        status="failed", error=error_value)}))
    assert isinstance(error, AGCloudError)
    assert "{" not in str(error) and "[" not in str(error)


@pytest.mark.parametrize("message_value", [{"x": 1}, ["m"], True, ""])
def test_an_error_event_whose_message_is_not_text(message_value):
    error = outcome(sse({"type": "error", "error": {"code": "c", "message": message_value}}))
    assert isinstance(error, AGCloudError) and "unknown error" in str(error)


# -- 3. usage ------------------------------------------------------------------------------


@pytest.mark.parametrize("usage", ["lots", ["1"], 5, True])
def test_a_usage_that_is_not_an_object_is_none(usage):
    assert outcome(sse(*answer(["ok"], usage=usage))).usage is None


def test_usage_fields_of_the_wrong_type_are_zeroed_or_dropped():
    usage = {"input_tokens": "12", "output_tokens": -3, "total_tokens": 7.5,
             "input_tokens_details": "none",
             "output_tokens_details": {"reasoning_tokens": [1], "other": 2},
             "extra": {"x": 1}, "cost": 3}
    assert clean_usage(usage) == {
        "input_tokens": 0, "output_tokens": 0, "total_tokens": 0,
        "output_tokens_details": {"reasoning_tokens": 0, "other": 2}, "cost": 3,
    }
    assert clean_usage(USAGE) == USAGE
    assert clean_usage(None) is None and clean_usage({"input_tokens": True})["input_tokens"] == 0


# -- 4. the first terminal event wins ------------------------------------------------------


def test_events_after_the_terminal_one_are_neither_folded_nor_passed_on():
    first, second = answer(["one"]), answer(["two"])
    second[-1]["response"]["id"] = "resp_2"
    acc, shown = fold(sse(*first, *second))
    assert deltas(shown) == "one" and shown[-1]["type"] == ev.COMPLETED
    result = conclude(acc, elapsed=0.1, request_id=None, secret=None)
    assert result.text == "one" and result.id == "resp_1"


def test_a_failed_after_completed_changes_nothing():
    events = [*answer(["fine"]), {"type": ev.FAILED, "response": response(status="failed")},
              {"type": "error", "message": "late"}]
    result = outcome(sse(*events))
    assert isinstance(result, Result) and result.text == "fine"


# -- every byte sequence: a Result or one error of the tree ----------------------------------

TYPES = [ev.CREATED, ev.IN_PROGRESS, ev.ITEM_ADDED, ev.ITEM_DONE, ev.PART_ADDED, ev.TEXT_DELTA,
         ev.TEXT_DONE, ev.REFUSAL_DELTA, ev.REFUSAL_DONE, ev.ARGS_DELTA, ev.SUMMARY_DELTA,
         ev.COMPLETED, ev.INCOMPLETE, ev.FAILED, ev.ERROR, "message", "reasoning",
         "output_text", "function_call", "summary_text"]
KEYS = ["type", "delta", "output_index", "content_index", "item", "response", "id", "model",
        "status", "usage", "output", "error", "incomplete_details", "text", "refusal",
        "sequence_number", "code", "message", "summary", "content", "arguments", "reason",
        "input_tokens", "output_tokens", "input_tokens_details", "cached_tokens"]
scalars = (st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False)
           | st.text(max_size=4) | st.sampled_from(TYPES) | st.just("\ud83d"))
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner,
                                                                max_size=5),
    max_leaves=25,
)
events_strategy = st.lists(
    st.builds(lambda kind, fields: {**fields, "type": kind}, st.sampled_from(TYPES),
              st.dictionaries(st.sampled_from(KEYS), values, max_size=6)),
    max_size=8,
)


def well_typed(result: Result) -> None:
    assert result.id is None or isinstance(result.id, str)
    assert result.model is None or isinstance(result.model, str)
    assert isinstance(result.status, str) and isinstance(result.text, str)
    assert isinstance(result.reasoning_summary, str) and isinstance(result.refusal, str)
    assert all(isinstance(item, dict) for item in result.output)
    assert result.usage is None or clean_usage(result.usage) == result.usage
    assert result.error is None or isinstance(result.error, dict)
    assert result.incomplete_details is None or isinstance(result.incomplete_details, dict)
    format_footer(result.model, result.usage, result.elapsed)
    repr(result), result._repr_mimebundle_(), result.function_calls
    utf8_clean([result.text, result.id, result.model, result.output, result.error])


@settings(max_examples=400, deadline=None)
@given(events=events_strategy)
def test_any_events_end_as_a_result_or_an_error_of_the_tree(events):
    raw = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)
    _, shown = fold(raw)
    for event in shown:
        if event["type"] in (ev.TEXT_DELTA, ev.REFUSAL_DELTA, ev.SUMMARY_DELTA):
            assert isinstance(event["delta"], str)
            utf8_clean(event["delta"])
    got = outcome(raw)
    well_typed(got if isinstance(got, Result) else got.partial)
    if isinstance(got, AGCloudError):
        str(got).encode("utf-8")


@settings(max_examples=200, deadline=None)
@given(body=values)
def test_any_whole_json_answer_ends_as_a_result_or_an_error_of_the_tree(body):
    try:
        result = conclude(whole_response(json.dumps(body).encode()), elapsed=0.1,
                          request_id=None, secret=None)
    except AGCloudError as exc:
        result = exc.partial
    well_typed(result)


@pytest.mark.parametrize("use_async", [False, True])
def test_the_client_keeps_the_answer_through_hostile_lines(use_async):
    import asyncio

    deep = b"[" * 100_000 + b"]" * 100_000
    events = answer(["Hi \ud83d", 5, "\ude00", None, ["x"]], final=f"Hi {SMILE}",
                    usage="lots", model={"m": 1})
    with replaying(sse(deep, *events)) as server:
        client = Client(Settings(api_key="sk-test-0123456789", base_url=server.base_url,
                                 model="echo"))
        body = {"model": "echo", "input": "hi", "stream": True}
        shown: list[dict[str, Any]] = []
        if use_async:
            result = asyncio.run(client.acreate(body, on_event=shown.append))
        else:
            result = client.create(body, on_event=shown.append)
    assert result.text == f"Hi {SMILE}" and deltas(shown) == f"Hi {SMILE}"
    assert result.usage is None and result.model == "echo"  # the dict dropped, created's kept


def test_an_http_error_body_with_a_lone_half_gives_a_clean_message():
    from .gateway_support import Capture

    body = b'{"error": {"message": "bad value \\ud83d here", "code": "invalid_value"}}'
    with replaying(b"") as server:
        server.queue.clear()
        server.push(Capture(400, "Bad Request", [("content-type", "application/json")], body))
        client = Client(Settings(api_key="sk-test-0123456789", base_url=server.base_url,
                                 model="echo"))
        with pytest.raises(AGCloudError) as caught:
            client.create({"model": "echo", "input": "hi", "stream": True})
    assert "bad value \ufffd here" in str(caught.value).encode("utf-8").decode("utf-8")
