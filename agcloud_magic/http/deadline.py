"""A total deadline for one request, enforced on every socket operation under httpx; and the
socket under a request, handed to whoever may need to cancel it, from its first byte on.

httpx's timeouts bound each *gap* (one connect, one read, one write), so a server that sends
a keep-alive comment, a header byte or one byte of answer before each gap runs out keeps a
request alive for ever.  Here every read, write and connect of the connections httpx opens
is given ``min(its own timeout, time left until the deadline)``, and one that starts after
the deadline fails at once, as a timeout.  The deadline is a context variable set around one
request (:func:`deadline`), so the same pool serves requests with different deadlines, and
sync and async requests alike (a context variable follows the thread or the task).

A :class:`~agcloud_magic.http.cancel.Cancellation` needs the request's socket to stop a
blocked read from another thread; httpx hands it over only with the response headers, so a
request still connecting or waiting for its status line could not be stopped.  The streams
here pass their socket to the watcher set around the request (:func:`watching`) on every
operation, so a cancel reaches the socket at any stage.

The network backend is the one part of httpcore (httpx's own engine) that is made to be
replaced; httpx 0.28 just does not take it as an argument, so :func:`install` puts it on the
transport's pool.  ``tests/test_hostile_http.py`` fails if a new httpx moves it.
"""

from __future__ import annotations

import contextlib
import contextvars
import select
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpcore
import httpx

__all__ = ["deadline", "install", "passed", "watching"]

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "agcloud_request_deadline", default=None
)
_WATCHER: contextvars.ContextVar[Callable[[Any], None] | None] = contextvars.ContextVar(
    "agcloud_request_socket_watcher", default=None
)


@contextlib.contextmanager
def watching(watcher: Callable[[Any], None] | None) -> Iterator[None]:
    """Call ``watcher(socket)`` with the socket of every sync socket operation inside the
    block (``None``: nobody watches)."""
    token = _WATCHER.set(watcher)
    try:
        yield
    finally:
        _WATCHER.reset(token)


def _watch(stream: Any) -> None:
    watcher = _WATCHER.get()
    if watcher is not None:
        watcher(stream.get_extra_info("socket"))


@contextlib.contextmanager
def deadline(seconds: float | None) -> Iterator[float | None]:
    """Give the socket operations inside the block ``seconds`` in all (``None``: no limit);
    yields the deadline on the monotonic clock."""
    when = None if seconds is None else time.monotonic() + seconds
    token = _DEADLINE.set(when)
    try:
        yield when
    finally:
        _DEADLINE.reset(token)


def passed() -> bool:
    """True when the deadline in force (if any) has passed."""
    when = _DEADLINE.get()
    return when is not None and time.monotonic() >= when


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` cut to the time left, or ``error`` when none is left."""
    when = _DEADLINE.get()
    if when is None:
        return timeout
    left = when - time.monotonic()
    if left <= 0:
        raise error("the request's deadline passed")
    return left if timeout is None else min(timeout, left)


class _SyncStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        _watch(self._inner)
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        _watch(self._inner)
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _SyncStream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _SyncBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _SyncStream(self._inner.connect_tcp(
            host, port, timeout=bounded, local_address=local_address,
            socket_options=socket_options,
        ))

    # No connect_unix_socket: the package never sets httpx's ``uds``; the base class refuses.

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _is_readable(sock: Any) -> bool:
    """Whether ``sock`` has something to read now (httpcore's own test: a closed socket
    counts as readable, its next read being the end)."""
    fd = sock.fileno()
    if fd < 0:
        return True
    if sys.platform == "win32" or getattr(select, "poll", None) is None:
        ready, _, _ = select.select([fd], [], [], 0)
        return bool(ready)
    poll = select.poll()
    poll.register(fd, select.POLLIN)
    return bool(poll.poll(0))


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._sock: Any = None  # the raw socket, looked up once (see get_extra_info)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # httpcore asks this of every pooled connection, several times a request; anyio
            # answers by building all its socket attributes (a getpeername call) each time,
            # a tenth of the client's CPU per request at zero latency.  The socket is the
            # stream's for its life (start_tls makes a new stream), so it is looked up once.
            if self._sock is None:
                self._sock = self._inner.get_extra_info("socket")
            if self._sock is not None:
                return _is_readable(self._sock)
        return self._inner.get_extra_info(info)


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._inner.connect_tcp(
            host, port, timeout=bounded, local_address=local_address,
            socket_options=socket_options,
        ))

    # No connect_unix_socket: the package never sets httpx's ``uds``; the base class refuses.

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def install(client: httpx.Client | httpx.AsyncClient) -> None:
    """Make every connection ``client`` opens (directly or through a proxy) obey the
    deadline in force; raises ``RuntimeError`` if httpx no longer has the pool's backend
    where this expects it (a loud failure beats a deadline that silently does nothing)."""
    transports = [client._transport, *client._mounts.values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        if pool is None:
            continue  # a mount of None (no proxy for that host) or a custom transport
        inner = getattr(pool, "_network_backend", None)
        if isinstance(inner, httpcore.NetworkBackend):
            pool._network_backend = _SyncBackend(inner)
        elif isinstance(inner, httpcore.AsyncNetworkBackend):
            pool._network_backend = _AsyncBackend(inner)
        else:
            raise RuntimeError("httpx's connection pool has no network backend to bound")
