"""Loading and unloading the IPython extension."""

from __future__ import annotations

import sys
from typing import Any


def get_magics(ipython: Any) -> Any:
    """The loaded :class:`~agcloud_magic.magics.RespondMagics` of ``ipython`` (or ``None``)."""
    return ipython.magics_manager.registry.get("RespondMagics")


def _register_accessor_when_pandas_loads(ipython: Any) -> None:
    # Registering the df.respond accessor needs pandas; importing pandas at load would cost
    # ~0.3 s, so register as soon as the user has imported it.
    def check(*_args: Any) -> None:
        if "pandas" in sys.modules:
            from .dataframes import register_pandas_accessor

            register_pandas_accessor()
            try:
                ipython.events.unregister("post_run_cell", check)
            except ValueError:
                pass

    if "pandas" in sys.modules:
        check()
    else:
        ipython.events.register("post_run_cell", check)


def load(ipython: Any) -> None:
    """Register the magics and the cell-id hook on ``ipython``."""
    from .magics import RespondMagics

    if get_magics(ipython) is not None:
        return
    magics = RespondMagics(shell=ipython)
    ipython.register_magics(magics)
    ipython.events.register("pre_run_cell", magics.pre_run_cell)
    _register_accessor_when_pandas_loads(ipython)


def unload(ipython: Any) -> None:
    """Undo :func:`load`: unhook, stop the stand-in if we started one, stop the loop thread."""
    magics = get_magics(ipython)
    if magics is None:
        return
    try:
        ipython.events.unregister("pre_run_cell", magics.pre_run_cell)
    except ValueError:
        pass
    if magics.offline is not None:
        magics.offline.stop()
        magics.offline = None
    ipython.magics_manager.registry.pop("RespondMagics", None)
    from .runner import get_runner

    get_runner().stop()
