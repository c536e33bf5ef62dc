"""The magic's progress bar for a batch: a widget in a kernel, the text bar elsewhere.

The batching layer only calls ``update``/``finish`` (:class:`~agcloud_magic.batching.progress.
ProgressSink`); this face decides how it looks.  Both are throttled by the batch's reporter
(five updates a second at most), and both are left showing the summary line.
"""

from __future__ import annotations

from typing import Any

from agcloud_magic.batching.progress import Progress, ProgressSink, TextBar
from agcloud_magic.ipython.renderers import _in_kernel

__all__ = ["WidgetBar", "progress_sink"]


class WidgetBar:
    """An ``IntProgress`` and a ``Label`` side by side, displayed on the first update."""

    def __init__(self) -> None:
        import ipywidgets as widgets  # loads with the first batch, not with the extension

        self.bar = widgets.IntProgress(value=0, min=0, max=1, description="Rows")
        self.label = widgets.Label(value="starting")
        self.box = widgets.HBox([self.bar, self.label])
        self.shown = False

    def update(self, progress: Progress) -> None:
        self._show()
        self.bar.max = max(progress.total, 1)  # IntProgress refuses max < value; 0 rows is 1
        self.bar.value = progress.finished
        self.label.value = progress.status()

    def finish(self, progress: Progress) -> None:
        self.update(progress)
        self.bar.bar_style = "warning" if progress.failed else "success"
        self.label.value = progress.summary()

    def _show(self) -> None:
        if not self.shown:
            from IPython.display import display

            display(self.box)
            self.shown = True


def progress_sink(shell: Any) -> ProgressSink:
    """The widget bar in ipykernel (its front end draws widgets), else the text bar on
    stderr (terminal IPython, a plain shell)."""
    return WidgetBar() if _in_kernel(shell) else TextBar()
