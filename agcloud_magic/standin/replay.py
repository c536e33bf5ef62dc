"""Recorded streams for scripted ``{"replay": path}`` turns: ``.sse`` wire text or ``.jsonl``."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .events import StreamEvent

__all__ = ["TERMINAL_TYPES", "Recording", "load_recording"]

TERMINAL_TYPES = ("response.completed", "response.incomplete", "response.failed")


@dataclass
class Recording:
    """A recorded stream: events (with their verbatim wire text) and the terminal Response."""

    path: str
    events: list[StreamEvent]
    final: dict[str, Any] | None
    snapshot: dict[str, Any] | None


def _sse_events(text: str) -> list[StreamEvent]:
    events = []
    # Normalise line endings first so a fixture saved with CRLF still splits into events.
    for block in text.replace("\r\n", "\n").split("\n\n"):
        data_lines = [ln[5:].lstrip(" ") for ln in block.split("\n") if ln.startswith("data:")]
        if not data_lines:
            continue
        data = json.loads("\n".join(data_lines))
        events.append(StreamEvent(data.get("type", ""), data, raw=block.strip("\n") + "\n\n"))
    return events


def _jsonl_events(text: str) -> list[StreamEvent]:
    events = []
    for line in text.splitlines():
        if not line.strip():
            continue
        data = json.loads(line)
        # The framing that INDEX.json documents for .jsonl fixtures.
        raw = f"event: {data['type']}\ndata: {line}\n\n"
        events.append(StreamEvent(data["type"], data, raw=raw))
    return events


def load_recording(path: str | os.PathLike[str]) -> Recording:
    """Read a ``.sse`` or ``.jsonl`` fixture; raise ValueError if it holds no events."""
    file = Path(path)
    text = file.read_text(encoding="utf-8")
    events = _jsonl_events(text) if file.suffix == ".jsonl" else _sse_events(text)
    if not events:
        raise ValueError(f"no SSE events found in {file.name}")
    final = next(
        (e.data.get("response") for e in reversed(events) if e.type in TERMINAL_TYPES), None
    )
    snapshot = next((e.data["response"] for e in events if "response" in e.data), None)
    return Recording(str(file), events, final, snapshot)
