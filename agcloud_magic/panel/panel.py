"""The chat panel: ``agcloud_magic.Panel()`` or ``%agcloud panel``.

The panel is an ipywidgets ``VBox`` (so it sits in ``HBox``/``VBox``/``Tab`` like any widget)
and a second face on the kernel's :class:`~agcloud_magic.engine.session.Session`: the same
threads, so a turn made here shows in ``%agcloud history`` and a ``%%respond`` cell chains onto
it (and the other way round).  Callbacks never block the kernel: Send builds an
:class:`~agcloud_magic.engine.ask.Ask`, submits ``session.arun`` to the private loop thread and
returns.  The answer's deltas arrive on that thread; the text is kept in Python and the widgets
are updated at most about 20 times a second.  Finished Markdown blocks are sent once each and
only the open block is re-rendered, so the bytes sent stay close to the answer's length.

Threads: button callbacks run on the kernel's main thread, the sink and the request's completion
on the loop thread (or on the main thread when Stop cancels), so the panel's state is guarded by
one lock.  Nothing here may print or raise into some other cell: every failure ends on the
panel's error line.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
import time
from typing import Any

import ipywidgets as w

from agcloud_magic.engine.ask import Ask
from agcloud_magic.engine.runner import get_runner
from agcloud_magic.errors import AGCloudError, ConfigError
from agcloud_magic.panel.request import LiveRequest, one_line_error
from agcloud_magic.panel.static import StaticView
from agcloud_magic.panel.style import (
    Entry,
    Pair,
    error_html,
    escape,
    markdown_export,
    preview_html,
    thread_entries,
    usage_html,
)

SUGGESTED_MODELS = ("echo", "lorem", "gpt-4o-mini", "gpt-4.1", "o4-mini")

__all__ = ["Panel"]


class Panel(w.VBox):
    """A chat panel on the kernel's AGCloud session (shared with ``%%respond``).

    Widgets (each with an ``agc-…`` CSS class): ``model``, ``instructions``, ``temperature``
    (+ ``temperature_default``), ``max_tokens``, ``tools``, ``df_picker``, ``df_preview``,
    ``upload``, ``prompt``, ``send``, ``stop``, ``new_chat``, ``thread`` (+ ``thread_name``),
    ``usage``, ``error``; ``root`` is the outer box.  From Python: set ``panel.prompt.value``, call
    ``panel.send.click()``, then ``panel.wait()``; read ``panel.transcript`` or
    ``panel.to_markdown()``.

    The panel is itself a ``VBox`` holding ``root``.  Its ``send`` attribute is the Send
    button, so the widget's custom-message ``send()`` is shadowed (the panel sends none).
    """

    def __init__(self, session: Any = None, shell: Any = None) -> None:
        from agcloud_magic.panel import widgets as panel_widgets

        super().__init__()
        self.shell = shell if shell is not None else _find_shell()
        self.session = session if session is not None else _find_session(self.shell)
        self.prefs = self.session.prefs
        self._lock = threading.RLock()
        self._pairs: dict[str, list[Pair]] = {}
        self._request: LiveRequest | None = None
        self._syncing = False  # the thread list is being replaced (see _set_thread_options)
        self.static = StaticView(super()._repr_mimebundle_, lambda: self.thread.value,
                                 lambda: self.ui.history.value)
        default_model = self.session.settings().model
        models = list(dict.fromkeys([default_model, *SUGGESTED_MODELS]))
        keys = panel_widgets.make_keys(self._safe(self._send_keyed))
        self.ui = ui = panel_widgets.PanelWidgets(
            models=models, default_model=default_model, keys=keys
        )
        self.root = ui.root
        self.children = (ui.root,)
        for name in ("model", "instructions", "temperature", "temperature_default",
                     "max_tokens", "tools", "df_picker", "df_preview", "upload", "prompt", "send",
                     "stop", "new_chat", "thread", "thread_name", "usage", "error"):
            setattr(self, name, getattr(ui, name))
        ui.apply_defaults(self.prefs)
        ui.send.on_click(self._safe(self._on_send))
        ui.stop.on_click(self._safe(self._stop))
        ui.new_chat.on_click(self._safe(self._new_chat))
        ui.refresh.on_click(self._safe(self.refresh))
        ui.df_refresh.on_click(self._safe(self._refresh_frames))
        ui.temperature_default.observe(self._safe(self._toggle_temperature), names="value")
        ui.df_picker.observe(self._safe(self._preview_frames), names="value")
        ui.thread.observe(self._safe(self._pick_thread), names="value")
        ui.thread_name.observe(self._safe(self._add_thread), names="value")
        self._shown_head: str | None = None
        # After every cell: list new DataFrames and threads, and show turns that %%respond
        # added to the picked thread (runs on the main thread, between cells).
        self._after_cell_hook = self._safe(self._after_cell)
        self.shell.events.register("post_run_cell", self._after_cell_hook)
        self.refresh()

    # -- display ---------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"<agcloud_magic.Panel thread={self.thread.value!r} turns={len(self.transcript)}>"

    def _ipython_display_(self) -> None:
        """The widget, with a static HTML copy of the transcript beside it (see
        :mod:`agcloud_magic.panel.static`), kept up to date as answers settle."""
        self.static.display()

    # -- public API ------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """True while a request is running."""
        req = self._request
        return req is not None and not req.finished

    @property
    def future(self) -> concurrent.futures.Future[Any] | None:
        """The future of the latest request (None before the first Send)."""
        return self._request.future if self._request is not None else None

    @property
    def updates(self) -> int:
        """How many coalesced widget updates the latest answer took (for tests and tuning)."""
        return self._request.updates if self._request is not None else 0

    @property
    def transcript(self) -> list[dict[str, Any]]:
        """The picked thread's turns, oldest first: dicts with role, text, response_id, status,
        thread, source (``panel`` or ``magic``), excerpt (True when only an excerpt is known,
        for turns made by ``%%respond``) and model.  A running answer is included as it stands."""
        with self._lock:
            entries = self._entries(self.thread.value)
            req = self._request
            if req is not None and not req.finished and req.pair.user.thread == self.thread.value:
                entries.append(req.pair.user)
                live = Entry("assistant", req.text, req.pair.user.thread, status="in_progress",
                             model=req.model)
                entries.append(live)
            return [e.as_dict() for e in entries]

    def to_markdown(self) -> str:
        """The picked thread's transcript as Markdown (prompts quoted, answers as written)."""
        return markdown_export(self.thread.value, self.transcript)

    def wait(self, timeout: float | None = 30) -> Any:
        """Block until the current request has finished and the panel shows it.

        Returns the :class:`~agcloud_magic.wire.result.Result`, or ``None`` when there was no
        request, or it failed or was stopped.  Raises ``TimeoutError`` after ``timeout``.
        """
        req = self._request
        if req is None:
            return None
        if not req.done.wait(timeout):
            raise TimeoutError(f"the panel's request did not finish within {timeout} s")
        return req.result

    def refresh(self, _button: Any = None) -> None:
        """Re-read threads, the transcript (turns made by ``%%respond`` too) and DataFrames."""
        with self._lock:
            conversation = self.session.conversation
            current = self.thread.value
            self._set_thread_options(current if current in conversation.threads else None)
            self._render_history()
        self._refresh_frames()

    def close(self) -> None:
        """Stop a running request, unhook from the shell and close the widgets."""
        self._stop()
        with contextlib.suppress(ValueError):
            self.shell.events.unregister("post_run_cell", self._after_cell_hook)
        _close_tree(self.root)
        super().close()

    # -- callbacks (main thread) -----------------------------------------------------------

    def _safe(self, callback: Any) -> Any:
        """Wrap a callback so that any failure lands on the error line, never in a cell."""

        def call(*args: Any) -> None:
            try:
                callback(*args)
            except AGCloudError as exc:
                self._show_error(str(exc))
            except Exception as exc:
                self._show_error(one_line_error(exc))

        return call

    def _on_send(self, _button: Any = None) -> None:
        if self.busy:
            self._show_error("A request is still running: wait for it or press Stop.")
            return
        text = self.prompt.value.strip()
        parts, notes = self._parts()
        settings = self.session.checked_settings()  # fail here, before anything shows as sent
        name = self.thread.value
        fields = self.ui.fields(self.prefs.request_defaults())
        ask = Ask(text=text, parts=parts, fields=fields, thread=name, source="panel",
                  tools=self._tools(), max_rounds=self.prefs.max_tool_rounds,
                  max_calls_per_round=self.prefs.max_tool_calls_per_round,
                  max_calls=self.prefs.max_tool_calls)
        anchor = self.session.conversation.thread(name).head
        model = fields.get("model") or settings.model
        pair = Pair(
            Entry("user", text, name, notes=notes),
            Entry("assistant", "", name, model=model, status="in_progress"),
            anchor,
        )
        req = LiveRequest(self._flush, pair, model)
        with self._lock:
            self._request = req
            try:
                self._start(req, ask)
            except BaseException:
                # Whatever raised (a render, the submit), nothing is running: the panel must
                # not look busy, or Send would refuse for good.
                self._release(req)
                raise
        req.future.add_done_callback(lambda future: self._finished(req, future))
        # The prompt and attachments were sent: clear them for the next turn.
        self.prompt.value = ""
        self.upload.value = ()
        self.df_picker.value = ()

    def _start(self, req: LiveRequest, ask: Ask) -> None:
        """Show the request as running and submit it to the loop (under the lock)."""
        self._set_busy(True)
        self.error.value = ""
        self.usage.value = usage_html("answering…")
        self._render_history()
        req.live = self.ui.live_view(req.model)
        run = self.session.arun(ask, req)
        try:
            req.future = get_runner().submit(run)
        except BaseException:
            run.close()  # never scheduled: close it, or Python warns it was never awaited
            raise

    def _send_keyed(self, prompt: str | None) -> None:
        """Ctrl/Cmd+Enter in the browser: send the prompt exactly as it was on screen."""
        if prompt is not None and not self.busy:
            self.prompt.value = prompt
        self._on_send()

    def _stop(self, _button: Any = None) -> None:
        req = self._request
        if req is None or req.finished:
            # Nothing runs; a settle that failed half-way may still have left the buttons busy.
            self._set_busy(False)
            return
        future = req.future
        # Cancelling the future cancels the task on the loop: the stream is closed and nothing
        # is recorded (the Exchange records on success only).  The future's done-callback
        # settles the request at once, here on the main thread.
        if future is not None and not future.done():
            future.cancel()
        if not req.finished:
            # Never submitted, or ended without being settled: settle it here, as stopped.
            self._finished(req, None)

    def _new_chat(self, _button: Any = None) -> None:
        self._stop()
        with self._lock:
            name = self.thread.value
            self.session.conversation.thread(name).reset()
            self._pairs[name] = []
            self.error.value = ""
            self.usage.value = ""
            self._render_history()

    def _after_cell(self, *_args: Any) -> None:
        with self._lock:
            self._refresh_thread_options()
            thread = self.session.conversation.threads.get(self.thread.value)
            head = thread.head if thread is not None else None
            if not self.busy and head != self._shown_head:
                self._render_history()
        self._refresh_frames()

    def _pick_thread(self, change: Any) -> None:
        if not self._syncing:
            with self._lock:
                self._render_history()

    def _add_thread(self, change: Any) -> None:
        name = (change["new"] or "").strip()
        if not name:
            return
        if self.busy:
            raise ConfigError("Wait for the answer (or Stop) before switching threads.")
        self.session.conversation.thread(name)
        self.thread_name.value = ""
        with self._lock:
            self._set_thread_options(name)
            self._render_history()

    def _toggle_temperature(self, change: Any) -> None:
        self.temperature.disabled = bool(change["new"])

    def _refresh_frames(self, _button: Any = None) -> None:
        self.ui.list_frames(self.shell.user_ns, getattr(self.shell, "user_ns_hidden", {}))

    def _preview_frames(self, change: Any) -> None:
        try:
            self.df_preview.value = preview_html(
                [(name, self._summary(name)) for name in change["new"]]
            )
        except ConfigError as exc:
            self.df_preview.value = error_html(str(exc))

    def _summary(self, name: str) -> str:
        from agcloud_magic.panel.widgets import frame_summary

        return frame_summary(self.shell.user_ns, name, self.prefs.summary_budget)

    def _tools(self) -> Any:
        """The registry of the functions named in the Tools field (``None`` when empty); names
        resolve in the kernel's namespace only, as ``--tools`` does."""
        names = self.tools.value.strip()
        if not names:
            return None
        from agcloud_magic.tools.options import resolve_tools

        return resolve_tools(names, self.shell.user_ns)

    def _parts(self) -> tuple[list[dict[str, Any]], list[str]]:
        """Input parts beside the prompt: picked DataFrames' summaries, then uploads."""
        parts = [{"type": "input_text", "text": self._summary(n)} for n in self.df_picker.value]
        notes = [f"DataFrame {n}" for n in self.df_picker.value]
        more, more_notes = self.ui.upload_parts()
        return parts + more, notes + more_notes

    # -- rendering (under the lock) --------------------------------------------------------

    def _entries(self, name: str) -> list[Entry]:
        thread = self.session.conversation.threads.get(name)
        return thread_entries(name, thread.path() if thread else [], self._pairs.get(name, []))

    def _render_history(self) -> None:
        name = self.thread.value
        thread = self.session.conversation.threads.get(name)
        self._shown_head = thread.head if thread is not None else None
        entries = self._entries(name)
        req = self._request
        if req is not None and not req.finished and req.pair.user.thread == name:
            entries.append(req.pair.user)
        if entries:
            self.ui.history.value = "".join(e.render() for e in entries)
        else:
            self.ui.history.value = (
                f'<div class="agc-note">Thread {escape(name)}: no turns yet. Type below and '
                "press Send (or Ctrl+Enter).</div>"
            )

    def _flush(self, req: LiveRequest) -> None:
        """Send what arrived since the last update (loop thread, at most every 50 ms)."""
        try:
            with self._lock:
                req.scheduled = False
                if req.finished:
                    return
                if req.thoughts.started:
                    req.live.show_reasoning(*req.thoughts.update(time.monotonic()))
                req.live.show(req.take_pending(), req.splitter.tail)
                req.updates += 1
        except Exception as exc:  # never let a rendering bug print from the loop thread
            self._show_error(one_line_error(exc))

    def _finished(self, req: LiveRequest, future: concurrent.futures.Future[Any] | None) -> None:
        """The request ended (loop thread, or the main thread when Stop cancelled it);
        ``future`` is ``None`` when it never started or Stop gave up on it."""
        try:
            with self._lock:
                if req.finished:
                    return
                req.finished = True
                try:
                    self._conclude(req, future)
                finally:
                    self._unbusy(req)  # even when showing the outcome raised half-way
        except Exception as exc:
            self._show_error(one_line_error(exc))
        finally:
            req.done.set()

    def _conclude(self, req: LiveRequest, future: concurrent.futures.Future[Any] | None) -> None:
        error, status_line = req.settle(future)
        left = self.session.meter.left()  # the kernel's budget, when one is set
        status_line = f"{status_line} · {left}" if left else status_line
        self._pairs.setdefault(req.pair.user.thread, []).append(req.pair)
        # Usable first, so a render that raises below cannot leave the panel looking busy.
        self._unbusy(req)
        self.usage.value = usage_html(status_line)
        if error:
            self.error.value = error_html(error)
        self._render_history()
        self._refresh_thread_options()
        self.static.refresh()  # a saved notebook shows the transcript without a kernel

    def _release(self, req: LiveRequest) -> None:
        """Give up on ``req`` before it ran: finished, nothing live, the panel usable."""
        req.finished = True
        req.done.set()
        self._unbusy(req)
        with contextlib.suppress(Exception):
            self.usage.value = ""
        with contextlib.suppress(Exception):
            self._render_history()  # the prompt was not sent: do not show it as sent

    def _unbusy(self, req: LiveRequest) -> None:
        """Take ``req``'s live view down and enable Send, each step whatever the other did."""
        if req.live is not None:
            with contextlib.suppress(Exception):
                req.live.close()
        self._set_busy(False)

    def _refresh_thread_options(self) -> None:
        if tuple(self.thread.options) != tuple(self.session.conversation.threads):
            self._set_thread_options(self.thread.value)

    def _set_thread_options(self, pick: str | None) -> None:
        """List the threads and pick ``pick`` (else the current one) without re-rendering twice:
        replacing a Dropdown's options passes through another value first."""
        conversation = self.session.conversation
        names = list(conversation.threads)
        pick = pick if pick in names else conversation.current
        self._syncing = True
        try:
            self.thread.options = names
            self.thread.value = pick
        finally:
            self._syncing = False

    def _set_busy(self, busy: bool) -> None:
        """Enable or disable the controls a running request locks; each one on its own, so
        one widget that raises cannot leave the others (Send above all) stuck."""
        for widget, disabled in ((self.send, busy), (self.stop, not busy),
                                 (self.thread, busy), (self.thread_name, busy)):
            try:
                widget.disabled = disabled
            except Exception as exc:
                self._show_error(one_line_error(exc))

    def _show_error(self, message: str) -> None:
        with contextlib.suppress(Exception):  # the last resort must not raise
            self.error.value = error_html(message)


def _find_shell() -> Any:
    """The running IPython (a panel needs its namespace and its post-cell hook)."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        raise RuntimeError("Panel() needs IPython or a Jupyter kernel (none is running).")
    return shell


def _find_session(shell: Any) -> Any:
    """The session of the extension loaded in ``shell`` (loading it if needed)."""
    from agcloud_magic.engine.session import current_session

    if "RespondMagics" not in shell.magics_manager.registry:
        shell.extension_manager.load_extension("agcloud_magic")
    return current_session()


def _close_tree(widget: Any) -> None:
    for child in getattr(widget, "children", ()):
        _close_tree(child)
    widget.close()
