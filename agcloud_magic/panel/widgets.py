"""The panel's widgets, laid out, each with its own ``agc-…`` CSS class.

Kept apart from the behaviour in :mod:`agcloud_magic.panel` so that module reads as logic.
ipywidgets (and anywidget, for the keyboard shortcut) are imported here, and this module is only
imported when a panel is made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w

from agcloud_magic.errors import ConfigError
from agcloud_magic.panel.style import CSS, escape, live_header, markdown_html

__all__ = ["KEYS_ESM", "LiveView", "PanelWidgets", "frame_names", "frame_summary", "make_keys"]

# The keyboard shortcut: ipywidgets' Textarea reports no key events, so a tiny invisible
# anywidget listens for Ctrl/Cmd+Enter inside the panel that contains it and tells Python.
# It listens on window in the capture phase: that runs before JupyterLab's own shortcut handling
# (Ctrl+Enter would otherwise re-run the notebook cell) and before the Textarea view, which
# stops key events from propagating.  It also keeps the transcript scrolled to the newest text
# unless the user has scrolled up to read.
KEYS_ESM = r"""
function render({ model, el }) {
  el.classList.add("agc-keys");
  const panel = () => el.closest(".agc-panel");
  const onKey = (event) => {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    const root = panel();
    if (!root || !(event.target instanceof Node) || !root.contains(event.target)) return;
    event.preventDefault();
    event.stopPropagation();
    // Send the prompt as seen: the Textarea's own value sync may still be queued behind an
    // earlier one (ipywidgets throttles per model), and this message would overtake it.
    const box = root.querySelector(".agc-prompt textarea");
    model.send({ event: "send", prompt: box ? box.value : null });
  };
  window.addEventListener("keydown", onKey, true);

  let observer = null, box = null, stuck = true, tries = 0;
  const onScroll = () => { stuck = box.scrollHeight - box.scrollTop - box.clientHeight < 40; };
  const follow = () => {
    const root = panel();
    box = root && root.querySelector(".agc-transcript");
    if (!box) {
      if (tries++ < 200) setTimeout(follow, 50);
      return;
    }
    box.addEventListener("scroll", onScroll);
    observer = new MutationObserver(() => { if (stuck) box.scrollTop = box.scrollHeight; });
    observer.observe(box, { childList: true, subtree: true, characterData: true });
  };
  follow();
  return () => {
    window.removeEventListener("keydown", onKey, true);
    if (observer) observer.disconnect();
    if (box) box.removeEventListener("scroll", onScroll);
  };
}
export default { render };
"""


def make_keys(on_send: Callable[[str | None], None]) -> Any:
    """The invisible shortcut widget, or ``None`` when anywidget is not installed.

    ``on_send(prompt)`` gets the prompt text as the browser shows it (or ``None``).
    """
    try:
        import anywidget
    except ImportError:  # the panel still works; only the shortcut is missing
        return None

    class PanelKeys(anywidget.AnyWidget):  # type: ignore[misc]
        """Ctrl/Cmd+Enter inside the panel -> ``on_send()``."""

        _esm = KEYS_ESM

    keys = PanelKeys(layout=w.Layout(width="0px", height="0px"))
    keys.add_class("agc-keys")

    def handle(_widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("event") == "send":
            prompt = content.get("prompt")
            on_send(prompt if isinstance(prompt, str) else None)

    keys.on_msg(handle)
    return keys


def _classed(widget: Any, *classes: str) -> Any:
    for name in classes:
        widget.add_class(name)
    return widget


class PanelWidgets:
    """Every widget of one panel, as attributes; ``root`` is the outer box."""

    def __init__(self, *, models: list[str], default_model: str, keys: Any) -> None:
        full = w.Layout(width="100%")
        self.style = w.HTML(CSS, layout=w.Layout(display="none"))
        self.title = _classed(w.HTML("AGCloud"), "agc-title")
        self.model = _classed(
            w.Combobox(
                options=models, ensure_option=False, placeholder=f"{default_model} (default)",
                description="Model", layout=w.Layout(width="260px"),
                style={"description_width": "48px"},
            ),
            "agc-model",
        )
        self.thread = _classed(
            w.Dropdown(options=["main"], description="Thread", layout=w.Layout(width="220px"),
                       style={"description_width": "52px"}),
            "agc-thread",
        )
        self.thread_name = _classed(
            w.Text(placeholder="new thread name ⏎", continuous_update=False,
                   layout=w.Layout(width="160px")),
            "agc-thread-name",
        )
        self.refresh = _classed(
            w.Button(icon="refresh", tooltip="Refresh threads, transcript and DataFrames",
                     layout=w.Layout(width="36px")),
            "agc-refresh",
        )
        self.instructions = _classed(
            w.Textarea(placeholder="Instructions (system prompt), optional", rows=2, layout=full),
            "agc-instructions",
        )
        self.temperature = _classed(
            w.FloatSlider(value=1.0, min=0.0, max=2.0, step=0.05, description="Temperature",
                          disabled=True, readout_format=".2f", layout=w.Layout(width="320px"),
                          style={"description_width": "90px"}),
            "agc-temperature",
        )
        self.temperature_default = _classed(
            w.Checkbox(value=True, description="default", indent=False,
                       layout=w.Layout(width="80px")),
            "agc-temperature-default",
        )
        self.max_tokens = _classed(
            w.BoundedIntText(value=0, min=0, max=1_000_000, description="Max output tokens",
                             tooltip="0 = not set", layout=w.Layout(width="250px"),
                             style={"description_width": "130px"}),
            "agc-max-tokens",
        )
        self.tools = _classed(
            w.Text(placeholder="kernel functions, e.g. lookup, top_customers", description="Tools",
                   tooltip="Functions the model may call (only these run)",
                   layout=w.Layout(width="360px"), style={"description_width": "48px"}),
            "agc-tools",
        )
        self.df_picker = _classed(
            w.SelectMultiple(options=[], rows=3, description="DataFrames",
                             layout=w.Layout(width="320px"), style={"description_width": "90px"}),
            "agc-df-picker",
        )
        self.df_refresh = _classed(
            w.Button(icon="refresh", tooltip="List the DataFrames in the kernel again",
                     layout=w.Layout(width="36px")),
            "agc-df-refresh",
        )
        self.df_preview = _classed(w.HTML(layout=full), "agc-df-preview")
        self.upload = _classed(
            w.FileUpload(multiple=True, description="Images / files", accept=""),
            "agc-upload",
        )
        self.history = _classed(w.HTML(layout=full), "agc-history")
        self.live = _classed(w.VBox(layout=full), "agc-live")
        self.transcript = _classed(w.VBox([self.history, self.live], layout=full), "agc-transcript")
        self.prompt = _classed(
            w.Textarea(placeholder="Ask… (Ctrl+Enter sends)", rows=3, layout=full),
            "agc-prompt",
        )
        self.send = _classed(
            w.Button(description="Send", button_style="primary", icon="paper-plane",
                     tooltip="Send (Ctrl/Cmd+Enter)"),
            "agc-send",
        )
        self.stop = _classed(
            w.Button(description="Stop", icon="stop", disabled=True), "agc-stop"
        )
        self.new_chat = _classed(
            w.Button(description="New chat", icon="plus",
                     tooltip="Start this thread afresh (the model forgets it)"),
            "agc-new",
        )
        self.usage = _classed(w.HTML(), "agc-usage")
        self.error = _classed(w.HTML(), "agc-error")
        self.keys = keys

        row = "agc-row"
        header = _classed(
            w.HBox([self.title, self.model, self.thread, self.thread_name, self.refresh]), row
        )
        knobs = _classed(
            w.HBox([self.temperature, self.temperature_default, self.max_tokens, self.tools]), row
        )
        data = _classed(w.HBox([self.df_picker, self.df_refresh, self.upload]), row)
        buttons = _classed(w.HBox([self.send, self.stop, self.new_chat, self.usage]), row)
        children = [self.style, header, self.instructions, knobs, data, self.df_preview,
                    self.transcript, self.prompt, buttons, self.error]
        if keys is not None:
            children.insert(1, keys)
        self.root = _classed(w.VBox(children, layout=w.Layout(width="100%")), "agc-panel")

    def live_view(self, model: str | None) -> LiveView:
        """Start showing a streaming answer below the history."""
        return LiveView(self.live, model)

    # -- reading and setting the controls ------------------------------------------------

    def apply_defaults(self, prefs: Any) -> None:
        """Start from the session's preferences (``%config RespondMagics.…``)."""
        self.instructions.value = prefs.instructions or ""
        if prefs.temperature is not None:
            self.temperature_default.value = False
            self.temperature.value = prefs.temperature
            self.temperature.disabled = False
        self.max_tokens.value = prefs.max_output_tokens or 0

    def fields(self, defaults: dict[str, Any]) -> dict[str, Any]:
        """Request fields from the controls; ``None`` means "not set" (the Exchange drops it)."""
        temperature = None if self.temperature_default.value else float(self.temperature.value)
        return {
            "model": self.model.value.strip() or None,
            "instructions": self.instructions.value.strip() or None,
            "temperature": temperature,
            "max_output_tokens": self.max_tokens.value or None,
            "top_p": defaults.get("top_p"),
            "stream": defaults.get("stream"),
        }

    def list_frames(self, namespace: dict[str, Any], hidden: Any) -> None:
        """List the kernel's DataFrames/Series in the picker, keeping what is still there."""
        names = frame_names(namespace, hidden)
        if tuple(names) == tuple(self.df_picker.options):
            return  # unchanged: send nothing to the front end
        keep = tuple(n for n in self.df_picker.value if n in names)
        self.df_picker.options = names
        self.df_picker.value = keep

    def upload_parts(self) -> tuple[list[dict[str, Any]], list[str]]:
        """``input_image`` / ``input_file`` parts of the uploaded files, and a note for each."""
        uploads = self.upload.value
        if not uploads:
            return [], []
        from agcloud_magic.engine.attachments import file_part, image_part

        parts, notes = [], []
        for item in uploads:
            filename = str(item.get("name") or "upload")
            data = bytes(item.get("content") or b"")
            if str(item.get("type") or "").startswith("image/"):
                parts.append(image_part(data))
                notes.append(f"image {filename}")
            else:
                parts.append(file_part((filename, data)))
                notes.append(f"file {filename}")
        return parts, notes


class LiveView:
    """An answer while it streams, inside the transcript's ``live`` box.

    Finished pieces (Markdown blocks, tool lines) are rendered and sent once each (a new HTML
    widget per batch); only the open block (the tail) is re-rendered on every update.  The
    reasoning summary streams the same way inside a folded ``Accordion``: finished chunks once
    each, only its open chunk re-sent.  So the bytes sent stay close to the answer's and the
    reasoning's length instead of growing with their square.
    """

    def __init__(self, box: Any, model: str | None) -> None:
        self.box = box
        self.header = _classed(w.HTML(live_header(model)), "agc-live-header")
        self.tail = _classed(w.HTML(), "agc-md")
        self.blocks: list[Any] = []
        self.reasoning: ReasoningFold | None = None  # made when the first reasoning arrives
        box.children = (self.header, self.tail)

    def show(self, pieces: list[tuple[str, str]], tail: str) -> None:
        """Append the newly finished ``pieces`` (``("md", markdown)`` or ``("html", html)``)
        and re-render the ``tail``."""
        if pieces:
            self.blocks.append(_classed(w.HTML(_pieces_html(pieces)), "agc-md"))
            self._lay_out()
        self.tail.value = markdown_html(tail)

    def show_reasoning(self, done: list[str], open_text: str | None) -> None:
        """Append the reasoning chunks ``done`` (plain text, escaped here) for good and show
        ``open_text`` as its open chunk (``None``: keep the one shown)."""
        if self.reasoning is None:
            self.reasoning = ReasoningFold()
            self._lay_out()
        if done:
            self.reasoning.append("".join(done))
        if open_text is not None:
            self.reasoning.tail.value = escape(open_text)

    def _lay_out(self) -> None:
        fold = () if self.reasoning is None else (self.reasoning.root,)
        self.box.children = (self.header, *fold, *self.blocks, self.tail)

    def close(self) -> None:
        """Take the live answer out of the transcript (the history shows it from now on)."""
        self.box.children = ()
        if self.reasoning is not None:
            _close_all(self.reasoning.root)
        for widget in (self.header, self.tail, *self.blocks):
            widget.close()


class ReasoningFold:
    """A reasoning summary streaming in chunks, folded away (an ``Accordion``, closed).

    Each chunk is one HTML widget, made once.  They share one ``Layout`` and one style (a
    widget of its own costs three models, about 2 KB; sharing, about 600 bytes), and sit in
    pages of ``PAGE``: adding a widget re-sends its box's list of children, so one flat list
    would cost bytes growing with the square of the chunk count.
    """

    PAGE = 8

    def __init__(self) -> None:
        self.tail = _classed(w.HTML(), "agc-reasoning")
        self._shared = {"layout": self.tail.layout, "style": self.tail.style}
        self.flow = _classed(w.VBox([self.tail]), "agc-reasoning-flow")
        self.pages: list[Any] = []
        self.root = _classed(
            w.Accordion(children=[self.flow], titles=("Reasoning",)), "agc-reasoning-fold"
        )

    def append(self, text: str) -> None:
        """Show ``text`` (plain, escaped here) for good, before the open chunk."""
        chunk = w.HTML(escape(text), _dom_classes=("agc-reasoning",), **self._shared)
        if self.pages and len(self.pages[-1].children) < self.PAGE:
            page = self.pages[-1]
            page.children = (*page.children, chunk)
            return
        page = _classed(w.VBox([chunk], layout=self._shared["layout"]), "agc-reasoning-page")
        self.pages.append(page)
        self.flow.children = (*self.pages, self.tail)


def _close_all(widget: Any) -> None:
    if widget is None:
        return
    for child in getattr(widget, "children", ()):
        _close_all(child)
    widget.close()


def _pieces_html(pieces: list[tuple[str, str]]) -> str:
    """Render a batch of pieces; consecutive Markdown blocks are rendered together."""
    out: list[str] = []
    markdown: list[str] = []
    for kind, text in pieces:
        if kind == "md":
            markdown.append(text)
            continue
        if markdown:
            out.append(markdown_html("".join(markdown)))
            markdown = []
        out.append(text)
    if markdown:
        out.append(markdown_html("".join(markdown)))
    return "".join(out)


def frame_names(namespace: dict[str, Any], hidden: Any) -> list[str]:
    """Names of the pandas DataFrames and Series the user defined (pandas is not imported)."""
    names = []
    for name, value in list(namespace.items()):
        if name.startswith("_") or name in hidden:
            continue
        kind = type(value)
        if kind.__name__ in ("DataFrame", "Series") and kind.__module__.startswith("pandas"):
            names.append(name)
    return sorted(names)


def frame_summary(namespace: dict[str, Any], name: str, budget: int) -> str:
    """The summary a picked DataFrame sends (what the preview shows)."""
    if name not in namespace:
        raise ConfigError(f"DataFrame {name!r} is gone from the kernel: refresh the list.")
    from agcloud_magic.dataframes import summarize

    try:
        return summarize(namespace[name], name=name, budget=budget)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"DataFrame {name}: {exc}") from None
