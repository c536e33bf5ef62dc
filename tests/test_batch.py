"""A prompt per row: df.respond.map, series.respond.map and agcloud_magic.batch, over loopback."""

from __future__ import annotations

import _thread
import dataclasses
import enum
import sys
import threading
import time
from typing import Any, Literal, Optional, TypedDict

import pandas as pd
import pytest

import agcloud_magic
from agcloud_magic.accessor import register_pandas_accessor
from agcloud_magic.batching import job as job_module
from agcloud_magic.engine import session as session_module
from agcloud_magic.engine.session import Session
from agcloud_magic.errors import ConfigError, RequestInterrupted

from .batch_server import BatchServer, Fail, Hang, Raw


def review(prompt: str, body: dict) -> dict:
    """Deterministic arguments for the review schema, computed from the prompt."""
    return {"sentiment": "pos" if "good" in prompt else "neg", "stars": len(prompt.split()),
            "score": 0.5, "spam": "buy" in prompt, "note": None}


REVIEW = {"sentiment": Literal["pos", "neg"], "stars": int, "score": float, "spam": bool,
          "note": Optional[str]}  # noqa: UP045 (the spelling users write)


@pytest.fixture()
def env(monkeypatch, tmp_path):
    """Point the shared session at ``make(reply)``'s server and the cache at tmp_path."""
    register_pandas_accessor()
    servers: list[BatchServer] = []

    def make(reply) -> BatchServer:
        server = BatchServer(reply)
        servers.append(server)
        monkeypatch.setenv("AGCLOUD_BASE_URL", server.base_url)
        monkeypatch.setenv("AGCLOUD_API_KEY", "sk-test-batch-0000000000")
        monkeypatch.setenv("AGCLOUD_MODEL", "echo")
        monkeypatch.setenv("AGCLOUD_CACHE_DIR", str(tmp_path / "cache"))
        return server

    # A session of its own, made from this environment: another test may have changed the
    # shared one's preferences (model, retries) or logged it in elsewhere.
    session = Session()
    monkeypatch.setattr(session_module, "_CURRENT", session)
    yield make
    session.close()
    for server in servers:
        server.close()


def reviews() -> pd.DataFrame:
    return pd.DataFrame({"text": ["good soap", "bad rope here", "buy good now"]},
                        index=["a", "b", "c"])


def test_typed_columns_dtypes_and_the_forced_tool(env):
    srv = env(review)
    out = reviews().respond.map("Review: {text}", REVIEW, rows_per_request=1, temperature=0.2)
    assert list(out.index) == ["a", "b", "c"]
    assert list(out.columns) == ["sentiment", "stars", "score", "spam", "note", "error"]
    assert isinstance(out["sentiment"].dtype, pd.CategoricalDtype)
    assert list(out["sentiment"].cat.categories) == ["pos", "neg"]
    assert str(out["stars"].dtype) == "Int64" and str(out["score"].dtype) == "Float64"
    assert str(out["spam"].dtype) == "boolean" and str(out["note"].dtype) == "string"
    assert list(out["sentiment"]) == ["pos", "neg", "pos"]
    assert list(out["stars"]) == [3, 4, 4] and list(out["spam"]) == [False, False, True]
    assert out["note"].isna().all() and out["error"].isna().all()
    body = srv.bodies[0]
    assert body["tools"] == [{"type": "function", "name": "record_row", "strict": True,
                              "description": "Record the result for this row.",
                              "parameters": body["tools"][0]["parameters"]}]
    assert body["tool_choice"] == {"type": "function", "name": "record_row"}
    assert body["temperature"] == 0.2 and body["model"] == "echo"
    parameters = body["tools"][0]["parameters"]
    assert parameters["required"] == list(REVIEW) and parameters["additionalProperties"] is False
    assert srv.count == 3  # one request per row: the function call was not answered


def test_a_failed_row_leaves_the_others_and_says_why(env):
    def reply(prompt, body):
        if "rope" in prompt:
            return Fail(400, "this row is refused")
        if "buy" in prompt:
            return Raw('{"sentiment": "meh"}')  # invalid, and again on the repair round
        return review(prompt, body)

    srv = env(reply)
    out = reviews().respond.map("Review: {text}", REVIEW, rows_per_request=1)
    assert out.loc["a", "sentiment"] == "pos" and pd.isna(out.loc["a", "error"])
    assert "this row is refused" in out.loc["b", "error"] and pd.isna(out.loc["b", "stars"])
    error = out.loc["c", "error"]
    assert "\n" not in error and "sentiment" in error and pd.isna(out.loc["c", "sentiment"])
    repairs = [b for b in srv.bodies if "buy" in str(b["input"])]
    assert len(repairs) == 2 and '{"sentiment": "meh"}' in str(repairs[1]["input"])


def test_a_row_still_refused_after_the_retries_fails_alone(env, monkeypatch):
    monkeypatch.setattr(job_module, "RESEND_PAUSE", 0.01)
    limited = Fail(429, "Rate limit reached for requests per minute", (("retry-after", "0"),))
    srv = env(lambda p, b: limited if "rope" in p else review(p, b))
    # An explicit client pins the retries (the shared session's may have been changed).
    client = agcloud_magic.Client(max_retries=2)
    try:
        out = reviews().respond.map("Review: {text}", REVIEW, rows_per_request=1, client=client)
    finally:
        client.close()
    assert "Rate limit" in out.loc["b", "error"] and out["error"].notna().sum() == 1
    # A rate limit says "later": the batch sends the row again after a pause, RATE_RESENDS
    # times, each time with the client's 2 retries; then the row fails with the reason.
    assert sum("rope" in p for p in srv.prompts()) == 3 * (job_module.RATE_RESENDS + 1)


def test_one_repair_round_fixes_an_invalid_answer(env):
    def reply(prompt, body):
        if isinstance(body["input"], list) and len(body["input"]) > 1:
            return review(prompt, body)  # the repair request: now valid
        return {"sentiment": "pos", "stars": "many"}

    srv = env(reply)
    out = agcloud_magic.batch(["good one"], "{value}", REVIEW, rows_per_request=1)
    assert out.loc[0, "sentiment"] == "pos" and pd.isna(out.loc[0, "error"])
    assert srv.count == 2
    assert "stars" in str(srv.bodies[1]["input"])  # the validation error went back


def test_identical_prompts_are_sent_once(env):
    srv = env(review)
    frame = pd.DataFrame({"text": ["good", "bad", "good", "good"]})
    out = frame.respond.map("Review: {text}", REVIEW, rows_per_request=1, cache=False)
    assert srv.count == 2
    assert list(out["sentiment"]) == ["pos", "neg", "pos", "pos"]


def test_the_cache_resumes_a_partial_run(env):
    srv = env(lambda p, b: Fail(400) if "rope" in p else review(p, b))
    first = reviews().respond.map("Review: {text}", REVIEW, rows_per_request=1)
    assert first["error"].notna().sum() == 1 and srv.count == 3
    srv.reply = review
    second = reviews().respond.map("Review: {text}", REVIEW, rows_per_request=1)
    assert srv.count == 4 and srv.prompts()[-1] == "Review: bad rope here"
    assert second["error"].isna().all() and list(second["stars"]) == [3, 4, 4]
    assert str(second["stars"].dtype) == "Int64"
    # Other request options are part of the key.
    reviews().respond.map("Review: {text}", REVIEW, rows_per_request=1, temperature=0.3)
    assert srv.count == 7


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_the_cache_file_is_owner_only_and_holds_no_key_or_prompt(env, tmp_path):
    env(review)
    reviews().respond.map("Review: {text}", REVIEW, rows_per_request=1)
    path = tmp_path / "cache" / "batch.sqlite3"
    assert path.stat().st_mode & 0o077 == 0
    data = path.read_bytes()
    assert b"sk-test-batch" not in data and b"Review: good soap" not in data


def test_cache_false_sends_everything_again(env):
    srv = env(review)
    reviews().respond.map("Review: {text}", REVIEW, rows_per_request=1)
    reviews().respond.map("Review: {text}", REVIEW, rows_per_request=1, cache=False)
    assert srv.count == 6


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(),
                    reason="Ctrl-C reaches the main thread only")
def test_ctrl_c_cancels_keeps_finished_rows_and_a_rerun_sends_the_rest(env):
    srv = env(lambda p, b: Hang() if "x" in p else review(p, b))
    frame = pd.DataFrame({"text": ["good a", "x one", "bad b", "x two"]})

    pressed: list[float] = []

    def interrupt() -> None:
        deadline = time.monotonic() + 10
        while srv.count < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)
        pressed.append(time.monotonic())
        _thread.interrupt_main()

    threading.Thread(target=interrupt, daemon=True).start()
    with pytest.raises(RequestInterrupted, match="2 of 4 rows finished") as caught:
        frame.respond.map("Review: {text}", REVIEW, rows_per_request=1)
    assert time.monotonic() - pressed[0] < 1.5 and "\n" not in str(caught.value)
    srv.reply = review
    started = srv.count
    out = frame.respond.map("Review: {text}", REVIEW, rows_per_request=1)
    assert srv.count - started == 2 and out["error"].isna().all()
    assert sorted(srv.prompts()[started:]) == ["Review: x one", "Review: x two"]


def test_without_a_schema_one_answer_column(env):
    srv = env(lambda prompt, body: prompt.upper())
    out = agcloud_magic.batch(["a", "b"], "say {value}")
    assert list(out.columns) == ["answer", "error"]
    assert list(out["answer"]) == ["SAY A", "SAY B"] and str(out["answer"].dtype) == "string"
    assert "tools" not in srv.bodies[0] and "tool_choice" not in srv.bodies[0]


def test_template_errors_are_one_line_and_nothing_is_sent(env):
    srv = env(review)
    with pytest.raises(ConfigError, match="'txt'") as caught:
        reviews().respond.map("Review: {txt}", REVIEW, rows_per_request=1)
    assert "text" in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(ConfigError):
        reviews().respond.map("Review: {text", REVIEW, rows_per_request=1)
    with pytest.raises(ConfigError, match="temperature"):
        reviews().respond.map("Review: {text}", REVIEW, rows_per_request=1, temperature=5)
    with pytest.raises(ConfigError, match="tool_choice"):
        reviews().respond.map("Review: {text}", REVIEW, rows_per_request=1, tool_choice="auto")
    assert srv.count == 0


def test_escaped_braces_and_a_callable_template(env):
    srv = env(lambda prompt, body: prompt)
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    out = frame.respond.map("{{literal}} {a}:{b}", cache=False)
    assert list(out["answer"]) == ["{literal} 1:x", "{literal} 2:y"]
    out = frame.respond.map(lambda row: f"row {row['a'] * 10}", cache=False)
    assert list(out["answer"]) == ["row 10", "row 20"]
    assert srv.count == 4


def test_series_map_by_value_or_name(env):
    env(lambda prompt, body: prompt)
    series = pd.Series(["x", "y"], name="word", index=[5, 7])
    out = series.respond.map("{value}/{word}", cache=False)
    assert list(out.index) == [5, 7] and list(out["answer"]) == ["x/x", "y/y"]


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass
class Tagged:
    colour: Colour
    count: int


class TaggedDict(TypedDict):
    colour: Literal["red", "blue"]
    count: int


JSON_SCHEMA = {"type": "object", "properties": {"colour": {"type": "string",
               "enum": ["red", "blue"]}, "count": {"type": "integer"}},
               "required": ["colour", "count"], "additionalProperties": False}


@pytest.mark.parametrize("schema", [Tagged, TaggedDict, JSON_SCHEMA,
                                    {"colour": Colour, "count": int}])
def test_every_schema_kind(env, schema):
    env(lambda prompt, body: {"colour": "red" if "r" in prompt else "blue", "count": len(prompt)})
    out = agcloud_magic.batch(["r", "bb"], "{value}", schema, cache=False)
    assert list(out.columns) == ["colour", "count", "error"]
    assert list(out["colour"]) == ["red", "blue"] and list(out["count"]) == [1, 2]
    assert list(out["colour"].cat.categories) == ["red", "blue"]
    assert str(out["count"].dtype) == "Int64"


def test_a_pydantic_model_as_schema(env):
    pydantic = pytest.importorskip("pydantic")

    class Row(pydantic.BaseModel):
        colour: Literal["red", "blue"]
        count: int

    env(lambda prompt, body: {"colour": "red", "count": 3} if "ok" in prompt
        else {"colour": "green", "count": 3})
    out = agcloud_magic.batch(["ok", "no"], "{value}", Row, cache=False)
    assert out.loc[0, "colour"] == "red" and out.loc[0, "count"] == 3
    assert "colour" in out.loc[1, "error"]
    assert list(out["colour"].cat.categories) == ["red", "blue"]


def test_stop_at_calls_ends_the_turn_with_the_calls_unanswered():
    from agcloud_magic.engine.ask import Ask
    from agcloud_magic.engine.conversation import Conversation
    from agcloud_magic.engine.exchange import Exchange
    from agcloud_magic.tools import ToolRegistry
    from agcloud_magic.wire.result import Result

    spec = {"type": "function", "name": "record_row", "parameters": {"type": "object"}}
    call = {"type": "function_call", "name": "record_row", "call_id": "c", "arguments": "{}"}
    result = Result(id="resp_1", status="completed", output=[call])
    def other() -> str:
        return "a Python tool beside the spec: without stop_at_calls its call is answered"

    for stop, expected in ((True, []), (False, [call])):
        ask = Ask(text="x", tools=ToolRegistry([other, spec]), stop_at_calls=stop)
        assert Exchange(Conversation(), ask).on_result(result) == expected
    alone = Ask(text="x", tools=ToolRegistry([spec]))  # raw specs alone: the caller's calls
    assert Exchange(Conversation(), alone).on_result(result) == []


def test_nothing_to_do_is_an_empty_frame_and_no_request(env):
    srv = env(review)
    out = agcloud_magic.batch([], "{value}", REVIEW, rows_per_request=1)
    assert list(out.columns) == [*REVIEW, "error"] and len(out) == 0
    assert str(out["stars"].dtype) == "Int64" and srv.count == 0
    with pytest.raises(ConfigError, match="concurrency"):
        agcloud_magic.batch(["a"], "{value}", concurrency=0)
    with pytest.raises(ConfigError, match="schema"):
        agcloud_magic.batch(["a"], "{value}", schema=42)


@pytest.fixture()
def offline(standin, monkeypatch, tmp_path):
    """A session of its own pointed at the real offline stand-in (which answers a strict
    forced tool with a valid instance derived from the row's text), the cache at tmp_path."""
    register_pandas_accessor()
    monkeypatch.setenv("AGCLOUD_BASE_URL", standin.base_url)
    monkeypatch.setenv("AGCLOUD_API_KEY", "sk-test-batch-standin-0000")
    monkeypatch.setenv("AGCLOUD_MODEL", "echo")
    monkeypatch.setenv("AGCLOUD_CACHE_DIR", str(tmp_path / "cache"))
    session = Session()
    monkeypatch.setattr(session_module, "_CURRENT", session)
    yield standin
    session.close()


def test_against_the_stand_in_typed_rows_dedupe_and_a_cached_rerun(offline):
    # The whole path, stand-in included, with nothing of the test's own server.
    standin = offline
    frame = pd.DataFrame({"text": ["good tea", "bad coffee", "good tea", "fine water"]},
                         index=[10, 20, 30, 40])
    out = frame.respond.map("Review: {text}", REVIEW, rows_per_request=1)
    assert list(out.index) == [10, 20, 30, 40]
    assert out["error"].isna().all(), out["error"].tolist()
    assert str(out["sentiment"].dtype) == "category"
    assert set(out["sentiment"].cat.categories) == {"pos", "neg"}
    assert str(out["stars"].dtype) == "Int64" and str(out["spam"].dtype) == "boolean"
    assert out.loc[10].equals(out.loc[30])  # the same prompt, one answer
    assert standin.requests_served == 3  # three distinct prompts
    again = frame.respond.map("Review: {text}", REVIEW, rows_per_request=1)
    assert standin.requests_served == 3  # all four rows came from the cache
    pd.testing.assert_frame_equal(again, out)


def test_a_token_budget_stops_the_job_and_marks_the_rest_not_run(env):
    srv = env(review)  # every answer reports 5 tokens
    frame = pd.DataFrame({"text": [f"good tea number {i}" for i in range(6)]})
    out = frame.respond.map("Review: {text}", REVIEW, rows_per_request=1, concurrency=1,
                            cache=False, budget_tokens=12)
    # Checked before each request: 0, 5 and 10 tokens are under 12, so three went out; at 15
    # the budget is spent and nothing more is sent.
    assert srv.count == 3
    assert out["error"].isna().sum() == 3
    stopped = out["error"].dropna().tolist()
    assert stopped == ["not run: the budget of 12 tokens is spent (15 used)"] * 3
    assert out["sentiment"].notna().sum() == 3  # what ran is kept


def test_a_budget_must_be_a_positive_whole_number(env):
    srv = env(review)
    with pytest.raises(ConfigError, match="budget_tokens"):
        pd.DataFrame({"text": ["a"]}).respond.map("{text}", REVIEW, budget_tokens=0)
    assert srv.count == 0


@pytest.mark.parametrize("rows_per_request", [1, 20])
def test_with_faults_every_row_ends_done_or_failed_and_none_is_sent_after_success(
    env, rows_per_request
):
    from collections import Counter

    from .batch_server import Cut, Fail

    attempts: Counter[str] = Counter()
    succeeded: Counter[str] = Counter()
    lock = threading.Lock()

    def faulty(prompt: str, body: dict) -> Any:
        # About one request in ten fails once: a 429 with Retry-After, a 500, a cut stream.
        number = int(prompt.rsplit(" ", 1)[-1])
        with lock:
            attempts[prompt] += 1
            first = attempts[prompt] == 1
            if first and number % 20 == 0:
                return Fail(429, "slow down", (("retry-after", "0"),))
            if first and number % 40 == 7:
                return Fail(500, "upstream broke")
            if first and number % 40 == 27:
                return Cut()
            succeeded[prompt] += 1
        return review(prompt, body)

    srv = env(faulty)
    frame = pd.DataFrame({"text": [f"good row {i}" for i in range(100)]})
    out = frame.respond.map("Review: {text}", REVIEW, cache=False, concurrency=8,
                            rows_per_request=rows_per_request)
    assert len(out) == 100
    lost = out["error"].isna() & out["sentiment"].isna()
    assert not lost.any()  # every row has its values or its reason
    failed = out[out["error"].notna()]
    assert all(isinstance(reason, str) and reason for reason in failed["error"])
    assert out["error"].isna().sum() >= 90  # the retried faults recover
    if rows_per_request == 1:
        # Nothing that succeeded was asked again; no row was tried more than its retries allow.
        assert max(succeeded.values()) == 1
        assert max(attempts.values()) <= 3
        assert srv.count < 120
    else:
        # A grouped request that fails is retried whole by the client, then its rows alone:
        # a row is in at most 3 grouped attempts and 3 alone, and few requests go out at all.
        assert max(attempts.values()) <= 6
        assert srv.count < 60


def test_the_cache_stores_many_rows_in_one_call_like_one_by_one(tmp_path):
    from agcloud_magic.batching.cache import RowCache

    store = RowCache(tmp_path / "batch.sqlite3")
    try:
        store.put("a", {"n": 1})
        store.put_many({"b": {"n": 2}, "c": {"s": "é"}, "a": {"n": 3}})
        store.put_many({})
        assert store.get_many(["a", "b", "c", "d"]) == {"a": {"n": 3}, "b": {"n": 2},
                                                         "c": {"s": "é"}}
    finally:
        store.close()
    again = RowCache(tmp_path / "batch.sqlite3")  # committed: another connection sees them
    try:
        assert set(again.get_many(["a", "b", "c"])) == {"a", "b", "c"}
    finally:
        again.close()
