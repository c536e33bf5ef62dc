"""Serving a recorded lesson: the stand-in answers each request with the answer recorded for
the same request (``%agcloud replay FILE``; the cassette's format is
:mod:`agcloud_magic.engine.cassette`'s), paced as it streamed or at once.

Requests are matched by content: the body, ``stream`` aside, as canonical JSON.  The ids the
client sees are the cassette's renamed ones, so a chained request names them and matches the
recorded one.  A request with no recording is answered 400 ``no_recording``, its message
naming the field that differs from the closest recorded request.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .common import ApiError
from .events import StreamEvent

__all__ = ["Cassette"]

IGNORED = ("stream",)  # the same answer whether it streams or not


def _key(body: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in body.items() if k not in IGNORED}, sort_keys=True,
                      ensure_ascii=False)


class Cassette:
    """The recorded exchanges of one file, by request."""

    def __init__(self, entries: list[dict[str, Any]], paced: bool = True) -> None:
        self.entries = entries
        self.paced = paced
        self.by_key = {_key(e["request"]): e for e in entries}
        self.served = 0

    @classmethod
    def load(cls, path: str | Path, paced: bool = True) -> Cassette:
        """The cassette at ``path``; ValueError (one line) if it is not one."""
        entries = []
        text = Path(path).expanduser().read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                raise ValueError(f"line {number} of {path} is not JSON") from None
            if not isinstance(entry, dict) or not isinstance(entry.get("request"), dict):
                raise ValueError(f"line {number} of {path} is not a recorded request")
            entries.append(entry)
        return cls(entries, paced)

    def answer(self, body: dict[str, Any]) -> tuple[list[StreamEvent], dict[str, Any] | None,
                                                   list[float]]:
        """The recorded events (with their waits) and final response for ``body``."""
        entry = self.by_key.get(_key(body))
        if entry is None:
            raise ApiError(400, self._no_recording(body), code="no_recording",  # see LiveFallback
                           error_type="invalid_request_error")
        self.served += 1
        if "events" in entry:
            events = [StreamEvent(e["type"], e, raw=f"event: {e['type']}\ndata: "
                                  f"{json.dumps(e, ensure_ascii=False)}\n\n")
                      for _, e in entry["events"]]
            waits = [float(d) if self.paced else 0.0 for d, _ in entry["events"]]
            final = next((e.data.get("response") for e in reversed(events)
                          if e.type in ("response.completed", "response.incomplete",
                                        "response.failed")), None)
            return events, final, waits
        return [], entry.get("response"), []

    def _no_recording(self, body: dict[str, Any]) -> str:
        """One line: what differs from the closest recorded request."""
        if not self.entries:
            return "No recording for this request: the cassette is empty."
        def score(entry: dict[str, Any]) -> int:
            recorded = entry["request"]
            return sum(recorded.get(k) == body.get(k) for k in set(recorded) | set(body))
        closest = max(self.entries, key=score)["request"]
        keys = sorted((set(closest) | set(body)) - set(IGNORED))
        differs = next((k for k in keys if closest.get(k) != body.get(k)), "?")
        shown = _excerpt(body.get(differs))
        was = _excerpt(closest.get(differs))
        return (f"No recording for this request: its {differs} differs from the closest "
                f"recorded one ({shown} sent, {was} recorded). Run the cell as recorded, or "
                "record again with %agcloud record FILE.")


def _excerpt(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, list):  # input items: their texts say most
        texts = [p.get("text", "") for item in value if isinstance(item, dict)
                 for p in (item.get("content") or []) if isinstance(p, dict)]
        value = " / ".join(t for t in texts if t) or value
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return repr(text[:60] + ("…" if len(text) > 60 else ""))
