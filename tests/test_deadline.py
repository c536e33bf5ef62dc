"""The deadline wrappers around httpcore's network backend: every operation gets the time
left (TLS too, which the loopback tests never reach), and none starts after the deadline."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpcore
import httpx
import pytest

from agcloud_magic.http import deadline


class Recorder:
    """An inner stream or backend that records the timeouts it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def start_tls(self, _ctx: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> Recorder:
        self.calls.append(("start_tls", timeout))
        return Recorder()

    def sleep(self, seconds: float) -> None:
        self.calls.append(("sleep", seconds))

    def get_extra_info(self, _info: str) -> Any:
        return None


class AsyncRecorder(Recorder):
    async def start_tls(self, _ctx: Any, server_hostname: str | None = None,  # type: ignore[override]
                        timeout: float | None = None) -> AsyncRecorder:
        self.calls.append(("start_tls", timeout))
        return AsyncRecorder()

    async def sleep(self, seconds: float) -> None:  # type: ignore[override]
        self.calls.append(("sleep", seconds))


def test_tls_gets_the_time_left_and_its_stream_stays_bounded():
    inner = Recorder()
    stream = deadline._SyncStream(inner)  # type: ignore[arg-type]
    with deadline.deadline(2.0):
        tls = stream.start_tls(None, "host", timeout=30.0)
    (name, timeout), = inner.calls
    assert name == "start_tls" and 1.5 < timeout <= 2.0
    assert isinstance(tls, deadline._SyncStream)  # reads over TLS are bounded too
    with deadline.deadline(0.0), pytest.raises(httpcore.ConnectTimeout):
        stream.start_tls(None, "host", timeout=30.0)


def test_async_tls_gets_the_time_left():
    inner = AsyncRecorder()
    stream = deadline._AsyncStream(inner)  # type: ignore[arg-type]

    async def go() -> Any:
        with deadline.deadline(2.0):
            return await stream.start_tls(None, "host", timeout=None)

    tls = asyncio.run(go())
    (name, timeout), = inner.calls
    assert name == "start_tls" and 1.5 < timeout <= 2.0
    assert isinstance(tls, deadline._AsyncStream)


def test_sleep_is_passed_through():
    inner, ainner = Recorder(), AsyncRecorder()
    deadline._SyncBackend(inner).sleep(0.25)  # type: ignore[arg-type]
    asyncio.run(deadline._AsyncBackend(ainner).sleep(0.5))  # type: ignore[arg-type]
    assert inner.calls == [("sleep", 0.25)] and ainner.calls == [("sleep", 0.5)]


def test_no_deadline_leaves_every_timeout_alone_and_passed_is_false():
    assert deadline._bounded(12.0, httpcore.ReadTimeout) == 12.0
    assert deadline._bounded(None, httpcore.ReadTimeout) is None
    assert not deadline.passed()
    with deadline.deadline(None):
        assert deadline._bounded(5.0, httpcore.ReadTimeout) == 5.0 and not deadline.passed()


def test_the_deadline_cuts_a_longer_timeout_and_fills_a_missing_one():
    with deadline.deadline(1.0) as until:
        assert until is not None and abs(until - (time.monotonic() + 1.0)) < 0.1
        assert 0.5 < deadline._bounded(60.0, httpcore.ReadTimeout) <= 1.0
        assert 0.5 < deadline._bounded(None, httpcore.ReadTimeout) <= 1.0
        assert deadline._bounded(0.1, httpcore.ReadTimeout) == 0.1  # a shorter one stays
    with deadline.deadline(-1.0):
        assert deadline.passed()
        with pytest.raises(httpcore.WriteTimeout, match="deadline passed"):
            deadline._bounded(5.0, httpcore.WriteTimeout)
    assert not deadline.passed()  # the block restored "no deadline"


@pytest.mark.parametrize("make", [httpx.Client, httpx.AsyncClient])
def test_install_wraps_the_pool_s_backend(make):
    pool = make()
    deadline.install(pool)
    backend = pool._transport._pool._network_backend
    assert isinstance(backend, (deadline._SyncBackend, deadline._AsyncBackend))
    if make is httpx.Client:
        pool.close()
    else:
        asyncio.run(pool.aclose())


def test_install_refuses_a_pool_it_cannot_bound():
    pool = httpx.Client()
    pool._transport._pool._network_backend = object()
    with pytest.raises(RuntimeError, match="no network backend"):
        deadline.install(pool)
    pool.close()
