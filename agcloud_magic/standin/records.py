"""What the stand-in remembers: requests as they arrived, and stored responses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Headers", "RecordedRequest", "StoredResponse"]


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
