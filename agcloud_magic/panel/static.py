"""The panel as a page can show it without a kernel: a ``text/html`` copy of its transcript.

A widget's output is a reference to a live model; a notebook saved and exported to HTML (or
opened without the widget manager, or offline, where the widgets' script cannot load) shows
nothing for it.  So the panel's display carries, beside the widget view, the transcript as
inert HTML (the same entries the panel draws: model text made safe, no script, no event
handler), and every settled answer updates that display.  A front end with a kernel draws the
widget; anything else can fall back to the HTML.
"""

from __future__ import annotations

from html import escape
from typing import Any

__all__ = ["StaticView"]

STYLE = ("border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;margin:4px 0;"
         "max-width:60em;font-family:system-ui,sans-serif")


class StaticView:
    """The panel's displays: each one's handle, and the bundle they show."""

    def __init__(self, widget_bundle: Any, thread_name: Any, history_html: Any) -> None:
        self._widget_bundle = widget_bundle  # () -> the widget's own mime bundle
        self._thread_name = thread_name  # () -> the thread shown
        self._history_html = history_html  # () -> the transcript as the panel draws it
        self._handles: list[Any] = []

    def html(self) -> str:
        """The transcript as a static, inert block."""
        return (f'<div class="agcloud-magic-panel-static" style="{STYLE}">'
                f'<div style="color:#57606a;font-size:0.85em">agcloud-magic chat panel · thread '
                f"{escape(self._thread_name())} (a static copy: run the notebook for the live "
                f"panel)</div>{self._history_html()}</div>")

    def bundle(self) -> dict[str, Any]:
        data = dict(self._widget_bundle() or {})
        data["text/html"] = self.html()
        return data

    def display(self) -> None:
        """Show the panel (widget view plus the static copy), remembering the display."""
        from IPython.display import display

        handle = display(self.bundle(), raw=True, display_id=True)
        if handle is not None:
            self._handles.append(handle)

    def refresh(self) -> None:
        """Bring every display's static copy up to date (after an answer settled)."""
        if not self._handles:
            return
        bundle = self.bundle()
        for handle in self._handles:
            handle.update(bundle, raw=True)
