"""Shared fixtures: the offline stand-in and the reference JSON Schema."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agcloud_magic.standin import StandinServer, serve

from .helpers import reference_path


@pytest.fixture(scope="session", autouse=True)
def _batch_cache_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test writes the user's batch cache (tests that count requests set their own)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AGCLOUD_CACHE_DIR", str(tmp_path_factory.mktemp("batch-cache")))
        # Nor the user's thread store (a front end's JPY_SESSION_NAME would name one).
        patch.setenv("AGCLOUD_THREADS_DIR", str(tmp_path_factory.mktemp("threads")))
        patch.delenv("JPY_SESSION_NAME", raising=False)
        patch.delenv("AGCLOUD_THREADS_FILE", raising=False)
        yield


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """``tests/reference``: the JSON Schema and recorded fixtures, vendored from shared/."""
    path = reference_path()
    if not (path / "openapi-responses.schema.json").is_file():
        pytest.fail(f"{path} has no openapi-responses.schema.json", pytrace=False)
    return path


@pytest.fixture(scope="session")
def schema(reference_dir: Path) -> Callable[[str], Any]:
    """``schema("Response")`` -> a Draft 2020-12 validator rooted at ``#/$defs/Response``."""
    from jsonschema import Draft202012Validator

    document = json.loads((reference_dir / "openapi-responses.schema.json").read_text("utf-8"))
    cache: dict[str, Any] = {}

    def validator(root: str) -> Any:
        if root not in cache:
            rooted = copy.copy(document)  # shallow: only the root "$ref" differs
            rooted["$ref"] = f"#/$defs/{root}"
            cache[root] = Draft202012Validator(rooted)
        return cache[root]

    return validator


@pytest.fixture
def standin() -> Iterator[StandinServer]:
    """A fresh stand-in on a free loopback port, stopped after the test."""
    with serve() as srv:
        yield srv


@pytest.fixture
def srv(standin: StandinServer) -> StandinServer:
    """The stand-in, under the short name the magic and panel tests use."""
    return standin


@pytest.fixture
def ip(srv: StandinServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The process's IPython shell with agcloud_magic loaded, pointed at ``srv``."""
    from .magic_support import pointed_at

    with pointed_at(srv, monkeypatch) as shell:
        yield shell


@pytest.fixture
def panel(ip: Any) -> Iterator[Any]:
    """A chat panel on ``ip``'s session, closed after the test."""
    from agcloud_magic.panel import Panel

    panel = Panel()
    yield panel
    panel.close()
