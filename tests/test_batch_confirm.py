"""A batch above confirm_rows asks first, in the magic, the accessor and batch(): the question
says what it would send; anything but yes sends nothing; a front end that cannot ask is a no.
The batch options of ``--each`` reach the batch (--concurrency, --no-cache, ...)."""

from __future__ import annotations

import builtins

import pytest
from IPython.core.error import StdinNotImplementedError, UsageError

import agcloud_magic
from agcloud_magic.engine.session import current_session
from agcloud_magic.errors import NotConfirmedError
from agcloud_magic.ipython.confirm import ask_yes_no

from . import test_batch
from .magic_support import posts, run_cell
from .test_batch import REVIEW

offline = test_batch.offline  # the real stand-in, with a session of its own and a cache dir

SETUP = """
import pandas as pd
tickets = pd.DataFrame({"text": [f"ticket {i}" for i in range(6)]})
shape = {"stars": int}
"""


@pytest.fixture()
def each(ip, monkeypatch, tmp_path):
    monkeypatch.setenv("AGCLOUD_CACHE_DIR", str(tmp_path / "cache"))
    assert run_cell(ip, SETUP).error is None
    assert run_cell(ip, "%agcloud config confirm_rows=4").error is None
    yield ip
    run_cell(ip, "%agcloud config confirm_rows=100")
    for name in ("tickets", "shape", "out"):
        ip.user_ns.pop(name, None)


def answering(monkeypatch, answer):
    """input() answers ``answer`` (or raises it) and records the questions asked."""
    asked: list[str] = []

    def fake_input(prompt=""):
        asked.append(prompt)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    monkeypatch.setattr(builtins, "input", fake_input)
    return asked


def test_over_the_threshold_the_magic_asks_and_a_no_sends_nothing(each, srv, monkeypatch):
    asked = answering(monkeypatch, "n")
    run = run_cell(each, "%%respond --each tickets --schema shape -o out\nTicket: {text}")
    assert run.error is None and posts(srv) == []
    assert len(asked) == 1 and asked[0].startswith("Send 6 rows as 1 request to ")
    assert "input tokens" in asked[0] and asked[0].endswith("[y/N] ")
    assert "Not sent: the batch of 6 rows was not confirmed." in run.stderr
    assert "Traceback" not in run.stderr and "out" not in each.user_ns


def test_a_yes_sends_and_yes_on_the_line_does_not_ask(each, srv, monkeypatch):
    asked = answering(monkeypatch, " Yes ")
    run = run_cell(each, "%%respond --each tickets --schema shape -o out\nTicket: {text}")
    assert run.error is None, run.stderr
    assert len(asked) == 1 and len(posts(srv)) == 1
    asked.clear()
    run = run_cell(each, "%%respond --each tickets --schema shape --yes --no-cache -o out\n"
                         "Ticket: {text}")
    assert run.error is None and asked == [] and len(posts(srv)) == 2  # --no-cache: sent


def test_cached_rows_do_not_count_toward_the_threshold(each, srv, monkeypatch):
    asked = answering(monkeypatch, "y")
    cell = "%%respond --each tickets --schema shape -o out\nTicket: {text}"
    assert run_cell(each, cell).error is None and len(asked) == 1
    assert run_cell(each, cell).error is None
    assert len(asked) == 1 and len(posts(srv)) == 1  # all from the cache: nothing to ask


def test_a_front_end_that_cannot_ask_is_a_no_in_one_line(each, srv, monkeypatch):
    answering(monkeypatch, StdinNotImplementedError("raw_input was called, but this "
                                                    "frontend does not support input"))
    run = run_cell(each, "%%respond --each tickets --schema shape\nTicket: {text}")
    assert run.error is None and posts(srv) == []
    line = run.stderr.strip().splitlines()[-1]
    assert line.startswith("Not sent: send 6 rows as 1 request") and "cannot ask" in line
    assert "confirm=True" in line and "confirm_rows" in line


def test_the_accessor_in_a_notebook_asks_too_and_raises_on_no(each, srv, monkeypatch):
    asked = answering(monkeypatch, "no")
    frame = each.user_ns["tickets"]
    with pytest.raises(NotConfirmedError, match="not confirmed"):
        frame.respond.map("Ticket: {text}", REVIEW)
    assert len(asked) == 1 and posts(srv) == []
    out = frame.respond.map("Ticket: {text}", REVIEW, confirm=True)
    assert out["error"].isna().all() and len(asked) == 1


def test_below_the_threshold_and_dry_runs_never_ask(each, srv, monkeypatch):
    asked = answering(monkeypatch, "n")
    assert run_cell(each, "small = tickets.head(4)").error is None
    assert run_cell(each, "%%respond --each small --schema shape\nTicket: {text}").error is None
    run = run_cell(each, "%%respond --each tickets --schema shape --dry-run\nTicket: {text}")
    assert run.error is None and asked == [] and len(posts(srv)) == 1


def test_without_a_front_end_a_script_is_not_asked(offline, monkeypatch):
    asked = answering(monkeypatch, "n")
    session = current_session()
    assert session.confirm is None  # no %load_ext: a plain Python process
    session.prefs.confirm_rows = 0
    out = agcloud_magic.batch([f"row {i}" for i in range(5)], "Review: {value}", REVIEW)
    assert out["error"].isna().all() and asked == []


def test_the_batch_options_of_each_reach_the_batch(each, srv, monkeypatch):
    answering(monkeypatch, "y")
    run = run_cell(each, "%%respond --each tickets --schema shape --rows-per-request 1 "
                         "--concurrency 2 --yes -o out\nTicket: {text}")
    assert run.error is None, run.stderr
    assert len(posts(srv)) == 6 and srv.peak_in_flight <= 2
    run = run_cell(each, "%%respond --each tickets --schema shape --budget-tokens 1 --yes "
                         "--no-cache --rows-per-request 1 --concurrency 1 -o out\nT: {text}")
    assert run.error is None
    errors = each.user_ns["out"]["error"]
    assert errors.str.startswith("not run: the budget of 1 tokens is spent").sum() == 5


@pytest.mark.parametrize("option", ["--concurrency 3", "--rows-per-request 2", "--rpm 10",
                                    "--tpm 100", "--budget-tokens 5", "--no-cache", "--yes",
                                    "--schema shape"])
def test_batch_options_without_each_are_one_line(each, option):
    with pytest.raises(UsageError, match=f"{option.split()[0]} needs --each DF"):
        each.run_cell_magic("respond", option, "hello")


def test_ask_yes_no_reads_y_or_yes_only(monkeypatch):
    for answer, expected in (("y", True), ("YES", True), ("", False), ("sure", False)):
        answering(monkeypatch, answer)
        assert ask_yes_no("Send?") is expected
    answering(monkeypatch, OSError("reading from stdin while output is captured"))
    with pytest.raises(NotConfirmedError, match="cannot ask"):
        ask_yes_no("Send 3 rows?")

