"""A thread as a file and back: JSON (every item, id and usage; importable) or Markdown.

JSON is the thread's path, root to head, with each turn's full items, so an imported thread
can be continued: its next turn chains onto the head, and a server that never saw those
responses answers ``previous_response_not_found``, which replays the thread from these items
(:mod:`agcloud_magic.engine.exchange`).  Markdown is for a report: each prompt and answer, the
answers' HTML made inert (model output is untrusted; a Markdown viewer renders raw HTML).
Neither holds a key: turns never do.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from typing import Any

from agcloud_magic.engine.conversation import Conversation, Thread, Turn
from agcloud_magic.errors import ConfigError

__all__ = ["FORMAT", "document_of", "dumps", "from_json", "thread_from", "to_json",
           "to_markdown"]

FORMAT = "agcloud-magic.thread"
VERSION = 1
_FIELDS = {f.name for f in dataclasses.fields(Turn)}
_FENCED = re.compile(r"(```[^\n]*\n.*?\n```)", re.DOTALL)


def document_of(thread: Thread) -> dict[str, Any]:
    """The thread's path as a JSON-ready dict (what :func:`to_json` writes)."""
    return {
        "format": FORMAT, "version": VERSION, "thread": thread.name,
        "instructions": thread.instructions,
        "turns": [dataclasses.asdict(turn) for turn in thread.path()],
    }


def to_json(thread: Thread) -> str:
    """The thread's path as JSON text (stable key order: re-exporting gives the same bytes)."""
    return dumps(document_of(thread))


def dumps(document: Any) -> str:
    """JSON text with sorted keys and a final newline: the same data, the same bytes."""
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def from_json(text: str, conversation: Conversation, name: str | None = None) -> Thread:
    """A thread read from :func:`to_json`'s text, added to ``conversation`` under ``name``
    (default: the exported name, made unique); ConfigError for a file that is not one."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"Not a thread export: the file is not JSON ({exc}).") from None
    return thread_from(document, conversation, name)


def thread_from(document: Any, conversation: Conversation, name: str | None = None,
                unique: bool = True) -> Thread:
    """The thread of :func:`document_of`'s dict, added to ``conversation`` (see
    :func:`from_json`; ``unique=False`` replaces a thread of the same name)."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ConfigError(f"Not a thread export: it has no \"format\": \"{FORMAT}\".")
    if document.get("version") != VERSION:
        raise ConfigError(f"A thread export of version {document.get('version')!r}; this "
                          f"package reads version {VERSION}.")
    raw_turns = document.get("turns")
    if not isinstance(raw_turns, list) or not all(isinstance(t, dict) for t in raw_turns):
        raise ConfigError("Not a thread export: \"turns\" must be a list of objects.")
    turns = []
    for number, raw in enumerate(raw_turns, 1):
        fields = {k: v for k, v in raw.items() if k in _FIELDS}
        if not isinstance(fields.get("response_id"), str) or not fields["response_id"]:
            raise ConfigError(f"Not a thread export: turn {number} has no response_id.")
        for key in ("input_items", "output_items"):  # what a replay sends: objects only
            items = fields.get(key, [])
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise ConfigError(f"Not a thread export: turn {number}'s {key} must be a "
                                  "list of objects.")
        for key in ("prompt", "answer"):
            if not isinstance(fields.get(key, ""), str):
                raise ConfigError(f"Not a thread export: turn {number}'s {key} must be text.")
        try:
            turns.append(Turn(**fields))
        except TypeError as exc:
            raise ConfigError(f"Not a thread export: turn {number}: {exc}.") from None
    wanted = name or str(document.get("thread") or "imported")
    thread = Thread(_unique(wanted, conversation) if unique else wanted)
    instructions = document.get("instructions")
    thread.instructions = instructions if isinstance(instructions, str) else None
    parent = None
    for turn in turns:  # a path: each turn follows the one before, whatever the file said
        turn.parent_id = parent
        thread.record(turn)
        parent = turn.response_id
    conversation.threads[thread.name] = thread
    return thread


def to_markdown(thread: Thread) -> str:
    """The thread as Markdown for a report: prompts quoted, answers as written with any HTML
    made inert."""
    lines = [f"# Thread {_inert(thread.name)}", ""]
    if thread.instructions:
        lines += [f"*Instructions:* {_inert(thread.instructions)}", ""]
    for number, turn in enumerate(thread.path(), 1):
        model = f" ({_inert(turn.model)})" if turn.model else ""
        lines += [f"## {number}. You", ""]
        lines += [f"> {line}" if line else ">" for line in _inert(turn.prompt).splitlines()]
        lines += ["", f"**Assistant{model}:**", "", _inert_outside_code(turn.answer), ""]
    return "\n".join(lines).rstrip() + "\n"


def _inert(text: str) -> str:
    """``<``, ``>`` and ``&`` escaped: Markdown keeps its formatting, HTML shows as text."""
    return html.escape(text, quote=False)


def _inert_outside_code(text: str) -> str:
    """:func:`_inert` outside fenced code blocks (inside them a viewer shows HTML as text
    already, and escaping would show ``&lt;`` in the code)."""
    parts = _FENCED.split(text)
    return "".join(part if _FENCED.fullmatch(part) else _inert(part) for part in parts)


def _unique(name: str, conversation: Conversation) -> str:
    if name not in conversation.threads or not conversation.threads[name].turns:
        return name
    number = 2
    while f"{name}-{number}" in conversation.threads:
        number += 1
    return f"{name}-{number}"
