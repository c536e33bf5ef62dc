"""Scripted turns for ``StandinServer.script``: shapes checked when queued, fixtures loaded."""

from __future__ import annotations

import os
from typing import Any

from .replay import load_recording

__all__ = ["normalise_turn"]

_TURN_KEYS = frozenset({"text", "calls", "reasoning_summary", "replay"})
_CALL_KEYS = frozenset({"name", "arguments", "arguments_raw"})


def normalise_turn(turn: Any) -> dict[str, Any]:
    """Check one scripted turn early (a typo fails in the test, not mid-request)."""
    if isinstance(turn, str):
        return {"text": turn}
    if not isinstance(turn, dict) or not turn:
        raise ValueError(f"a scripted turn must be a non-empty dict or a string, got {turn!r}")
    unknown = set(turn) - _TURN_KEYS
    if unknown:
        raise ValueError(f"unknown keys in scripted turn: {sorted(unknown)}")
    if "replay" in turn:
        if len(turn) > 1:
            raise ValueError("a replay turn cannot have other keys")
        return {"replay": load_recording(os.fspath(turn["replay"]))}
    for call in turn.get("calls") or []:
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            raise ValueError(f"a scripted call needs a 'name': {call!r}")
        if set(call) - _CALL_KEYS or ("arguments_raw" in call and "arguments" in call):
            raise ValueError(f"a scripted call has 'name' and 'arguments' or 'arguments_raw': "
                             f"{call!r}")
    return dict(turn)
