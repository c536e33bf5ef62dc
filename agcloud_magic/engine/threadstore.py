"""Threads that outlive the kernel: one JSON file per notebook, rewritten after every turn.

Which notebook: a file the user names (``$AGCLOUD_THREADS_FILE``, read when the extension
loads, or ``%agcloud store PATH`` for the session), else what the front end says (Jupyter's
``JPY_SESSION_NAME``, the notebook's path; VS Code's ``__vsc_ipynb_file__`` in the
namespace); with none of these, nothing is stored.  Where: ``$AGCLOUD_THREADS_DIR``,
else the user data directory (``$XDG_DATA_HOME/agcloud-magic/threads``, by default
``~/.local/share/agcloud-magic/threads`` on Linux), one file per notebook named after its
file name and a hash of its full path.  The file holds every thread's path root to head with
its items, ids and usage (:mod:`.transcript`), never a key; it is written to a temporary file
and renamed, so a crash mid-write leaves the previous one whole.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from agcloud_magic.engine.conversation import Conversation
from agcloud_magic.engine.transcript import document_of, dumps, thread_from
from agcloud_magic.errors import ConfigError

__all__ = ["ENV_THREADS_DIR", "ThreadStore", "notebook_store"]

ENV_THREADS_DIR = "AGCLOUD_THREADS_DIR"
ENV_THREADS_FILE = "AGCLOUD_THREADS_FILE"  # one store named by the user, for any front end
FORMAT = "agcloud-magic.threads"
VERSION = 1


def threads_dir() -> Path:
    """The directory of the per-notebook files (see the module docstring)."""
    configured = os.environ.get(ENV_THREADS_DIR)
    if configured:
        return Path(configured).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "agcloud-magic" / "threads"


def notebook_store(namespace: dict[str, Any]) -> ThreadStore | None:
    """The store of the notebook this kernel runs: the file ``$AGCLOUD_THREADS_FILE`` names,
    else the notebook's own if the front end says which."""
    named = os.environ.get(ENV_THREADS_FILE)
    if named:
        return ThreadStore(Path(named))
    notebook = namespace.get("__vsc_ipynb_file__") or os.environ.get("JPY_SESSION_NAME")
    if not isinstance(notebook, str) or not notebook.strip():
        return None
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(notebook).stem)[:60] or "notebook"
    digest = hashlib.sha256(notebook.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return ThreadStore(threads_dir() / f"{stem}-{digest}.json", notebook)


class ThreadStore:
    """One file holding a notebook's threads."""

    def __init__(self, path: Path, notebook: str | None = None) -> None:
        self.path = Path(path).expanduser()
        self.notebook = notebook or str(self.path)

    def load(self, conversation: Conversation) -> int:
        """Put the stored threads into ``conversation`` (replacing threads of the same name);
        the number of turns restored (0 when there is no file yet)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return 0
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"Cannot read the thread store {self.path}: "
                              f"{getattr(exc, 'strerror', None) or exc}.") from None
        try:
            document = json.loads(text)
        except ValueError:
            raise ConfigError(f"The thread store {self.path} is not JSON: move it away, or "
                              "%agcloud forget --all to start it again.") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ConfigError(f"{self.path} is not an agcloud-magic thread store.")
        turns = 0
        for raw in document.get("threads") or []:
            thread = thread_from(raw, conversation, unique=False)
            turns += len(thread.path())
        current = document.get("current")
        if isinstance(current, str) and current in conversation.threads:
            conversation.current = current
        return turns

    def save(self, conversation: Conversation) -> None:
        """Write every thread with turns (atomically; an unwritable store is an error)."""
        threads = [document_of(t) for _, t in sorted(conversation.threads.items()) if t.path()]
        document = {"format": FORMAT, "version": VERSION, "notebook": self.notebook,
                    "current": conversation.current, "threads": threads}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".threads-")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(dumps(document))
            with contextlib.suppress(OSError):
                os.chmod(temp, 0o600)  # the answers may be as private as the data asked about
            os.replace(temp, self.path)
        except OSError as exc:
            raise ConfigError(f"Cannot write the thread store {self.path}: "
                              f"{exc.strerror or exc}.") from None

    def forget(self) -> None:
        """Delete the file."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
