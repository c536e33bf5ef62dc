"""Threads kept between kernels, from the IPython side: restored on ``%load_ext``,
``%agcloud store`` and ``%agcloud forget`` (the store: :mod:`agcloud_magic.engine.threadstore`).

    %agcloud store                       where this notebook's threads are kept (or "nowhere")
    %agcloud store PATH                  keep them in PATH (its threads are loaded first)
    %agcloud forget [THREAD]             drop a thread (default: the current one) and its record
    %agcloud forget --all                drop every thread and delete the file
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agcloud_magic.engine.threadstore import ThreadStore, notebook_store
from agcloud_magic.errors import ConfigError

__all__ = ["restore", "run_forget", "run_store"]


def restore(magics: Any) -> str | None:
    """At load: attach the notebook's store, put its threads back; the line to print."""
    store = notebook_store(magics.shell.user_ns)
    if store is None:
        return None
    session = magics.session
    try:
        turns = store.load(session.conversation)
    except ConfigError as exc:
        return f"agcloud-magic: {exc} Threads are not kept for this notebook."
    session.store = store
    if not turns:
        return None
    threads = sum(1 for t in session.conversation.threads.values() if t.path())
    return (f"agcloud-magic: restored {threads} thread(s), {turns} turn(s) of this notebook "
            f"from {store.path}; the next %%respond continues {session.conversation.current!r}"
            " (%agcloud forget drops a thread).")


def run_store(magics: Any, rest: list[str]) -> None:
    """Show or set where the threads are kept."""
    session = magics.session
    if len(rest) > 1:
        raise ConfigError("%agcloud store [PATH]: one file.")
    if rest:
        store = ThreadStore(Path(rest[0]))
        turns = store.load(session.conversation)
        store.save(session.conversation)
        session.store = store
        print(f"Threads kept in {store.path} ({turns} turn(s) loaded from it).")
        return
    where = "nowhere (no notebook path from the front end)" if session.store is None \
        else str(session.store.path)
    print(f"Threads kept: {where}. %agcloud store PATH names a file.")


def run_forget(magics: Any, rest: list[str]) -> None:
    """Drop a thread (or all) from this kernel and from the store."""
    session = magics.session
    conversation = session.conversation
    if rest == ["--all"]:
        for thread in conversation.threads.values():
            thread.turns.clear()
            thread.reset()
        if session.store is not None:
            session.store.forget()
        print("Every thread forgotten, here and in the store.")
        return
    if len(rest) > 1:
        raise ConfigError("%agcloud forget [THREAD | --all].")
    name = rest[0] if rest else conversation.current
    if name not in conversation.threads:
        raise ConfigError(f"%agcloud forget: no thread named {name!r} (see %agcloud chats).")
    thread = conversation.threads[name]
    thread.turns.clear()
    thread.reset()
    if session.store is not None:
        session.store.save(conversation)
    print(f"Thread {name!r} forgotten, here and in the store; its next turn starts afresh.")
