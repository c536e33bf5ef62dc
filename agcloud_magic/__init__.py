"""agcloud-magic: AGCloud's Responses API in Jupyter.

``%load_ext agcloud_magic`` registers ``%%respond``, ``%respond`` and ``%agcloud``.  From Python:
``respond(input, **params)``, ``await arespond(...)``, ``batch(items, template, schema)``,
``Client``, ``summarize(df)``, ``Panel()``.

Nothing heavy is imported here: httpx, pandas and ipywidgets load on first use, so loading the
extension costs milliseconds.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

from agcloud_magic._version import __version__

# Public name -> module that defines it, imported on first access (PEP 562).
_LAZY = {
    "respond": "api",
    "arespond": "api",
    "batch": "batching",
    "Client": "api",
    "Result": "wire.result",
    "Settings": "http.settings",
    "RetryPolicy": "http.retry",
    "AGCloudError": "errors",
    "Conversation": "engine.conversation",
    "summarize": "dataframes",
    "to_model_text": "dataframes",
    "Panel": "panel",
    "serve": "standin",
    "StandinServer": "standin",
}

__all__ = [*sorted(_LAZY), "load_ipython_extension", "unload_ipython_extension"]

if _typing.TYPE_CHECKING:  # pragma: no cover
    from agcloud_magic.api import Client, arespond, respond
    from agcloud_magic.batching import batch
    from agcloud_magic.dataframes import summarize, to_model_text
    from agcloud_magic.engine.conversation import Conversation
    from agcloud_magic.errors import AGCloudError
    from agcloud_magic.http.retry import RetryPolicy
    from agcloud_magic.http.settings import Settings
    from agcloud_magic.panel import Panel
    from agcloud_magic.standin import StandinServer, serve
    from agcloud_magic.wire.result import Result


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'agcloud_magic' has no attribute {name!r}")
    value = getattr(_importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def load_ipython_extension(ipython: _typing.Any) -> None:
    """Register the magics on ``ipython`` (``%load_ext agcloud_magic``)."""
    from agcloud_magic.ipython.extension import load

    load(ipython)


def unload_ipython_extension(ipython: _typing.Any) -> None:
    """Stop background work started by the extension (``%unload_ext agcloud_magic``)."""
    from agcloud_magic.ipython.extension import unload

    unload(ipython)
