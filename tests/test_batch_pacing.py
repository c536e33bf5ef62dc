"""A batch against the real stand-in's latency and rate limits: it grows while the server is
quiet, backs off on 429s without losing a row, and keeps under client-side rpm/tpm."""

from __future__ import annotations

import time

import pandas as pd
import pytest

import agcloud_magic
from agcloud_magic.batching import pacer as pacer_module
from agcloud_magic.errors import ConfigError

from . import test_batch
from .test_batch import REVIEW

offline = test_batch.offline  # the real stand-in, with a session of its own and a cache dir


def tickets(n: int) -> pd.DataFrame:
    return pd.DataFrame({"text": [f"ticket number {i}: the printer jams" for i in range(n)]})


def test_in_flight_grows_past_the_start_while_the_server_is_quiet(offline):
    offline.latency(first_token=0.4)
    out = tickets(240).respond.map("Review: {text}", REVIEW, rows_per_request=1, cache=False)
    assert out["error"].isna().all()
    assert offline.peak_in_flight > 40  # began at 32, grew with each answer
    assert offline.peak_in_flight <= 64  # the default ceiling


def test_a_given_concurrency_is_where_the_job_starts(offline):
    offline.latency(first_token=0.5)
    out = tickets(48).respond.map("Review: {text}", REVIEW, rows_per_request=1, cache=False,
                                  concurrency=48)
    assert out["error"].isna().all() and offline.peak_in_flight == 48  # all in one round


def test_concurrency_is_the_ceiling(offline):
    offline.latency(first_token=0.05)
    out = tickets(40).respond.map("Review: {text}", REVIEW, rows_per_request=1, cache=False,
                                  concurrency=3)
    assert out["error"].isna().all() and offline.peak_in_flight == 3


def test_429s_back_off_and_no_row_is_lost(offline):
    # 20 requests per rolling 2 s: the job must wait the window out (Retry-After) rather
    # than fail rows, and halve its in-flight limit instead of hammering the server.
    offline.latency(first_token=0.05)
    offline.rate_limit(rpm=20, window=2.0)
    out = tickets(60).respond.map("Review: {text}", REVIEW, rows_per_request=1, cache=False)
    assert out["error"].isna().all(), out["error"].dropna().tolist()[:3]
    assert offline.requests_served == 60
    # Each window's overflow is answered 429 once or twice per request in flight, not for
    # every retry of every row: far fewer 429s than rows.
    assert 0 < offline.rate_limited < 60


def test_client_rpm_keeps_the_job_under_the_servers_limit(offline, monkeypatch):
    monkeypatch.setattr(pacer_module, "WINDOW", 1.0)
    offline.rate_limit(rpm=5, window=1.0)
    started = time.monotonic()
    out = tickets(12).respond.map("Review: {text}", REVIEW, rows_per_request=1, cache=False,
                                  rpm=5)
    assert out["error"].isna().all()
    assert offline.rate_limited == 0  # never went over, so never refused
    assert time.monotonic() - started >= 2.0  # 12 requests at 5 a window: three windows


def test_client_tpm_keeps_the_job_under_the_servers_token_limit(offline, monkeypatch):
    monkeypatch.setattr(pacer_module, "WINDOW", 1.0)
    offline.rate_limit(tpm=1000, window=1.0)
    out = tickets(30).respond.map("Review: {text}", REVIEW, rows_per_request=1, cache=False,
                                  tpm=1000)
    assert out["error"].isna().all(), out["error"].dropna().tolist()[:3]
    # The client's estimate counts the tool's schema too (the API bills it as input), so it
    # stays under a server that counts less; without tpm= the job meets 429s here.
    assert offline.rate_limited == 0


def test_without_client_tpm_the_same_job_meets_429s(offline):
    offline.rate_limit(tpm=300, window=1.0)
    out = tickets(30).respond.map("Review: {text}", REVIEW, rows_per_request=1, cache=False)
    assert out["error"].isna().all(), out["error"].dropna().tolist()[:3]
    assert offline.rate_limited > 0  # the check above is not vacuous


@pytest.mark.parametrize("bad", [0, -3, 2.5, "fast"])
def test_bad_rpm_and_tpm_are_one_line(bad):
    for name in ("rpm", "tpm"):
        with pytest.raises(ConfigError, match=name):
            agcloud_magic.batch(["a"], "{value}", **{name: bad})


def test_an_unstreamed_row_may_take_longer_than_the_gap_timeout(offline):
    # Rows are not streamed: the answer arrives whole after the model's whole time, which the
    # client's timeout (the longest silence between bytes) must not cut.
    session = test_batch.session_module.current_session()
    session.prefs.timeout = 0.5
    offline.latency(first_token=1.2)
    out = tickets(2).respond.map("Review: {text}", REVIEW, rows_per_request=1, cache=False)
    assert out["error"].isna().all(), out["error"].tolist()
    # Streamed, the same silence before the first token is a timeout, as it should be.
    streamed = tickets(1).respond.map("Again: {text}", REVIEW, rows_per_request=1,
                                      cache=False, stream=True)
    assert "0.5" in streamed.loc[0, "error"] and "timeout" in streamed.loc[0, "error"].lower()
