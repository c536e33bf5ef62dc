"""``%%respond --each DF``: a prompt per row from a cell, through a real IPython shell and the
offline stand-in (which answers a strict forced tool with a valid instance)."""

from __future__ import annotations

import pandas as pd
import pytest
from IPython.core.error import UsageError

from .magic_support import posts, run_cell

SETUP = """
import pandas as pd
from typing import Literal
reviews = pd.DataFrame({"text": ["good tea", "bad coffee", "good tea"]}, index=[1, 2, 3])
shape = {"sentiment": Literal["pos", "neg"], "stars": int}
"""


@pytest.fixture()
def each(ip, monkeypatch, tmp_path):
    """The shell, with a cache of the test's own and the SETUP variables."""
    monkeypatch.setenv("AGCLOUD_CACHE_DIR", str(tmp_path / "cache"))
    assert run_cell(ip, SETUP).error is None
    yield ip
    for name in ("reviews", "shape", "labels", "plain", "words"):
        ip.user_ns.pop(name, None)


def test_each_row_typed_into_a_frame_with_the_options_on_every_request(each, srv):
    run = run_cell(each, "%%respond --each reviews --schema shape -o labels -t 0.3 "
                         "--instructions 'Be brief.'\nReview: {text}\n")
    assert run.error is None, run.stderr
    labels = each.user_ns["labels"]
    assert isinstance(labels, pd.DataFrame) and list(labels.index) == [1, 2, 3]
    assert list(labels.columns) == ["sentiment", "stars", "error"]
    assert labels["error"].isna().all() and labels.loc[1].equals(labels.loc[3])
    bodies = posts(srv)
    assert len(bodies) == 1  # two distinct prompts, in one multi-row request
    assert all(b["temperature"] == 0.3 and b["instructions"].startswith("Be brief.\n")
               for b in bodies)
    assert {b["tools"][0]["name"] for b in bodies} == {"record_row"}
    # The text bar (no kernel here) ends in the summary; the frame is displayed.
    assert "3 rows: 3 done, 0 failed, 0 from cache · " in run.stderr
    assert any("text/html" in o["data"] and "sentiment" in o["data"]["text/html"]
               for o in run.outputs)


def test_a_series_without_a_schema_and_a_cached_rerun(each, srv):
    cell = "%%respond --each words -o plain\nSay {value}"
    assert run_cell(each, "words = reviews['text']\n").error is None
    first = run_cell(each, cell)
    assert first.error is None, first.stderr
    assert list(each.user_ns["plain"].columns) == ["answer", "error"]
    sent = len(posts(srv))
    again = run_cell(each, cell)
    assert len(posts(srv)) == sent and "3 from cache" in again.stderr


def test_dry_run_sends_nothing_and_prints_the_plan(each, srv):
    run = run_cell(each, "%%respond --each reviews --schema shape --dry-run\nReview: {text}")
    assert run.error is None, run.stderr
    assert posts(srv) == []
    assert "Dry run: nothing was sent. 1 request " in run.stdout
    assert '"record_row"' in run.stdout and "Review: good tea" in run.stdout
    assert "sk-test" not in run.everything


@pytest.mark.parametrize(("line", "words"), [
    ("--each nothing_here", "nothing_here"),
    ("--each shape", "DataFrame or Series"),
    ("--each reviews --schema nothing_here", "nothing_here"),
    ("--schema shape", "--each"),
    ("--each reviews --tools print", "--tools"),
    ("--each reviews --chat other", "--chat"),
    ("--each reviews -o _", "_"),
])
def test_usage_errors_are_one_line_and_send_nothing(each, srv, line, words):
    run = run_cell(each, f"%%respond {line}\nReview: {{text}}")
    assert isinstance(run.error, UsageError), run.error
    assert words in str(run.error) and "\n" not in str(run.error)
    assert posts(srv) == []


def test_an_unknown_column_in_the_template_is_one_line(each, srv):
    run = run_cell(each, "%%respond --each reviews\nReview: {txt}")
    assert isinstance(run.error, UsageError) and "txt" in str(run.error)
    assert posts(srv) == []
