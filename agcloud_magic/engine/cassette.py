"""Recording lessons: every request and its answer, appended to a cassette (JSON lines).

``%agcloud record FILE`` wraps the session's clients in a :class:`RecordingClient`: each
request that gets an answer becomes one line ``{"request": body, "events": [[delay, event],
...]}`` (a streamed answer: each event with the seconds since the one before, rounded to a
tenth) or ``{"request": body, "response": {...}}`` (a whole one).  Ids (``resp_…``,
``msg_…``, ``call_…``) are renamed by order of appearance (``resp_0001`` …) and timestamps
zeroed, consistently across requests (a ``previous_response_id`` names the renamed id), so
recording the same notebook again gives the same bytes.  A body never holds the key and no
header is recorded.  The stand-in serves a cassette back (:mod:`agcloud_magic.standin.cassette`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agcloud_magic.errors import APIStatusError, ConfigError

__all__ = ["ID_KEYS", "NO_RECORDING", "LiveFallback", "Normaliser", "Recorder",
           "RecordingClient"]

NO_RECORDING = "no_recording"  # the stand-in's error code for a request it has no answer for

ID_KEYS = ("id", "call_id", "item_id", "response_id", "previous_response_id")
TIME_KEYS = ("created_at", "completed_at")


class Normaliser:
    """Stable names for a session's ids, and timestamps zeroed."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.counts: dict[str, int] = {}

    def name(self, value: str) -> str:
        if value not in self.names:
            prefix = value.split("_", 1)[0] if "_" in value else "id"
            self.counts[prefix] = self.counts.get(prefix, 0) + 1
            self.names[value] = f"{prefix}_{self.counts[prefix]:04d}"
        return self.names[value]

    def clean(self, value: Any) -> Any:
        """``value`` with every id renamed and every timestamp zeroed (a copy)."""
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if key in ID_KEYS and isinstance(item, str) and item:
                    out[key] = self.name(item)
                elif key in TIME_KEYS and isinstance(item, (int, float)):
                    out[key] = 0
                else:
                    out[key] = self.clean(item)
            return out
        if isinstance(value, list):
            return [self.clean(item) for item in value]
        return value


class Recorder:
    """One cassette file being written (lines appended as answers complete)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path).expanduser()
        self.normaliser = Normaliser()
        self._lock = threading.Lock()  # the magic's worker thread and the loop both write
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text("", encoding="utf-8")  # a new recording starts empty
        except OSError as exc:
            raise ConfigError(f"Cannot write the cassette {self.path}: "
                              f"{exc.strerror or exc}.") from None
        self.count = 0

    def add(self, body: dict[str, Any], events: list[tuple[float, dict[str, Any]]],
            response: dict[str, Any] | None) -> None:
        """Append one exchange (``events`` with their arrival times; or a whole response)."""
        with self._lock:
            entry: dict[str, Any] = {"request": self.normaliser.clean(body)}
            if events:
                paced, before = [], events[0][0]
                for at, event in events:
                    paced.append([round(at - before, 1), self.normaliser.clean(event)])
                    before = at
                entry["events"] = paced
            else:
                entry["response"] = self.normaliser.clean(response or {})
            line = json.dumps(entry, ensure_ascii=False, sort_keys=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")
            self.count += 1


class RecordingClient:
    """A client whose answered requests also go to a :class:`Recorder`."""

    def __init__(self, client: Any, recorder: Recorder) -> None:
        self.client = client
        self.recorder = recorder

    def __getattr__(self, name: str) -> Any:  # settings, models(), close() ... as the client's
        return getattr(self.client, name)

    def create(self, body: dict[str, Any], *, on_event: Any = None, cancel: Any = None) -> Any:
        events, watch = _watcher(on_event)
        result = self.client.create(body, on_event=watch, cancel=cancel)
        self.recorder.add(self._as_sent(body), events, result.response)
        return result

    async def acreate(self, body: dict[str, Any], *, on_event: Any = None) -> Any:
        events, watch = _watcher(on_event)
        result = await self.client.acreate(body, on_event=watch)
        self.recorder.add(self._as_sent(body), events, result.response)
        return result

    def _as_sent(self, body: dict[str, Any]) -> dict[str, Any]:
        """The body as the server received it (the client names the model when it is not)."""
        return {**body, "model": body.get("model") or self.client.settings.model}


class LiveFallback:
    """A replay with a way out (``%agcloud replay FILE live``): a request the cassette has no
    answer for (the stand-in's 400 ``no_recording``) goes to the live server instead.  A
    chained one names a cassette id the live server never saw; its ``previous_response_not_
    found`` makes the driver replay the thread from the kernel's copy, as for any lost parent."""

    def __init__(self, replay: Any, live: Callable[[], Any]) -> None:
        self.replay = replay
        self.live = live

    def __getattr__(self, name: str) -> Any:
        return getattr(self.replay, name)

    def create(self, body: dict[str, Any], *, on_event: Any = None, cancel: Any = None) -> Any:
        try:
            return self.replay.create(body, on_event=on_event, cancel=cancel)
        except APIStatusError as exc:
            if exc.code != NO_RECORDING:
                raise
        return self.live().create(body, on_event=on_event, cancel=cancel)

    async def acreate(self, body: dict[str, Any], *, on_event: Any = None) -> Any:
        try:
            return await self.replay.acreate(body, on_event=on_event)
        except APIStatusError as exc:
            if exc.code != NO_RECORDING:
                raise
        return await self.live().acreate(body, on_event=on_event)


def _watcher(on_event: Any) -> tuple[list[tuple[float, dict[str, Any]]], Any]:
    events: list[tuple[float, dict[str, Any]]] = []

    def watch(event: dict[str, Any]) -> None:
        events.append((time.monotonic(), event))
        if on_event is not None:
            on_event(event)

    return events, watch
