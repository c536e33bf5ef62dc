"""Stopping a sync request that runs in another thread, promptly, at any stage."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

__all__ = ["Cancellation"]


class Cancellation:
    """Stops a sync :meth:`Client.create` running in another thread, promptly.

    A blocked socket read does not notice a flag, so :meth:`cancel` also shuts the
    connection's socket down: the read returns at once and the ``with`` block closes the
    response.  The client hands the socket over from the request's first socket operation
    on (:meth:`watch`, through ``http/deadline.py``), so a request still connecting or waiting
    for its status line stops at once too.  Waits between retries go through :meth:`wait`,
    which a cancel cuts short, so no retry is sent after a cancel.
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

    def watch(self, sock: Any) -> None:
        """Remember ``sock`` as the request's socket (shut it down at once if cancelled)."""
        if sock is self._socket and sock is not None:
            return  # the hot path: every read of a stream passes here
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
