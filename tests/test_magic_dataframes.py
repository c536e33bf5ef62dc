"""DataFrames reach the request: --df, {df} interpolation, --dry-run, privacy options."""

from __future__ import annotations

import pandas as pd
import pytest
from IPython.core.error import UsageError

from agcloud_magic.dataframes import summarize

from .magic_support import posts, run_cell


@pytest.fixture()
def ip(ip):  # the shared shell (conftest), with this module's variables
    shell = ip
    shell.user_ns["sales"] = pd.DataFrame({
        "region": ["north", "south", "north", "east"],
        "amount": [10.5, 20.0, None, 7.25],
        "email": ["a@x.org", "b@x.org", "c@x.org", "d@x.org"],
    })
    shell.user_ns["notaframe"] = [1, 2, 3]
    yield shell


def test_df_option_adds_the_summary_as_an_input_text_part(ip, srv):
    run = run_cell(ip, "%%respond --df sales\nWhat stands out?")
    assert run.error is None, run.stderr
    (message,) = posts(srv)[0]["input"]
    question, summary = message["content"]
    assert question == {"type": "input_text", "text": "What stands out?"}
    assert summary["type"] == "input_text"
    assert summary["text"] == summarize(ip.user_ns["sales"], name="sales")


def test_braces_interpolate_the_summary(ip, srv):
    run_cell(ip, "%%respond\nHere: {sales}\nThoughts?")
    sent = posts(srv)[0]["input"]
    assert sent == "Here: " + summarize(ip.user_ns["sales"], name="sales") + "\nThoughts?"
    series = ip.user_ns["sales"]["amount"]
    ip.user_ns["amounts"] = series
    run_cell(ip, "%%respond\n{amounts}")
    assert "Series" in posts(srv)[1]["input"]


def test_dry_run_shows_exactly_the_summary_and_sends_nothing(ip, srv):
    run = run_cell(ip, "%%respond --df sales --dry-run\nWhat stands out?")
    assert posts(srv) == []
    summary = summarize(ip.user_ns["sales"], name="sales")
    import json

    body = json.loads(run.stdout.split("\n", 1)[1])
    assert body["input"][0]["content"][1]["text"] == summary


def test_privacy_options(ip, srv):
    run_cell(ip, "%%respond --df sales --no-sample-rows --exclude-columns email --budget 2000\nq")
    text = posts(srv)[0]["input"][0]["content"][1]["text"]
    assert "a@x.org" not in text and "email" not in text
    assert "sample rows" not in text.lower() or "withheld" in text.lower()
    assert len(text) <= 2000
    run_cell(ip, "%%respond --df sales --columns region\nq")
    text = posts(srv)[1]["input"][0]["content"][1]["text"]
    assert "region" in text and "amount" not in text


def test_df_errors_are_one_line(ip, srv):
    for cell, words in [("%%respond --df notaframe\nq", "not a pandas"),
                        ("%%respond --df sales --columns nope\nq", "nope")]:
        run = run_cell(ip, cell)
        assert isinstance(run.error, UsageError) and words in str(run.error)
    assert posts(srv) == []


def test_accessor_and_repr_llm(ip, srv):
    run_cell(ip, "import pandas as pd")  # the accessor registers once pandas is in use
    run = run_cell(ip, "r = sales.respond('Which region sells most?'); print(r.status)")
    assert run.stdout.strip() == "completed", run.stderr
    sent = posts(srv)[0]["input"]
    assert sent.endswith("Which region sells most?") and "## DataFrame" in sent

    class Thing:
        def _repr_llm_(self):
            return "a thing that describes itself"

    ip.user_ns["thing"] = Thing()
    run_cell(ip, "%%respond\nLook: {thing}")
    assert posts(srv)[1]["input"] == "Look: a thing that describes itself"
