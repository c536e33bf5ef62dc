"""Progress and dry runs of a batch: the throttled reporter, the text bar, BatchPlan."""

from __future__ import annotations

import io

import pandas as pd
import pytest

import agcloud_magic
from agcloud_magic.batching import BatchPlan
from agcloud_magic.batching.progress import Progress, Reporter, TextBar

from . import test_batch
from .batch_server import Fail, prompt_of
from .test_batch import REVIEW, review, reviews

env = test_batch.env  # the batch tests' fixture: a loopback server, a session, a cache dir


class Recorder:
    """A progress sink that keeps what it was told."""

    def __init__(self) -> None:
        self.updates: list[Progress] = []
        self.finished: list[Progress] = []

    def update(self, progress: Progress) -> None:
        self.updates.append(progress)

    def finish(self, progress: Progress) -> None:
        self.finished.append(progress)


def test_the_summary_line_exactly():
    p = Progress(total=40, done=38, failed=2, cached=12, tokens=3210, elapsed=4.1)
    assert p.summary() == "40 rows: 38 done, 2 failed, 12 from cache · 3,210 tokens · 4.1 s"
    assert p.finished == 40
    assert p.rate == pytest.approx(28 / 4.1)  # rows sent per second (cached rows are free)
    priced = Progress(total=40, done=38, failed=2, cached=12, tokens=3210, elapsed=4.1,
                      cost=0.01234)
    assert priced.summary() == ("40 rows: 38 done, 2 failed, 12 from cache · 3,210 tokens · "
                                "$0.0123 · 4.1 s")
    assert priced.status() == "40/40 rows · 2 failed · 3,210 tokens · $0.0123 · 6.8 rows/s"


def test_the_reporter_updates_at_most_five_times_a_second():
    now = [100.0]
    sink = Recorder()
    counts = [(0, 0, 0, 0, None)]
    reporter = Reporter(sink, 10, lambda: counts[0], clock=lambda: now[0])
    for t, c in [(100.0, 1), (100.1, 2), (100.19, 3), (100.2, 4), (100.35, 5), (100.45, 6)]:
        now[0] = t
        counts[0] = (c, 0, 0, 10 * c, None)
        reporter.tick()
    assert [u.done for u in sink.updates] == [1, 4, 6]
    assert sink.updates[-1].elapsed == pytest.approx(0.45)
    now[0] = 100.5
    reporter.finish()  # always reported, however soon after the last update
    assert sink.finished == [Progress(total=10, done=6, failed=0, cached=0, tokens=60,
                                      elapsed=pytest.approx(0.5))]


def test_the_text_bar_redraws_one_line_and_ends_with_the_summary():
    out = io.StringIO()
    bar = TextBar(out)
    bar.update(Progress(total=4, done=1, failed=1, cached=0, tokens=50, elapsed=1.0))
    bar.finish(Progress(total=4, done=3, failed=1, cached=1, tokens=120, elapsed=2.0))
    text = out.getvalue()
    assert text.startswith("\r") and "2/4 rows" in text
    last = text.split("\r")[-1]
    assert last.endswith("\n") and last[:-1].rstrip(" ") == (
        "4 rows: 3 done, 1 failed, 1 from cache · 120 tokens · 2.0 s")
    assert len(last) == len(text.split("\r")[1]) + 1  # the longer bar line is blanked
    assert text.count("\n") == 1


def test_progress_true_draws_the_text_bar_on_stderr_and_the_default_draws_nothing(env, capsys):
    env(review)
    reviews().respond.map("Review: {text}", REVIEW, rows_per_request=1)
    assert capsys.readouterr().err == ""
    reviews().respond.map("Review: {text}", REVIEW, rows_per_request=1, progress=True, cache=False)
    err = capsys.readouterr().err
    assert "3 rows: 3 done, 0 failed, 0 from cache" in err and err.endswith("\n")


def test_a_sink_sees_cached_rows_failures_and_tokens(env):
    def reply(prompt, body):
        return Fail(400, "refused") if "bad" in prompt else review(prompt, body)

    srv = env(reply)
    frame = reviews()
    frame.iloc[:1].respond.map("Review: {text}", REVIEW, rows_per_request=1)  # row a is cached now
    sink = Recorder()
    frame.respond.map("Review: {text}", REVIEW, rows_per_request=1, progress=sink)
    last = sink.finished[0]
    assert (last.total, last.done, last.failed, last.cached) == (3, 2, 1, 1)
    assert last.tokens == 5 and srv.count == 3  # one answered request sent; a cached row is free


def test_dry_run_sends_nothing_and_plans_the_distinct_uncached_prompts(env):
    srv = env(review)
    frame = pd.DataFrame({"text": ["good tea", "bad tea", "good tea", "ok"]})
    options = {"max_output_tokens": 100, "instructions": "Be terse."}
    # "ok" is cached
    frame.iloc[3:].respond.map("Review: {text}", REVIEW, rows_per_request=1, **options)
    sent = srv.count
    plan = frame.respond.map("Review: {text}", REVIEW, rows_per_request=1, dry_run=True,
                             **options)
    assert srv.count == sent  # nothing was sent
    assert (plan.requests, plan.cached) == (2, 1)
    assert prompt_of(plan.first_body) == "Review: good tea"
    assert plan.first_body["instructions"] == "Be terse."
    assert plan.first_body["tools"][0]["name"] == "record_row"
    assert plan.first_body["model"] == "echo"
    assert "sk-test" not in repr(plan) and "sk-test" not in str(plan.first_body)
    schema_chars = len(str(plan.first_body["tools"][0]["parameters"]))
    assert plan.estimated_input_tokens >= (len("Review: good tea") + schema_chars) * 2 // 4 - 5
    assert plan.max_output_tokens == 200  # two requests of at most 100 each
    assert plan.estimated_tokens == plan.estimated_input_tokens + 200
    assert repr(plan).startswith("BatchPlan(requests=2, cached=1, estimated_input_tokens=")
    assert isinstance(plan, BatchPlan)


def test_batch_dry_run_without_a_key_and_with_nothing_to_send(env, monkeypatch):
    srv = env(review)
    monkeypatch.delenv("AGCLOUD_API_KEY")
    plan = agcloud_magic.batch(["x", "y"], "Say {value}", dry_run=True, cache=False)
    assert plan.requests == 2 and prompt_of(plan.first_body) == "Say x"
    assert "tools" not in plan.first_body
    assert srv.count == 0
    assert agcloud_magic.batch([], "Say {value}", dry_run=True).first_body is None
