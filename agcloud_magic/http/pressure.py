"""Who hears that the server pushed back: a 429 or 503 the client is about to wait out.

The client retries a 429 (honouring ``Retry-After``) by itself, so a caller that paces many
requests (a batch) would never learn that the server asked it to slow down.  A caller that
cares sets a listener around its requests (:func:`listening`); the client tells it, before
each such wait, the status and the seconds it will wait (:func:`pushed_back`).  The listener
is a context variable, so it follows the task (or thread) that set it, and the tasks that task
starts, and nobody else's requests.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator

__all__ = ["PUSHBACK_STATUSES", "listening", "pushed_back"]

PUSHBACK_STATUSES = frozenset({429, 503})  # "too many requests" and "overloaded, come back"

Listener = Callable[[int, float], None]
_LISTENER: contextvars.ContextVar[Listener | None] = contextvars.ContextVar(
    "agcloud_pushback_listener", default=None
)


@contextlib.contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Within this block (and the tasks started in it), ``listener(status, delay)`` hears each
    429 or 503 the client is about to wait ``delay`` seconds out before retrying."""
    token = _LISTENER.set(listener)
    try:
        yield
    finally:
        _LISTENER.reset(token)


def pushed_back(status: int | None, delay: float | None) -> None:
    """Tell the listener, if any, that the server answered ``status`` and the client waits
    ``delay`` seconds (``None``: it gives up; the listener hears it with no wait)."""
    listener = _LISTENER.get()
    if listener is not None and status in PUSHBACK_STATUSES:
        listener(status, 0.0 if delay is None else delay)
