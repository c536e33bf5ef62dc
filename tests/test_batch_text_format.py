"""``schema_as="text_format"``: the schema travels as ``text.format`` json_schema instead of a
forced tool, one row or many a request, with the same validation, repair round and cache."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from agcloud_magic.errors import ConfigError

from . import test_batch
from .magic_support import posts, run_cell
from .test_batch import REVIEW

env = test_batch.env
offline = test_batch.offline


def frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"text": [f"good item {i}" if i % 3 else f"bad item {i}"
                                  for i in range(n)]}, index=[f"r{i}" for i in range(n)])


@pytest.mark.parametrize("rows_per_request", [1, 10])
def test_the_stand_in_answers_text_format_like_the_forced_tool(offline, rows_per_request):
    rows = frame(12)
    by_text = rows.respond.map("Review: {text}", REVIEW, schema_as="text_format",
                               rows_per_request=rows_per_request, cache=False)
    bodies = [r.body for r in offline.requests if r.path.endswith("/responses")]
    assert by_text["error"].isna().all(), by_text["error"].tolist()
    assert len(bodies) == (12 if rows_per_request == 1 else 2)
    for body in bodies:
        assert "tools" not in body and "tool_choice" not in body
        fmt = body["text"]["format"]
        assert fmt["type"] == "json_schema" and fmt["strict"] is True
        assert fmt["name"] == "record_row"
        assert ("rows" in fmt["schema"]["properties"]) == (rows_per_request > 1)
    by_tool = rows.respond.map("Review: {text}", REVIEW, rows_per_request=rows_per_request,
                               cache=False)
    pd.testing.assert_frame_equal(by_text, by_tool)  # same values, same dtypes


def test_an_answer_that_is_not_json_gets_one_repair_round(env):
    good = {"sentiment": "pos", "stars": 4, "score": 0.5, "spam": False, "note": None}
    answers = iter(["{not json", json.dumps(good)])
    srv = env(lambda prompt, body: next(answers))
    out = pd.DataFrame({"text": ["good tea"]}).respond.map(
        "Review: {text}", REVIEW, schema_as="text_format", cache=False)
    assert out["error"].isna().all() and out.loc[0, "stars"] == 4
    assert srv.count == 2
    repair = json.dumps(srv.bodies[1]["input"])
    assert "does not fit the JSON schema" in repair and "{not json" in repair
    assert "the answer is not JSON" in repair


def test_a_second_bad_answer_fails_the_row_with_the_reason(env):
    env(lambda prompt, body: json.dumps({"sentiment": "meh", "stars": 4, "score": 0.5,
                                         "spam": False, "note": None}))
    out = pd.DataFrame({"text": ["good tea"]}).respond.map(
        "Review: {text}", REVIEW, schema_as="text_format", cache=False)
    assert out.loc[0, "error"].startswith("invalid output after one repair: ")
    assert "sentiment" in out.loc[0, "error"]


def test_the_carrier_is_part_of_the_cache_key(offline):
    rows = frame(3)
    rows.respond.map("Review: {text}", REVIEW, rows_per_request=1)
    assert offline.requests_served == 3
    rows.respond.map("Review: {text}", REVIEW, rows_per_request=1, schema_as="text_format")
    assert offline.requests_served == 6  # another request shape: not answered by the cache
    rows.respond.map("Review: {text}", REVIEW, rows_per_request=1, schema_as="text_format")
    assert offline.requests_served == 6


def test_bad_carriers_are_one_line(env):
    srv = env(lambda prompt, body: "x")
    rows = frame(1)
    with pytest.raises(ConfigError, match="schema_as must be one of tool, text_format"):
        rows.respond.map("{text}", REVIEW, schema_as="json")
    with pytest.raises(ConfigError, match="text cannot be set with schema_as='text_format'"):
        rows.respond.map("{text}", REVIEW, schema_as="text_format",
                         text={"format": {"type": "text"}})
    assert srv.count == 0


def test_each_with_text_format(ip, srv, monkeypatch, tmp_path):
    monkeypatch.setenv("AGCLOUD_CACHE_DIR", str(tmp_path / "cache"))
    assert run_cell(ip, "import pandas as pd\nrows = pd.DataFrame({'text': ['a', 'b']})\n"
                        "shape = {'stars': int}").error is None
    try:
        run = run_cell(ip, "%%respond --each rows --schema shape --text-format -o out\n"
                           "Row: {text}")
        assert run.error is None, run.stderr
        (body,) = posts(srv)
        assert body["text"]["format"]["type"] == "json_schema" and "tools" not in body
        assert ip.user_ns["out"]["error"].isna().all()
    finally:
        for name in ("rows", "shape", "out"):
            ip.user_ns.pop(name, None)
