"""Finished rows on disk (stdlib sqlite3), so a rerun sends only what is not done yet.

Where: ``$AGCLOUD_CACHE_DIR/batch.sqlite3`` when that is set, else the user cache directory:
``$XDG_CACHE_HOME/agcloud-magic`` (default ``~/.cache/agcloud-magic``) on Linux,
``~/Library/Caches/agcloud-magic`` on macOS, ``%LOCALAPPDATA%\\agcloud-magic\\Cache`` on
Windows.  The key of a row is a SHA-256 of what decides its answer: base URL, model,
instructions, the schema, the rendered prompt and the other request options; never the API
key.  Only successful rows are stored: a failed row is asked again next time.  Each row is
written (and committed) as soon as it is done, so an interrupted job keeps every finished row.

Commits do not wait for the disk (``PRAGMA synchronous=OFF``): a commit is in the operating
system's hands once it returns, which survives Ctrl-C, a killed kernel or a crashed process,
but not a power cut or an OS crash right after it (the file may then be damaged: delete it, it
is only a cache).  Waiting for the disk cost ~0.7 ms of the event loop's time per row (0.3 ms
of CPU), more than the rest of a row's work together (``bench/bench_batch_cpu.py``).  The
journal stays the default rollback journal, which also works on network file systems.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agcloud_magic.errors import ConfigError

__all__ = ["ENV_CACHE_DIR", "KeyMaterial", "RowCache", "cache_path", "row_key"]

ENV_CACHE_DIR = "AGCLOUD_CACHE_DIR"
FILE_NAME = "batch.sqlite3"
# Bumped when what a stored value means changes, so old rows are simply not found.
KEY_VERSION = 1


def cache_path() -> Path:
    """The cache file (see the module docstring); the directory may not exist yet."""
    configured = os.environ.get(ENV_CACHE_DIR)
    if configured:
        return Path(configured).expanduser() / FILE_NAME
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "agcloud-magic" / "Cache" / FILE_NAME
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "agcloud-magic" / FILE_NAME
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "agcloud-magic" / FILE_NAME


def row_key(material: dict[str, Any]) -> str:
    """The hex SHA-256 of ``material`` as canonical JSON (sorted keys)."""
    parts = getattr(material, "parts", None)
    if parts is not None:  # a KeyMaterial: only its prompt is encoded here
        head, tail = parts
        text = head + json.dumps(material["prompt"], ensure_ascii=False) + tail
    else:
        text = _canonical(material)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(material: dict[str, Any]) -> str:
    return json.dumps({"v": KEY_VERSION, **material}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"), default=repr)


# Stands for the prompt while the rest of a key's material is encoded (a str is encoded the
# same wherever it sits in the JSON, so the prompt's encoding can be put in its place).
_HOLE = "\x00agcloud-magic prompt\x00"


class KeyMaterial(dict):  # type: ignore[type-arg]
    """Key material (a plain dict for anyone reading it) whose canonical JSON, but for the
    prompt, is encoded once for all the rows of a batch: ``parts`` is the JSON before and
    after the prompt's, so :func:`row_key` gives the same key as for the plain dict at a
    sixth of the cost (the schema is not re-encoded for every row)."""

    parts: tuple[str, str] | None = None

    @classmethod
    def template(cls, material: dict[str, Any]) -> KeyMaterial:
        """The material of ``material`` with any prompt: fill it with :meth:`filled`."""
        made = cls({**material, "prompt": _HOLE})
        pieces = _canonical(made).split(json.dumps(_HOLE, ensure_ascii=False))
        made.parts = (pieces[0], pieces[1]) if len(pieces) == 2 else None
        return made

    def filled(self, prompt: str) -> KeyMaterial:
        made = KeyMaterial({**self, "prompt": prompt})
        made.parts = self.parts
        return made


class RowCache:
    """One open cache file.  Used from the caller's thread (reads) and the loop thread
    (writes), hence one connection shared under a lock."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or cache_path()
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._db = sqlite3.connect(self.path, timeout=5.0, check_same_thread=False)
            # Answers may be as private as the data they came from: owner-only, like the
            # stand-in's store (best effort: a shared cache dir the user chose may refuse).
            with contextlib.suppress(OSError):
                os.chmod(self.path, 0o600)
            self._db.execute("PRAGMA synchronous=OFF")  # see the module docstring
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS rows "
                "(key TEXT PRIMARY KEY, value TEXT NOT NULL, stored REAL NOT NULL)"
            )
            self._db.commit()
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(
                f"Cannot open the batch cache {self.path} ({exc}): set {ENV_CACHE_DIR} to a "
                "writable directory, or pass cache=False."
            ) from None

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The stored values of those ``keys`` that are stored."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, Any] = {}
        with self._lock:
            for start in range(0, len(wanted), 500):  # below SQLite's bound on parameters
                chunk = wanted[start:start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, value FROM rows WHERE key IN ({marks})", chunk
                ).fetchall()
                for key, value in rows:
                    with contextlib.suppress(ValueError):  # a damaged value: ask again
                        found[key] = json.loads(value)
        return found

    def put(self, key: str, value: Any) -> None:
        """Store one finished row now (committed, so an interrupt cannot lose it)."""
        text = json.dumps(value, ensure_ascii=False)
        # A full disk or a locked file must not fail a row whose answer is in hand: the row is
        # still returned, only a rerun would ask for it again.
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.execute("INSERT OR REPLACE INTO rows VALUES (?, ?, ?)",
                             (key, text, time.time()))
            self._db.commit()

    def put_many(self, values: dict[str, Any]) -> None:
        """Store several finished rows in one transaction (a grouped request's rows arrive
        together: one commit instead of one a row)."""
        if not values:
            return
        now = time.time()
        rows = [(key, json.dumps(value, ensure_ascii=False), now)
                for key, value in values.items()]
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.executemany("INSERT OR REPLACE INTO rows VALUES (?, ?, ?)", rows)
            self._db.commit()

    def close(self) -> None:
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.close()
