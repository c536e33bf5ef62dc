"""Where the IPython face shows answers: the publisher that talks to IPython, and the choice
between the notebook renderer (in a kernel) and the terminal renderer (anywhere else)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, Literal, TextIO

from agcloud_magic.display.notebook import NotebookRenderer
from agcloud_magic.display.render import DisplayTarget, Publisher, Renderer
from agcloud_magic.display.terminal import TerminalRenderer

__all__ = ["IPythonPublisher", "make_renderer"]


class _HandleTarget:
    __slots__ = ("_handle",)

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def update(self, data: dict[str, str], metadata: dict[str, Any] | None = None) -> None:
        self._handle.update(data, raw=True, metadata=metadata)


class IPythonPublisher:
    """The default publisher: ``IPython.display.display(..., display_id=True)`` and its handle."""

    def display(
        self, data: dict[str, str], metadata: dict[str, Any] | None = None
    ) -> DisplayTarget:
        """Publish ``data`` as a raw bundle with a fresh display id."""
        from IPython.display import display

        return _HandleTarget(display(data, raw=True, metadata=metadata, display_id=True))


def _in_kernel(shell: Any) -> bool:
    """True for ipykernel's shell, which can update displays in place."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    zmqshell = sys.modules.get("ipykernel.zmqshell")  # never imported here: only if running
    return zmqshell is not None and isinstance(shell, zmqshell.ZMQInteractiveShell)


def make_renderer(
    shell: Any = None,
    fmt: str = "markdown",
    publisher: Publisher | None = None,
    *,
    kind: Literal["notebook", "terminal"] | None = None,
    clock: Callable[[], float] | None = None,
    stream: TextIO | None = None,
) -> Renderer:
    """Pick the renderer for where we run.

    ``kind`` forces one; otherwise a ``publisher`` means notebook, and so does running in
    ipykernel (``shell`` or the current IPython is a ``ZMQInteractiveShell``); anything else
    (terminal IPython, a plain ``InteractiveShell``, plain Python) gets the terminal renderer.
    """
    if kind is None:
        kind = "notebook" if publisher is not None or _in_kernel(shell) else "terminal"
    if kind == "notebook":
        return NotebookRenderer(fmt, publisher=publisher or IPythonPublisher(), clock=clock)
    if kind == "terminal":
        return TerminalRenderer(fmt, stream=stream)
    raise ValueError(f"unknown renderer kind {kind!r}; use 'notebook' or 'terminal'")
