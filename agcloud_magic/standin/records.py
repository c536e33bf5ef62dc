"""What the stand-in remembers: requests as they arrived, and stored responses."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

__all__ = ["Headers", "RecordedRequest", "StoredResponse", "StreamRecord"]


class Headers(dict):
    """A plain dict of request headers whose lookups ignore case (``h["authorization"]`` works
    whatever case the client sent)."""

    def __init__(self, pairs: Any = ()) -> None:
        super().__init__()
        for key, value in dict(pairs).items():
            super().__setitem__(key, value)

    def _key(self, key: object) -> object:
        if isinstance(key, str):
            lowered = key.lower()
            for existing in self.keys():
                if existing.lower() == lowered:
                    return existing
        return key

    def __getitem__(self, key: object) -> Any:
        return super().__getitem__(self._key(key))

    def __contains__(self, key: object) -> bool:
        return super().__contains__(self._key(key))

    def get(self, key: object, default: Any = None) -> Any:
        return super().get(self._key(key), default)


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as the stand-in received it.

    ``headers`` never holds the key: an ``Authorization`` value is replaced by ``"Bearer ***"``.
    ``body`` is the parsed JSON object, or None when the body was empty or not a JSON object.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None


@dataclass
class StreamRecord:
    """What the stand-in wrote of one SSE stream, updated while it streams.

    ``sent`` counts the events written so far out of ``total``; ``outcome`` is None while the
    stream runs, then ``"completed"``, ``"cut"`` (an injected cut, or the server stopping) or
    ``"client_gone"`` (the client closed the connection: a cancelled request);
    ``ended`` is the ``time.monotonic()`` of the end.
    """

    request_id: str
    total: int
    sent: int = 0
    outcome: str | None = None
    ended: float | None = None

    def end(self, outcome: str) -> None:
        """Mark the stream finished with ``outcome``."""
        self.outcome, self.ended = outcome, time.monotonic()


@dataclass
class StoredResponse:
    """A response kept for ``previous_response_id`` (and ``GET /v1/responses/{id}``).

    ``turn`` is the depth of the ``previous_response_id`` chain plus one; ``input`` is the
    request's ``input`` exactly as sent.
    """

    id: str
    response: dict[str, Any]
    input: Any
    turn: int
    previous_response_id: str | None
