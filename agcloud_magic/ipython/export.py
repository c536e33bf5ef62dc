"""``%agcloud export`` and ``%agcloud import``: a thread to a file and back.

    %agcloud export                      the current thread as JSON, printed
    %agcloud export main report.md       thread "main" as Markdown, to report.md
    %agcloud export notes.json --format json
    %agcloud import notes.json [NAME]    the thread back, selected, ready to continue

A word naming a ``.json`` or ``.md`` file (or holding a path separator) is the file, any
other the thread; the format is ``--format``, else the file's extension, else JSON.  See
:mod:`agcloud_magic.engine.transcript` for what the files hold.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from agcloud_magic.engine.transcript import from_json, to_json, to_markdown
from agcloud_magic.errors import ConfigError

__all__ = ["FORMATS", "run_export", "run_import"]

FORMATS = ("json", "md")


def run_export(magics: Any, rest: list[str]) -> None:
    """Write (or print) a thread as JSON or Markdown."""
    words, fmt = _format_option(rest)
    thread_name = file = None
    for word in words:
        if word.endswith((".json", ".md")) or os.sep in word or "/" in word:
            file = word
        elif thread_name is None:
            thread_name = word
        else:
            raise ConfigError(f"%agcloud export: one thread and one file at most; {word!r} is "
                              "a second thread name.")
    conversation = magics.session.conversation
    if thread_name is not None and thread_name not in conversation.threads:
        raise ConfigError(f"%agcloud export: no thread named {thread_name!r} (see %agcloud "
                          "chats).")
    thread = conversation.thread(thread_name)
    fmt = fmt or ("md" if file and file.endswith(".md") else "json")
    text = to_markdown(thread) if fmt == "md" else to_json(thread)
    if file is None:
        print(text, end="")
        return
    path = Path(file).expanduser()
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    print(f"Thread {thread.name!r} ({len(thread.path())} turns) written to {path} as {fmt}.")


def run_import(magics: Any, rest: list[str]) -> None:
    """Load a JSON export as a thread (selected), continued by the next turn."""
    if not rest or len(rest) > 2:
        raise ConfigError("%agcloud import FILE [NAME]: the JSON file of %agcloud export.")
    path = Path(rest[0]).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read {path}: {getattr(exc, 'strerror', None) or exc}.") \
            from None
    conversation = magics.session.conversation
    thread = from_json(text, conversation, rest[1] if len(rest) == 2 else None)
    conversation.select(thread.name)
    print(f"Imported thread {thread.name!r} ({len(thread.path())} turns), now current: the "
          "next turn continues it (replayed from these items if the server does not have "
          "them).")


def _format_option(rest: list[str]) -> tuple[list[str], str | None]:
    words, fmt = [], None
    items = iter(rest)
    for word in items:
        if word == "--format":
            fmt = next(items, None)
        elif word.startswith("--format="):
            fmt = word.partition("=")[2]
        else:
            words.append(word)
            continue
        if fmt not in FORMATS:
            raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}.")
    return words, fmt
