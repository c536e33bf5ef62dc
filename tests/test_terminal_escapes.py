"""Server strings never reach a terminal as control sequences (issue: hostile server).

A model name or response id such as ``"\\x1b]0;pwned\\x07"`` would set the window title,
``"\\x1b]52;c;…\\x07"`` write the clipboard, ``"\\x1b[2J"`` clear the screen.  They are shown
escaped (``\\x1b``), in the footer, ``%agcloud history`` / ``chats`` and every error line.
"""

from __future__ import annotations

import json

from agcloud_magic.display.render import format_footer
from agcloud_magic.engine.conversation import Turn
from agcloud_magic.errors import printable, status_error
from agcloud_magic.ipython.extension import get_magics

from .magic_support import run_cell

TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"
CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4=\x07"
CONTROLS = ("\x1b", "\x07", "\x9b", "\x00", "\r", "\u202e")


def _clean(text: str) -> None:
    for char in CONTROLS:
        assert char not in text, repr(char)


def test_printable_escapes_control_characters_and_keeps_text():
    assert printable(f"gpt{TITLE}-4o") == "gpt\\x1b]0;pwned\\x07-4o"
    assert printable("a\x9bb\u202ec\x00d") == "a\\x9bb\\u202ec\\x00d"
    assert printable("plain — ünïcode ✓ 😀") == "plain — ünïcode ✓ 😀"


def test_the_footer_shows_a_hostile_model_name_escaped():
    footer = format_footer(f"echo{CLEAR}", {"input_tokens": 1, "output_tokens": 2}, 0.5)
    _clean(footer)
    assert "echo\\x1b[2J" in footer


def test_history_and_chats_show_hostile_ids_and_models_escaped(ip, srv):
    thread = get_magics(ip).session.conversation.thread()
    thread.record(Turn(f"resp_{CLEAR}1", None, model=f"echo{TITLE}", prompt="first"))
    thread.record(Turn(f"resp_{CLIPBOARD}2", f"resp_{CLEAR}1", model="echo", prompt="second"))
    for command in ("%agcloud history", "%agcloud chats"):
        out = run_cell(ip, command).stdout
        _clean(out)
        assert "\\x1b" in out


def test_an_error_line_quotes_the_server_escaped():
    raw = json.dumps({"error": {"message": f"bad {CLIPBOARD} request\rhidden"}}).encode()
    text = str(status_error(400, raw))
    _clean(text)
    assert "bad \\x1b]52;c;cm0gLXJmIH4=\\x07 request" in text
