"""The terminal renderer: plain text as it arrives, for terminal IPython and plain Python."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from agcloud_magic.display.render import DIFFERS_NOTE, FORMATS, _one_line

__all__ = ["TerminalRenderer"]

# C0 and C1 control characters except tab and newline: model text must not drive the terminal
# (escape sequences can retitle windows, write the clipboard, hide text).
_CONTROL = {c: None for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]}


class TerminalRenderer:
    """Writes the answer to ``sys.stdout`` as it arrives (terminal IPython, plain Python).

    Reasoning goes out as dim ``[reasoning] …`` lines, tool calls as one line each, the footer at
    the end; errors go to ``sys.stderr``.  ANSI styling only when the stream is a tty.
    """

    def __init__(
        self,
        fmt: str = "markdown",
        stream: TextIO | None = None,
        err_stream: TextIO | None = None,
        color: bool | None = None,
    ) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        self.fmt = fmt
        self._stream, self._err_stream, self._color = stream, err_stream, color
        self._bol = True  # the cursor is at the start of a line
        self._thinking = False
        self._round: list[str] = []  # answer text written since the last tool call

    def _out(self) -> TextIO:
        # Looked up at each write: IPython and pytest swap sys.stdout.
        return self._stream or sys.stdout

    def _style(self, text: str, code: str, out: TextIO) -> str:
        color = self._color
        if color is None:
            color = not os.environ.get("NO_COLOR") and getattr(out, "isatty", lambda: False)()
        return f"\x1b[{code}m{text}\x1b[0m" if color and text else text

    def _write(self, text: str, code: str | None = None) -> None:
        out = self._out()
        if text:
            out.write(self._style(text, code, out) if code else text)
            self._bol = text.endswith("\n")
        out.flush()

    def _newline(self) -> None:
        if not self._bol:
            self._write("\n")

    def _end_thinking(self) -> None:
        if self._thinking:
            self._thinking = False
            self._newline()

    def start(self) -> None:
        """Nothing to show before the answer."""

    def append(self, delta: str) -> None:
        """Write the delta at once (control characters removed)."""
        self._end_thinking()
        self._round.append(delta)
        self._write(delta.translate(_CONTROL))

    def reasoning(self, delta: str) -> None:
        """Write reasoning text as dim lines prefixed ``[reasoning]``."""
        if not self._thinking:
            self._newline()
            self._thinking = True
        for i, piece in enumerate(delta.translate(_CONTROL).split("\n")):
            if i:
                self._write("\n")
            if piece:
                self._write(("[reasoning] " if self._bol else "") + piece, "2")

    def tool_call(self, name: str, arguments: str, result: str | None) -> None:
        """Write one line: ``[tool] name(arguments) -> result``."""
        self._end_thinking()
        self._newline()
        line = f"[tool] {_one_line(name, 80)}({_one_line(arguments or '', 160)})"
        if result is not None:
            line += f" -> {_one_line(result, 160)}"
        self._write(line.translate(_CONTROL), "2")
        self._write("\n")
        self._round = []

    def next_due(self) -> float | None:
        """Nothing is ever deferred."""
        return None

    def flush(self) -> None:
        """Flush the stream."""
        self._out().flush()

    def finish(
        self, *, footer: str, metadata: dict, note: str | None = None, text: str | None = None
    ) -> None:
        """Write what of the final ``text`` was not streamed (all of it when the answer came
        whole, see :meth:`Renderer.finish`), end the answer's line, write the footer (and
        note) dimmed.  Printed text cannot be taken back: when the streamed copy is not a
        prefix of ``text``, one dim line (:data:`DIFFERS_NOTE`) and the whole final text
        follow it."""
        if text:
            shown = "".join(self._round)
            if text.startswith(shown):
                if text != shown:
                    self.append(text[len(shown) :])
            else:
                self._end_thinking()
                self._newline()
                self._write(f"[{DIFFERS_NOTE}]", "2")
                self._write("\n")
                self.append(text)
        self._end_thinking()
        self._newline()
        line = " · ".join(x for x in (footer, note) if x)
        if line:
            self._write(line, "2")
            self._write("\n")

    def error(self, message: str) -> None:
        """End the answer's line and write the error to stderr."""
        self._end_thinking()
        self._newline()
        err = self._err_stream or sys.stderr
        err.write(self._style(message.translate(_CONTROL), "31", err) + "\n")
        err.flush()
