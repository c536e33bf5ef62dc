"""Stopping a sync request that runs in another thread, promptly, at any stage."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

import httpx

__all__ = ["Cancellation"]


class Cancellation:
    """Stops a sync :meth:`Client.create` running in another thread, promptly.

    A blocked socket read does not notice a flag, so :meth:`cancel` also shuts the
    connection's socket down: the read returns at once and the ``with`` block closes the
    response.  (Before the response headers arrive there is no socket to reach yet; the
    request then ends at its timeout, and its result is ignored.)  Waits between retries go
    through :meth:`wait`, which a cancel cuts short, so no retry is sent after a cancel.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._socket: Any = None
        self._event = threading.Event()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; return True (at once) when cancelled meanwhile or before."""
        return self._event.wait(seconds)

    def attach(self, response: httpx.Response) -> None:
        """Remember the socket under ``response`` (cancelling at once if already cancelled)."""
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        with self._lock:
            self._socket = sock
            late = self.cancelled
        if late:
            self._shutdown()

    def cancel(self) -> None:
        """Cancel: mark it, and wake a blocked read by shutting the socket down."""
        with self._lock:
            self._event.set()
        self._shutdown()

    def _shutdown(self) -> None:
        with self._lock:
            sock, self._socket = self._socket, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
