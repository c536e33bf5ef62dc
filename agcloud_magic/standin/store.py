"""Stored responses on disk, so that a restarted stand-in still knows ``previous_response_id``.

The file is JSON lines, one operation a line: ``{"op": "put", "id", "response", "input",
"turn", "previous_response_id"}`` or ``{"op": "delete", "id"}``.  Appending keeps each store
cheap; once the file holds twice ``max_stored`` lines it is rewritten with only the records
still kept (the newest ``max_stored``).  A torn last line (a crash mid-write) is skipped on
load.  Only what a :class:`~.records.StoredResponse` holds is written: the request's ``input``
and the response, never a header, so never the key.  The file is created owner-only (0600).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from .records import StoredResponse

__all__ = ["MAX_STORED", "ResponseStore", "remove_store"]

#: Stored responses kept by default (in memory and on disk); the oldest are forgotten first.
MAX_STORED = 10_000


def check_max_stored(max_stored: Any) -> int:
    """The bound, checked early so that a typo fails when the server is made."""
    if isinstance(max_stored, bool) or not isinstance(max_stored, int) or max_stored < 1:
        raise ValueError(f"max_stored must be a positive integer, got {max_stored!r}")
    return max_stored


def _temp_path(path: Path) -> Path:
    """Where a compaction writes before it replaces the file."""
    return path.with_name(path.name + ".tmp")


def remove_store(path: str | os.PathLike[str]) -> None:
    """Delete a store's file and any compaction left half-done; absent files are fine."""
    for name in (Path(path), _temp_path(Path(path))):
        with contextlib.suppress(OSError):
            name.unlink()


def _put(record: StoredResponse) -> dict[str, Any]:
    return {"op": "put", "id": record.id, "response": record.response, "input": record.input,
            "turn": record.turn, "previous_response_id": record.previous_response_id}


def _line(op: dict[str, Any]) -> str:
    return json.dumps(op, ensure_ascii=False, separators=(",", ":")) + "\n"


class ResponseStore:
    """The JSON-lines file behind a server's ``stored`` dict (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str], max_stored: int = MAX_STORED) -> None:
        self.path = Path(path)
        self.max_stored = check_max_stored(max_stored)
        self._lines = 0
        self._warned = False

    def load(self) -> dict[str, StoredResponse]:
        """The records kept, oldest first; an absent file is an empty store."""
        records: dict[str, StoredResponse] = {}
        try:
            text = self.path.read_text("utf-8")
        except FileNotFoundError:
            return records
        for line in text.splitlines():
            try:
                op = json.loads(line)
                if op["op"] == "delete":
                    records.pop(op["id"], None)
                    continue
                records.pop(op["id"], None)  # a re-put moves to the newest end
                records[op["id"]] = StoredResponse(
                    id=op["id"], response=op["response"], input=op["input"],
                    turn=int(op["turn"]), previous_response_id=op["previous_response_id"],
                )
            except (ValueError, KeyError, TypeError):
                continue  # a torn or foreign line: keep what can be read
        while len(records) > self.max_stored:
            records.pop(next(iter(records)))
        self._lines = len(text.splitlines())
        return records

    def put(self, record: StoredResponse, kept: dict[str, StoredResponse]) -> None:
        """Append ``record``; ``kept`` is every record now kept (for compaction)."""
        self._append(_line(_put(record)), kept)

    def delete(self, response_id: str, kept: dict[str, StoredResponse]) -> None:
        """Append a deletion of ``response_id``."""
        self._append(_line({"op": "delete", "id": response_id}), kept)

    def _append(self, line: str, kept: dict[str, StoredResponse]) -> None:
        try:
            if self._lines + 1 > 2 * self.max_stored:
                self._rewrite(kept)
                return
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as f:
                f.write(line)
            self._lines += 1
        except OSError as exc:
            # A full disk must not fail the request being answered: say so once, keep serving
            # from memory.
            if not self._warned:
                self._warned = True
                print(f"stand-in: cannot write {self.path}: {exc}", file=sys.stderr)

    def _rewrite(self, kept: dict[str, StoredResponse]) -> None:
        temp = _temp_path(self.path)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.writelines(_line(_put(r)) for r in kept.values())
            os.replace(temp, self.path)  # atomic: a crash leaves the old file or the new one
        except OSError:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise
        self._lines = len(kept)
