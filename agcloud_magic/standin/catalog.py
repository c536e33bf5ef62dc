"""The models the stand-in serves: ``GET /v1/models`` and the API's 404 for any other name.

The default list covers every model the README, the docs, the panel and the default settings
name, so that offline mode answers them and a typo (``gpt-4o-mnii``) fails as it would online.
``lorem`` stands for the whole ``lorem`` / ``lorem-N`` family; every other listed name is
answered by the echo model.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .common import ApiError
from .lorem import lorem_count

__all__ = ["DEFAULT_MODELS", "Catalog"]

DEFAULT_MODELS: tuple[str, ...] = (
    "echo", "lorem", "gpt-4o-mini", "gpt-4o", "gpt-4.1", "gpt-4.1-mini", "o4-mini",
)
# A fixed date (2024-01-01 UTC) keeps listings byte-for-byte deterministic.
CREATED = 1704067200
OWNED_BY = "agcloud-standin"


class Catalog:
    """An ordered, fixed list of model names; checked when the server is made."""

    def __init__(self, models: Iterable[str] | None = None) -> None:
        if isinstance(models, str):
            raise TypeError("models must be a list of names, not one string")
        names = tuple(DEFAULT_MODELS if models is None else models)
        if not names:
            raise ValueError("the stand-in needs at least one model")
        for name in names:
            if not isinstance(name, str) or not name.strip():
                raise ValueError(f"a model name must be a non-empty string, got {name!r}")
        self.names = tuple(dict.fromkeys(names))

    def knows(self, name: str) -> bool:
        """True for a listed name, and for ``lorem-N`` while ``lorem`` is listed."""
        return name in self.names or ("lorem" in self.names and lorem_count(name) is not None)

    def require(self, name: str) -> None:
        """Raise the API's 404 ``model_not_found`` for a model that is not served."""
        if not self.knows(name):
            raise ApiError(
                404, f"The model `{name}` does not exist or you do not have access to it.",
                code="model_not_found",
            )

    @staticmethod
    def entry(name: str) -> dict[str, Any]:
        """One model object, as ``GET /v1/models/{id}`` returns it."""
        return {"id": name, "object": "model", "created": CREATED, "owned_by": OWNED_BY}

    def listing(self) -> dict[str, Any]:
        """The body of ``GET /v1/models``."""
        return {"object": "list", "data": [self.entry(name) for name in self.names]}
