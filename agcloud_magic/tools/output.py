"""What a tool's return value looks like to the model: text, cut to a bound."""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any

__all__ = ["DEFAULT_MAX_OUTPUT_CHARS", "cut_text", "format_output", "one_line"]

DEFAULT_MAX_OUTPUT_CHARS = 20_000


def _json_fallback(obj: Any) -> Any:
    if isinstance(obj, enum.Enum):
        return obj.value
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if type(obj).__module__.startswith("numpy") and hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    return str(obj)


def _to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if type(value).__module__.startswith("pandas"):
        try:
            # Written elsewhere and optional here: import at call time, never at import time.
            from agcloud_magic.dataframes import to_model_text
        except ImportError:
            return str(value)
        try:
            return str(to_model_text(value))
        except Exception:  # a summary bug must not cost the model the data: plain text then
            return str(value)
    llm_repr = getattr(value, "_repr_llm_", None)
    if callable(llm_repr):
        return str(llm_repr())
    if value is None or isinstance(value, (dict, list, tuple, set, frozenset, int, float)):
        return json.dumps(value, default=_json_fallback, ensure_ascii=False)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json.dumps(value, default=_json_fallback, ensure_ascii=False)
    if type(value).__module__.startswith("numpy") and hasattr(value, "tolist"):
        return json.dumps(value.tolist(), default=_json_fallback, ensure_ascii=False)
    return str(value)


def format_output(value: Any, max_chars: int = DEFAULT_MAX_OUTPUT_CHARS) -> str:
    """Turn a tool's return value into the output string the model reads, cut to ``max_chars``.

    ``str`` as is; JSON for dicts, lists, numbers, booleans, ``None``, dataclasses and numpy
    values; pandas objects through ``agcloud_magic.dataframes.to_model_text`` when available;
    ``_repr_llm_()`` when an object defines it; ``str()`` otherwise.
    """
    return cut_text(_to_text(value), max_chars)


def cut_text(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    note = f"\n…[output cut: first {{}} of {len(text):,} characters shown]"
    keep = max(0, max_chars - len(note.format(f"{max_chars:,}")))
    return text[:keep] + note.format(f"{keep:,}")


def one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


