"""Prices: the table's rules, the dry run's cost, the cost in the progress, budget_cost as a
hard stop, and the settings and options that carry them."""

from __future__ import annotations

import pandas as pd
import pytest
from IPython.core.error import UsageError

from agcloud_magic.engine.preferences import Preferences
from agcloud_magic.engine.pricing import PriceTable, canonical_prices
from agcloud_magic.errors import ConfigError

from . import test_batch
from .magic_support import posts, run_cell
from .test_batch import REVIEW, review
from .test_batch_progress import Recorder

env = test_batch.env  # the test's own scripted server, with a session pointed at it


def test_the_longest_matching_prefix_prices_a_model():
    table = PriceTable.parse("gpt-4o=2.5/10, gpt-4o-mini=0.15/0.6")
    assert table.rates("gpt-4o-mini-2024-07-18") == (0.15e-6, 0.6e-6)
    assert table.rates("gpt-4o-2024-08-06") == (2.5e-6, 10e-6)
    assert table.rates("o3") is None and table.cost("o3", 10, 10) is None
    assert table.cost("gpt-4o-mini", 1_000_000, 2_000_000) == pytest.approx(0.15 + 1.2)
    assert not PriceTable.parse("  ") and PriceTable.parse(None).entries == ()


@pytest.mark.parametrize("text, words", [
    ("gpt-4o", "not model=input/output"), ("gpt-4o=1", "not model=input/output"),
    ("gpt-4o=1/x", "not model=input/output"), ("a=1/2, b=..1/2", "not a number"),
    ("a=-1/2", "0 or more"), ("a=1e999/2", "0 or more"),
])
def test_a_bad_table_is_one_line_with_an_example(text, words):
    with pytest.raises(ConfigError, match=words) as caught:
        PriceTable.parse(text)
    assert "\n" not in str(caught.value)


def test_the_setting_is_checked_and_written_back_in_one_form():
    prefs = Preferences()
    prefs.prices = " gpt-4o-mini = 0.15/0.60 ,echo=1/2 "
    assert prefs.prices == "gpt-4o-mini=0.15/0.6, echo=1/2"
    assert canonical_prices("prices", {"echo": (1, 2)}) == "echo=1/2"
    with pytest.raises(ConfigError, match="prices"):
        prefs.prices = "cheap"
    with pytest.raises(ConfigError, match="model -> \\(input, output\\)"):
        canonical_prices("prices", {"echo": 3})


def test_the_dry_run_prices_its_estimate(env):
    env(review)
    frame = pd.DataFrame({"text": [f"good tea number {i}" for i in range(6)]})
    plan = frame.respond.map("Review: {text}", REVIEW, dry_run=True, prices="gpt=2/8",
                             model="gpt-4o-mini")
    assert plan.estimated_cost == pytest.approx(plan.estimated_input_tokens * 2e-6)
    assert f"about ${plan.estimated_cost:,.4f} for the input" in plan.describe()
    capped = frame.respond.map("Review: {text}", REVIEW, dry_run=True, prices="gpt=2/8",
                               model="gpt-4o-mini", max_output_tokens=100)
    assert capped.estimated_cost == pytest.approx(
        capped.estimated_input_tokens * 2e-6 + capped.max_output_tokens * 8e-6)
    unpriced = frame.respond.map("Review: {text}", REVIEW, dry_run=True, prices="o3=1/1",
                                 model="gpt-4o-mini")
    assert unpriced.estimated_cost is None and "$" not in unpriced.describe()


def test_the_progress_counts_the_cost_of_every_answer(env):
    env(review)  # every answer: 3 input + 2 output tokens
    sink = Recorder()
    frame = pd.DataFrame({"text": [f"good tea number {i}" for i in range(4)]})
    out = frame.respond.map("Review: {text}", REVIEW, rows_per_request=1, cache=False,
                            progress=sink, prices="m=1000000/3000000", model="m-1")
    assert out["error"].isna().all()
    last = sink.finished[-1]
    assert last.cost == pytest.approx(4 * (3 * 1 + 2 * 3)) and "$36.0000" in last.summary()
    plain = Recorder()
    frame.respond.map("Review: {text}", REVIEW, rows_per_request=1, cache=False,
                      progress=plain, model="m-1")
    assert plain.finished[-1].cost is None and "$" not in plain.finished[-1].summary()


def test_budget_cost_stops_the_job_and_marks_the_rest_not_run(env):
    srv = env(review)
    frame = pd.DataFrame({"text": [f"good tea number {i}" for i in range(6)]})
    out = frame.respond.map("Review: {text}", REVIEW, rows_per_request=1, concurrency=1,
                            cache=False, budget_cost=0.02, prices="m=1000/1000", model="m")
    # 5 tokens at $0.001 each: $0.005 a request; under $0.02 at 0, .005, .01, .015 -> 4 sent.
    assert srv.count == 4
    assert out["error"].dropna().tolist() == [
        "not run: the budget of $0.0200 is spent ($0.0200 used)"] * 2


def test_budget_cost_without_a_price_sends_nothing(env):
    srv = env(review)
    frame = pd.DataFrame({"text": ["good tea"]})
    with pytest.raises(ConfigError, match="budget_cost needs a price for m") as caught:
        frame.respond.map("Review: {text}", REVIEW, budget_cost=1.0, model="m")
    assert "\n" not in str(caught.value) and srv.count == 0


def test_the_magic_takes_prices_from_config_and_budget_cost_from_the_line(ip, srv,
                                                                        monkeypatch, tmp_path):
    monkeypatch.setenv("AGCLOUD_CACHE_DIR", str(tmp_path / "cache"))
    setup = ("import pandas as pd\nrows = pd.DataFrame({'text': [f'row {i}' for i in "
             "range(4)]})\nshape = {'stars': int}")
    assert run_cell(ip, setup).error is None
    assert run_cell(ip, '%agcloud config prices="gpt-4o-mini=1000000/1000000"').error is None
    try:
        dry = run_cell(ip, "%%respond --each rows --schema shape --dry-run\nRow: {text}")
        assert dry.error is None and "for the input." in dry.stdout and "$" in dry.stdout
        run = run_cell(ip, "%%respond --each rows --schema shape --rows-per-request 1 "
                           "--concurrency 1 --budget-cost 0.5 -o out\nRow: {text}")
        assert run.error is None, run.stderr
        # One answer costs more than $0.50 at $1 a token: one request, then the stop.
        assert len(posts(srv)) == 1
        errors = ip.user_ns["out"]["error"]
        assert errors.str.startswith("not run: the budget of $0.5000").sum() == 3
        with pytest.raises(UsageError, match="--budget-cost needs --each"):
            ip.run_cell_magic("respond", "--budget-cost 1", "hi")
        bad = run_cell(ip, '%agcloud config prices="echo=cheap"')
        assert "not model=input/output" in (bad.stderr + bad.stdout + str(bad.error))
    finally:
        run_cell(ip, "%agcloud config prices=")
        for name in ("rows", "shape", "out"):
            ip.user_ns.pop(name, None)
