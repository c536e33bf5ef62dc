"""Many rows per request: grouping, the multi-row answer, retries alone, a shared cache."""

from __future__ import annotations

import enum
import json

import pandas as pd
import pytest

import agcloud_magic
from agcloud_magic.batching.group import GroupRequest, groups
from agcloud_magic.batching.request import RowRequest
from agcloud_magic.batching.rowschema import row_schema

from . import test_batch
from .batch_server import Drop, Fail, is_multi_row, prompt_of, row_blocks
from .test_batch import REVIEW, review
from .test_batch_progress import Recorder

env = test_batch.env  # the batch tests' fixture: a loopback server, a session, a cache dir
offline = test_batch.offline  # ... and the real stand-in, with a session and a cache dir


def words(n: int) -> pd.DataFrame:
    return pd.DataFrame({"text": [f"good item {i}" if i % 3 else f"bad item {i} buy"
                                  for i in range(n)]}, index=[f"r{i}" for i in range(n)])


def test_against_the_stand_in_ten_rows_a_request_give_the_one_row_frame(offline):
    standin = offline
    # The stand-in derives each row of a multi-row request from that row's text alone, so the
    # grouped frame must equal the one-row frame exactly.
    frame = words(25)
    many = frame.respond.map("Review: {text}", REVIEW, rows_per_request=10, cache=False)
    assert standin.requests_served == 3  # 10 + 10 + 5
    one = frame.respond.map("Review: {text}", REVIEW, rows_per_request=1, cache=False)
    assert standin.requests_served == 3 + 25
    assert many["error"].isna().all(), many["error"].tolist()
    pd.testing.assert_frame_equal(many, one)


def test_the_multi_row_request_wraps_the_schema_and_numbers_the_rows(env):
    srv = env(review)
    out = words(3).respond.map("Review: {text}", REVIEW, instructions="Be kind.")
    assert srv.count == 1 and out["error"].isna().all()
    body = srv.bodies[0]
    assert body["instructions"].startswith("Be kind.\n\n")
    assert "### row <id>" in body["instructions"]
    assert body["tool_choice"] == {"type": "function", "name": "record_row"}
    (tool,) = body["tools"]
    assert tool["strict"] is True and tool["parameters"]["required"] == ["rows"]
    items = tool["parameters"]["properties"]["rows"]["items"]
    assert items["properties"]["id"] == {"type": "string"} and items["required"][0] == "id"
    assert [i for i, _ in row_blocks(prompt_of(body))] == ["1", "2", "3"]
    assert list(out["stars"]) == [5, 4, 4]  # each row's own answer, in the frame's order


def test_a_row_missing_from_the_answer_is_retried_alone(env):
    def reply(prompt, body):
        return Drop() if is_multi_row(body) and "item 2" in prompt else review(prompt, body)

    srv = env(reply)
    out = words(4).respond.map("Review: {text}", REVIEW)
    assert out["error"].isna().all(), out["error"].tolist()
    assert srv.count == 2 and not is_multi_row(srv.bodies[1])
    assert prompt_of(srv.bodies[1]) == "Review: good item 2"


def test_an_invalid_row_object_is_retried_alone(env):
    def reply(prompt, body):
        value = review(prompt, body)
        if is_multi_row(body) and "item 1" in prompt:
            value["sentiment"] = "meh"  # not in the enum
        return value

    srv = env(reply)
    out = words(3).respond.map("Review: {text}", REVIEW)
    assert out["error"].isna().all() and list(out["sentiment"]) == ["neg", "pos", "pos"]
    assert srv.count == 2 and prompt_of(srv.bodies[1]) == "Review: good item 1"


def test_a_request_that_fails_whole_sends_its_rows_alone(env):
    def reply(prompt, body):
        if is_multi_row(body):
            return Fail(400, "context too long")
        return Fail(400, "refused") if "item 0" in prompt else review(prompt, body)

    srv = env(reply)
    out = words(3).respond.map("Review: {text}", REVIEW)
    assert srv.count == 1 + 3
    assert out["error"].isna().tolist() == [False, True, True]
    assert "refused" in out.loc["r0", "error"]  # the row's own reason, not the group's


def test_the_token_budget_splits_long_prompts(env):
    srv = env(review)
    frame = pd.DataFrame({"text": [f"{i} " + "x" * 392 for i in range(6)]})  # ~100 tokens each
    plan = frame.respond.map("{text}", REVIEW, tokens_per_request=250, dry_run=True)
    assert plan.requests == 3
    out = frame.respond.map("{text}", REVIEW, tokens_per_request=250)
    assert srv.count == 3 and out["error"].isna().all()
    assert [len(row_blocks(prompt_of(b))) for b in srv.bodies] == [2, 2, 2]
    # A prompt over the budget by itself goes alone; the row limit cuts as well.
    assert groups(["a" * 40, "b", "c", "d"], 2, 5, multi=True) == [["a" * 40], ["b", "c"], ["d"]]
    assert groups(["a", "b"], 20, 4000, multi=False) == [["a"], ["b"]]
    # A prompt with a row line of its own would blur the boundaries: it goes alone.
    assert groups(["a", "### row 9\nb", "c"], 20, 4000, multi=True) == [
        ["### row 9\nb"], ["a", "c"]]


def test_the_cache_is_shared_across_rows_per_request(env):
    srv = env(review)
    frame = words(5)
    first = frame.respond.map("Review: {text}", REVIEW, rows_per_request=10)
    assert srv.count == 1
    again = frame.respond.map("Review: {text}", REVIEW, rows_per_request=1)
    assert srv.count == 1  # every row from the cache the grouped run filled
    pd.testing.assert_frame_equal(again, first)
    agcloud_magic.batch(["fresh one", *frame["text"]], "Review: {value}", REVIEW,
                        rows_per_request=3)
    assert srv.count == 2 and prompt_of(srv.bodies[1]) == "Review: fresh one"


def test_a_multi_row_request_counts_its_tokens_once(env):
    srv = env(review)
    sink = Recorder()
    words(6).respond.map("Review: {text}", REVIEW, progress=sink)
    last = sink.finished[0]
    assert srv.count == 1 and (last.total, last.done, last.failed) == (6, 6, 0)
    assert last.tokens == 5  # the one response's usage, not five per row


class _Answer:
    """A stand-in for a Result: just the function calls a multi-row answer holds."""

    def __init__(self, arguments: str) -> None:
        self.function_calls = [{"name": "record_row", "arguments": arguments}]


def test_reading_a_multi_row_answer_trusts_only_single_valid_rows():
    group = GroupRequest(RowRequest(row_schema({"stars": int}), {}))
    prompts = ["p1", "p2", "p3", "p4"]
    rows = [{"id": "1", "stars": 1}, {"id": "2", "stars": 2}, {"id": "2", "stars": 9},
            {"id": "3", "stars": "x"}, {"id": "7", "stars": 7}, {"id": "4", "stars": 4}]
    found = group.read(_Answer(json.dumps({"rows": rows})), prompts)  # type: ignore[arg-type]
    assert found == {"p1": {"stars": 1}, "p4": {"stars": 4}}  # 2 doubled, 3 invalid, 7 unknown
    assert group.read(_Answer("not json"), prompts) == {}  # type: ignore[arg-type]


def test_a_schema_with_its_own_id_field_sends_each_row_alone(env):
    srv = env(lambda prompt, body: {"id": prompt, "stars": 1})
    out = words(3).respond.map("Review: {text}", {"id": str, "stars": int})
    assert srv.count == 3 and out["error"].isna().all()
    assert list(out["id"]) == [f"Review: {t}" for t in words(3)["text"]]


def test_a_pydantic_schema_with_definitions_groups_against_the_stand_in(offline):
    # pydantic puts an Enum in $defs with a "#/$defs/.." ref; the wrapped schema keeps it at the
    # root, where the ref resolves, so the stand-in (and a real server) can answer it.
    pydantic = pytest.importorskip("pydantic")

    class Colour(enum.Enum):
        RED = "red"
        BLUE = "blue"

    class Row(pydantic.BaseModel):
        colour: Colour
        count: int

    items = [f"thing {i}" for i in range(6)]
    many = agcloud_magic.batch(items, "{value}", Row, rows_per_request=6, cache=False)
    assert offline.requests_served == 1, many["error"].tolist()
    one = agcloud_magic.batch(items, "{value}", Row, rows_per_request=1, cache=False)
    pd.testing.assert_frame_equal(many, one)
    assert many["error"].isna().all()


LONG = ("Classify this product review: its sentiment (positive or negative) and its star "
        "rating from 1 to 5. Review: {text}")


def test_the_shared_opening_is_cut_at_white_space_and_only_when_it_pays():
    from agcloud_magic.batching.group import MIN_SHARED, shared_opening

    prompts = [LONG.format(text=t) for t in ("good soap", "bad rope", "good gear")]
    opening = shared_opening(prompts)
    assert opening == LONG.format(text="")  # up to the white space before the review
    assert shared_opening(["Review: good soap", "Review: good rope"]) == ""  # too short
    assert shared_opening(prompts[:1]) == ""  # one row: nothing to share
    same = "x " * MIN_SHARED
    assert shared_opening([same + "a", same]) == ""  # a row with nothing of its own
    assert shared_opening(["a" * 50 + "b", "a" * 50 + "c"]) == ""  # no white space to cut at


def test_the_template_text_goes_once_and_each_row_carries_only_its_own(env):
    srv = env(review)
    out = words(4).respond.map(LONG, REVIEW)
    assert srv.count == 1 and out["error"].isna().all()
    text = prompt_of(srv.bodies[0])
    assert text.count("Classify this product review") == 1
    assert text.startswith(LONG.format(text="").rstrip() + "\n### row 1\n")
    assert [t for _, t in row_blocks(text)] == list(words(4)["text"])
    assert "text before the first such line applies to every row" in \
        srv.bodies[0]["instructions"]
    # Each row's answer is that row's (the scripted reply reads the row's own text).
    assert list(out["spam"]) == ["buy" in t for t in words(4)["text"]]


def test_sharing_the_opening_cuts_the_estimate(env):
    env(review)
    rows = words(20)
    grouped = rows.respond.map(LONG, REVIEW, dry_run=True)
    alone = rows.respond.map(LONG, REVIEW, dry_run=True, rows_per_request=1)
    template_tokens = len(LONG.format(text="")) // 4
    # 19 of the 20 copies of the template's text are gone (and 19 copies of the schema).
    assert alone.estimated_input_tokens - grouped.estimated_input_tokens > 19 * template_tokens
