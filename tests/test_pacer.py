"""The batch's pacer alone: slow start, one halving per push-back, pauses, rpm/tpm windows,
first-come first-served waiting (real asyncio, real time; windows shrunk to fractions of a
second)."""

from __future__ import annotations

import asyncio
import time

import pytest

from agcloud_magic.batching import pacer as pacer_module
from agcloud_magic.batching.pacer import Pacer


@pytest.fixture(autouse=True)
def _exact_windows(monkeypatch):
    """The windows below are fractions of a second: no slack (tested on its own)."""
    monkeypatch.setattr(pacer_module, "SLACK", 0.0)
    monkeypatch.setattr(pacer_module, "MARGIN", 1.0)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 20))


async def answer(pacer: Pacer, seconds: float = 0.0, tokens: int = 1, order=None, name=None):
    async with pacer.slot(tokens) as slot:
        if order is not None:
            order.append(name)
        await asyncio.sleep(seconds)
        slot.answered = True


def test_it_starts_at_start_and_doubles_each_round_until_the_ceiling():
    assert Pacer(64).limit == pacer_module.START == 32 and Pacer(5).limit == 5
    pacer = Pacer(32, start=8)

    async def rounds():
        peaks = []
        for _ in range(4):
            pacer.peak = 0
            await asyncio.gather(*(answer(pacer, 0.02) for _ in range(40)))
            peaks.append(pacer.peak)
        return peaks

    peaks = run(rounds())
    assert peaks[0] >= 8 and max(peaks) == 32, peaks
    assert pacer.limit == 32  # grown to the ceiling, never past it


def test_the_ceiling_bounds_a_small_job():
    pacer = Pacer(3)

    async def job():
        await asyncio.gather(*(answer(pacer, 0.01) for _ in range(30)))

    run(job())
    assert pacer.peak == 3


def test_a_pushback_halves_the_limit_once_per_episode_and_holds_new_requests():
    pacer = Pacer(64, start=16)
    pacer.pushed_back(429, 0.3)
    pacer.pushed_back(429, 0.3)  # the same episode: the requests in flight all meet it
    pacer.pushed_back(503, 0.3)
    assert pacer.limit == 8 and pacer.pushbacks == 3

    async def one():
        started = time.monotonic()
        await answer(pacer)
        return time.monotonic() - started

    waited = run(one())
    assert waited >= 0.25  # held for the Retry-After the server gave
    # After the first push-back growth is additive: one per round, not one per answer.
    before = pacer.limit

    async def round_of(n):
        await asyncio.gather(*(answer(pacer) for _ in range(n)))

    run(round_of(8))
    assert before < pacer.limit < before + 1.5


def test_a_new_episode_after_the_wait_halves_again():
    clock = [100.0]
    pacer = Pacer(64, start=32, clock=lambda: clock[0])
    pacer.pushed_back(429, 2.0)
    assert pacer.limit == 16
    clock[0] += 1.0
    pacer.pushed_back(429, 2.0)  # within the wait: same episode
    assert pacer.limit == 16
    clock[0] += 1.5
    pacer.pushed_back(429, 2.0)
    assert pacer.limit == 8
    for _ in range(10):
        pacer.pushed_back(429, 0.0)
        clock[0] += 5
    assert pacer.limit == 1  # never below one


def test_rpm_spreads_requests_over_the_window(monkeypatch):
    monkeypatch.setattr(pacer_module, "WINDOW", 0.4)
    pacer = Pacer(32, rpm=3)

    async def job():
        started = time.monotonic()
        times = []

        async def timed():
            await answer(pacer)
            times.append(time.monotonic() - started)

        await asyncio.gather(*(timed() for _ in range(7)))
        return sorted(times)

    times = run(job())
    # 3 at once, 3 once the window let the first go, the seventh a window later again.
    assert times[2] < 0.2 and 0.35 < times[3] < 0.7 and times[6] >= 0.75, times


def test_tpm_counts_estimates_then_what_the_answers_used(monkeypatch):
    monkeypatch.setattr(pacer_module, "WINDOW", 0.4)
    pacer = Pacer(32, tpm=100)

    async def job():
        started = time.monotonic()
        async with pacer.slot(60) as slot:
            pacer.settle(slot, 20)  # the answer used less than its estimate
            slot.answered = True
        async with pacer.slot(70):  # 20 + 70 fit in 100: no wait
            pass
        fit = time.monotonic() - started
        async with pacer.slot(50):  # 20 + 70 + 50 > 100: waits for the window
            pass
        return fit, time.monotonic() - started

    fit, waited = run(job())
    assert fit < 0.2 and waited >= 0.35


def test_a_request_larger_than_tpm_alone_goes_once_the_window_is_empty(monkeypatch):
    monkeypatch.setattr(pacer_module, "WINDOW", 0.3)
    pacer = Pacer(4, tpm=10)

    async def job():
        async with pacer.slot(5):
            pass
        async with pacer.slot(500):  # never fits: goes alone once the window is clear
            pass

    run(job())
    assert pacer.peak == 1


def test_waiters_go_first_come_first_served_and_a_cancelled_one_does_not_block():
    pacer = Pacer(1)
    order: list[int] = []

    async def job():
        tasks = [asyncio.ensure_future(answer(pacer, 0.01, order=order, name=i))
                 for i in range(6)]
        await asyncio.sleep(0)
        tasks[2].cancel()  # waiting in line
        await asyncio.gather(*tasks, return_exceptions=True)

    run(job())
    assert order == [0, 1, 3, 4, 5]
    assert pacer.in_flight == 0


def test_an_unanswered_slot_does_not_grow_the_limit():
    pacer = Pacer(32, start=8)

    async def failing():
        with pytest.raises(RuntimeError):
            async with pacer.slot(1):
                raise RuntimeError("the request failed")

    run(failing())
    assert pacer.limit == 8 and pacer.in_flight == 0


def test_a_request_counts_a_little_longer_than_the_window(monkeypatch):
    # It reaches the server after it left, so the server's window frees it later.
    monkeypatch.setattr(pacer_module, "SLACK", 0.5)
    monkeypatch.setattr(pacer_module, "MARGIN", 1.02)
    clock = [1000.0]
    pacer = Pacer(8, rpm=1, clock=lambda: clock[0])
    slot = pacer._take(1)
    pacer.in_flight = 0  # answered
    clock[0] += 60.5
    assert pacer._wait(1) == pytest.approx(61.7 - 60.5)
    clock[0] += 1.25
    assert pacer._wait(1) == 0 and not slot.in_window
