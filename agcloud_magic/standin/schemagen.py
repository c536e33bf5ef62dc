"""A deterministic, valid instance of a JSON schema, derived from a text (structured answers).

``instance(schema, text)`` is the stand-in's "model" for structured outputs: the same schema
and text always give the same value, and each leaf is picked from a hash of ``(text, the
leaf's path)``, so two rows with different texts usually get different values (an ``enum``
pick, a number, a boolean) while every value stays valid for the schema.

Supported (the subset strict structured outputs allow, plus a few common keywords):
``object`` (``properties``, ``required``, ``additionalProperties``), ``string`` (``enum``,
``const``, ``minLength``/``maxLength``, ``format`` date / date-time / email / uuid),
``integer`` and ``number`` (``minimum``/``maximum`` and their exclusive forms), ``boolean``,
``array`` (``items``, ``minItems``/``maxItems``), ``null``, type lists (``["string",
"null"]``), ``anyOf``/``oneOf``, single-schema ``allOf`` and local ``$ref`` (``#/$defs/X``,
``#/definitions/X``, as pydantic writes them).  A nullable value is never null unless null is
the only choice: an all-null answer would test nothing.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

__all__ = ["instance", "resolve", "seed"]

MAX_DEPTH = 12  # a recursive $ref stops here (with the smallest valid value we can give)
# Deeper than this an array gets only its minItems: a recursive schema must not grow 3**depth.
GROW_DEPTH = 6
SNIPPET_WORDS = 3
_WORD = re.compile(r"\S+")


def seed(text: str, path: str) -> int:
    """A stable 64-bit number for one leaf: the same text and path give the same number."""
    digest = hashlib.sha256(f"{path}\x00{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def resolve(schema: Any, root: Any) -> Any:
    """Follow local ``$ref``s (a few levels; a broken ref reads as "any value")."""
    for _ in range(MAX_DEPTH):
        if not isinstance(schema, dict) or "$ref" not in schema:
            return schema
        ref = schema["$ref"]
        target: Any = root
        if not isinstance(ref, str) or not ref.startswith("#"):
            return {}
        for part in [p for p in ref[1:].split("/") if p]:
            target = target.get(part) if isinstance(target, dict) else None
        if target is None:
            return {}
        schema = target
    return schema


def _snippet(text: str, h: int) -> str:
    """A short run of the text's words, starting at a hashed word: strings show their row."""
    words = _WORD.findall(text)
    if not words:
        return "empty"
    start = h % len(words)
    return " ".join(words[start:start + SNIPPET_WORDS])


def _string(schema: dict[str, Any], text: str, path: str, h: int) -> str:
    fmt = schema.get("format")
    if fmt == "date":
        return f"2024-{1 + h % 12:02d}-{1 + (h >> 8) % 28:02d}"
    if fmt == "date-time":
        return f"2024-{1 + h % 12:02d}-{1 + (h >> 8) % 28:02d}T{(h >> 16) % 24:02d}:00:00Z"
    if fmt == "email":
        return f"user{h % 1000}@example.com"
    if fmt == "uuid":
        hexed = f"{h:016x}" * 2
        return f"{hexed[:8]}-{hexed[8:12]}-4{hexed[13:16]}-8{hexed[17:20]}-{hexed[20:32]}"
    name = path.rsplit(".", 1)[-1].split("[", 1)[0] or "value"
    value = f"{name}: {_snippet(text, h)}"
    low, high = schema.get("minLength"), schema.get("maxLength")
    if isinstance(high, int) and high >= 0:
        value = value[:high]
    if isinstance(low, int) and len(value) < low:
        value = value.ljust(low, "x")
    return value


def _span(low: Any, high: Any) -> tuple[Any, Any]:
    """Both bounds: a missing one is 100 from the other, and 0..100 when both are missing."""
    if low is None and high is None:
        return 0, 100
    if low is None:
        return high - 100, high
    if high is None:
        return low, low + 100
    return low, high


def _integer(schema: dict[str, Any], h: int) -> int:
    low: float | None = schema.get("minimum")
    high: float | None = schema.get("maximum")
    if isinstance(schema.get("exclusiveMinimum"), (int, float)):
        low = math.floor(schema["exclusiveMinimum"]) + 1
    if isinstance(schema.get("exclusiveMaximum"), (int, float)):
        high = math.ceil(schema["exclusiveMaximum"]) - 1
    lo, hi = _span(math.ceil(low) if isinstance(low, (int, float)) else None,
                   math.floor(high) if isinstance(high, (int, float)) else None)
    if hi < lo:
        return lo  # an impossible range: nothing is valid, the lower bound is the best try
    return lo + h % (hi - lo + 1)  # type: ignore[operator]


def _number(schema: dict[str, Any], h: int) -> float:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    low, high = _span(float(low) if isinstance(low, (int, float)) else None,
                      float(high) if isinstance(high, (int, float)) else None)
    # Strictly inside (low, high) so exclusive bounds hold too; two decimals read well.
    fraction = (1 + h % 998) / 1000
    value = round(low + (high - low) * fraction, 2)  # type: ignore[operator]
    return value if low < value < high else low + (high - low) / 2  # type: ignore[operator]


def _array(schema: dict[str, Any], text: str, path: str, h: int, root: Any, depth: int) -> list:
    given = schema.get("minItems") if isinstance(schema.get("minItems"), int) else None
    high = schema.get("maxItems") if isinstance(schema.get("maxItems"), int) else None
    # At least one item unless the schema says otherwise: an empty list would test nothing.
    low = given if given is not None else min(1, high if high is not None else 1)
    high = high if high is not None else max(low, 3)
    count = low + h % (max(high, low) - low + 1)
    if depth >= GROW_DEPTH:
        count = given or 0  # deep (a recursive schema?): stop growing
    items = schema.get("items", {})
    return [_value(items, text, f"{path}[{i}]", root, depth + 1) for i in range(count)]


def _object(schema: dict[str, Any], text: str, path: str, root: Any, depth: int) -> dict:
    props = schema.get("properties") or {}
    out: dict[str, Any] = {}
    # Every property, required or not: strict schemas require them all, and an optional one
    # is still valid when present.
    for name, prop in props.items():
        if depth >= MAX_DEPTH and name not in (schema.get("required") or []):
            continue
        out[name] = _value(prop, text, f"{path}.{name}" if path else name, root, depth + 1)
    if schema.get("additionalProperties") is not False:
        for name in schema.get("required") or []:
            out.setdefault(name, _snippet(text, seed(text, f"{path}.{name}")))
    return out


def _pick_type(kind: Any, h: int) -> str | None:
    if isinstance(kind, list):
        real = [k for k in kind if k != "null"]
        if not real:
            return "null" if kind else None
        return real[h % len(real)]
    return kind if isinstance(kind, str) else None


def _value(schema: Any, text: str, path: str, root: Any, depth: int) -> Any:
    schema = resolve(schema, root)
    if schema is True or not isinstance(schema, dict):
        return _snippet(text, seed(text, path))
    h = seed(text, path)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        choices = [v for v in schema["enum"] if v is not None] or schema["enum"]
        return choices[h % len(choices)]
    for key in ("anyOf", "oneOf"):
        options = [o for o in schema.get(key) or [] if isinstance(o, dict) or o is True]
        if options:
            real = [o for o in options if resolve(o, root) != {"type": "null"}] or options
            # oneOf must match exactly one option: the first real one is the safest pick,
            # since options often overlap (two object shapes); anyOf may vary by row.
            option = real[0] if key == "oneOf" else real[h % len(real)]
            return _value(option, text, path, root, depth)
    if isinstance(schema.get("allOf"), list) and len(schema["allOf"]) == 1:
        return _value(schema["allOf"][0], text, path, root, depth)
    kind = _pick_type(schema.get("type"), h)
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    if kind == "object":
        return _object(schema, text, path, root, depth)
    if kind == "array":
        return _array(schema, text, path, h, root, depth)
    if kind == "integer":
        return _integer(schema, h)
    if kind == "number":
        return _number(schema, h)
    if kind == "boolean":
        return bool(h & 1)
    if kind == "null":
        return None
    return _string(schema, text, path, h)


def instance(schema: Any, text: str, *, root: Any = None, path: str = "") -> Any:
    """A deterministic value valid for ``schema``, derived from ``text``.

    ``root`` is the document local ``$ref``s point into (``schema`` itself by default);
    ``path`` names the value's place (leaves hash ``text`` with their path).
    """
    return _value(schema, text or "", path, schema if root is None else root, 0)
