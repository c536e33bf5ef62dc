"""The kernel's spending limit (``%agcloud budget``): every request of the session counted,
refused before it is sent once it would pass, in the magic, the panel, a batch and the API."""

from __future__ import annotations

import contextlib
import threading

import pandas as pd
import pytest

import agcloud_magic
from agcloud_magic.engine.meter import Meter, estimate
from agcloud_magic.engine.preferences import Preferences
from agcloud_magic.errors import SpendingLimitError

from .magic_support import posts, run_cell


def meter(**limits) -> Meter:
    prefs = Preferences()
    for name, value in limits.items():
        setattr(prefs, name, value)
    return Meter(prefs, default_model=lambda: "m-1")


def test_the_estimate_is_characters_over_four_plus_the_output_cap():
    assert estimate({"input": "x" * 40}) == 10
    assert estimate({"input": "x" * 40, "instructions": "y" * 8, "max_output_tokens": 5}) == 17
    assert estimate({"input": [{"role": "user", "content": "hi"}]}) > 0


def test_a_request_that_would_pass_the_limit_is_refused_and_reservations_count():
    m = meter(budget_tokens=25)
    first = m.admit({"input": "x" * 40})  # 10 reserved
    second = m.admit({"input": "x" * 40})  # 20 reserved: two in flight at once
    with pytest.raises(SpendingLimitError, match="would pass the kernel's budget of 25 tokens"):
        m.admit({"input": "x" * 40})  # 30 > 25, although nothing is used yet
    m.settle(first, {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5})
    m.settle(second, None)  # failed before answering: nothing counted
    assert m.used_tokens == 5 and m.left() == "20 of 25 tokens left"
    m.admit({"input": "x" * 40})  # 5 + 10 fits now


def test_the_cost_limit_counts_priced_models_only():
    m = meter(budget_cost=1.0, prices="m=100000/100000")  # $0.10 a token
    ticket = m.admit({"input": "x" * 16})  # 4 tokens, $0.40, model m-1 by default
    m.settle(ticket, {"input_tokens": 4, "output_tokens": 4, "total_tokens": 8})
    assert m.used_cost == pytest.approx(0.8)
    with pytest.raises(SpendingLimitError, match=r"budget of \$1\.0000"):
        m.admit({"input": "x" * 16})
    m.admit({"input": "x" * 16, "model": "other"})  # not priced: the cost limit does not apply


def test_admits_from_many_threads_never_pass_the_limit_together():
    m = meter(budget_tokens=1000)
    admitted = []

    def worker():
        for _ in range(200):
            with contextlib.suppress(SpendingLimitError):
                admitted.append(m.admit({"input": "x" * 40}))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(admitted) == 100  # exactly 1,000 tokens reserved, 10 each


@pytest.fixture()
def budget(ip, srv, monkeypatch, tmp_path):
    monkeypatch.setenv("AGCLOUD_CACHE_DIR", str(tmp_path / "cache"))
    run_cell(ip, "%agcloud budget reset")  # the shell (and its session) is the process's
    yield ip
    run_cell(ip, "%agcloud budget off")
    run_cell(ip, "%agcloud budget reset")


def test_the_magic_refuses_in_one_line_before_sending_and_the_footer_shows_what_is_left(
        budget, srv):
    first = run_cell(budget, "%agcloud budget tokens=400")
    assert "Budget: 400 of 400 tokens left (0 tokens used in this kernel)." in first.stdout
    answered = run_cell(budget, "%%respond\nSay something short.")
    assert answered.error is None and len(posts(srv)) == 1
    # The footer (the terminal renderer's last line here) says what is left.
    footer = answered.stdout.strip().splitlines()[-1]
    assert " of 400 tokens left" in footer and "tokens" in footer, answered.stdout
    run_cell(budget, "%agcloud budget tokens=5")  # now below what one more request needs
    refused = run_cell(budget, "%%respond\nAnother question, please.")
    assert len(posts(srv)) == 1  # nothing sent
    text = refused.stdout + refused.stderr + "".join(
        str(o.get("data", "")) for o in refused.outputs)
    assert "Not sent: this request" in text and "budget of 5 tokens" in text
    assert "Traceback" not in text
    status = run_cell(budget, "%agcloud budget")
    assert "0 of 5 tokens left" in status.stdout
    assert "0 of 5 tokens left" in run_cell(budget, "%agcloud usage").stdout


def test_a_batch_and_the_api_are_refused_too(budget, srv):
    run_cell(budget, "%agcloud budget tokens=1")
    frame = pd.DataFrame({"text": ["a", "b"]})
    out = frame.respond.map("Review: {text}", {"stars": int}, cache=False)
    assert posts(srv) == [] and out["error"].str.contains("Not sent: this request").all()
    with pytest.raises(SpendingLimitError):
        agcloud_magic.respond("hello")
    assert posts(srv) == []


def test_budget_words_are_checked(budget):
    bad = run_cell(budget, "%agcloud budget tokens=lots")
    assert "budget_tokens needs a number" in str(bad.error) + bad.stderr + bad.stdout
    typo = run_cell(budget, "%agcloud budget of")
    assert "expected one of tokens=N, cost=USD, off, reset" in (
        str(typo.error) + typo.stderr + typo.stdout)


def test_the_panel_is_refused_on_its_error_line_and_takes_the_next_question(panel, srv):
    from .panel_support import send

    panel.session.prefs.budget_tokens = 1
    try:
        assert send(panel, "hello") is None
        assert "Not sent: this request" in panel.error.value and posts(srv) == []
        assert not panel.busy
        panel.session.prefs.budget_tokens = 10_000  # raised: the next question goes
        assert send(panel, "hello again") is not None and len(posts(srv)) == 1
        assert " of 10,000 tokens left" in panel.usage.value  # the status line says what is left
    finally:
        panel.session.prefs.budget_tokens = None
