"""Validation of JSON values against the schema subset :mod:`agcloud_magic.tools.schema` generates.

It knows only the keywords generated there: ``type`` (a name or a list of names), ``enum``,
``properties``, ``required``, ``additionalProperties`` (``false`` or a schema), ``items``,
``prefixItems``, ``minItems``, ``maxItems`` and ``anyOf``.  Errors come back as readable lines
(they are what the model is told when its arguments do not fit).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["json_equal", "json_type_name", "validate"]

# --------------------------------------------------------------------------- JSON helpers


def json_type_name(value: Any) -> str:
    """The JSON type name of a parsed JSON value (``integer`` vs ``number`` as JSON Schema says)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _is_type(value: Any, name: str) -> bool:
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "integer":
        # JSON Schema counts 2.0 as an integer; bool is an int subclass in Python, not in JSON.
        if isinstance(value, float):
            return value.is_integer()
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "string":
        return isinstance(value, str)
    if name == "array":
        return isinstance(value, list)
    if name == "object":
        return isinstance(value, dict)
    return False


def json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON sees it: ``true`` is not ``1`` (Python's ``True == 1`` must not leak in)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def _short(value: Any, limit: int = 60) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- validation


def validate(value: Any, schema: dict[str, Any], where: str = "") -> list[str]:
    """Check ``value`` (parsed JSON) against ``schema``; return readable errors, empty if valid.

    Only the keywords this module generates are understood; others are ignored.
    """
    errors: list[str] = []
    _validate(value, schema, where, errors)
    return errors


def _at(where: str) -> str:
    return f"{where}: " if where else ""


def _validate(value: Any, schema: dict[str, Any], where: str, errors: list[str]) -> None:
    if "anyOf" in schema:
        if not any(not validate(value, option, where) for option in schema["anyOf"]):
            errors.append(f"{_at(where)}{_short(value)} matches none of the allowed types")
        return
    types_ = schema.get("type")
    if types_ is not None:
        names = [types_] if isinstance(types_, str) else list(types_)
        if not any(_is_type(value, name) for name in names):
            errors.append(
                f"{_at(where)}expected {' or '.join(names)}, got {json_type_name(value)} "
                f"{_short(value)}"
            )
            return
    if "enum" in schema and not any(json_equal(value, option) for option in schema["enum"]):
        allowed = ", ".join(_short(option, 30) for option in schema["enum"])
        errors.append(f"{_at(where)}{_short(value)} is not one of {allowed}")
        return
    if isinstance(value, dict):
        _validate_object(value, schema, where, errors)
    elif isinstance(value, list):
        _validate_array(value, schema, where, errors)


def _validate_object(value: dict, schema: dict[str, Any], where: str, errors: list[str]) -> None:
    properties = schema.get("properties", {})
    what = "key" if where else "argument"
    for key in schema.get("required", ()):
        if key not in value:
            errors.append(f"{_at(where)}missing required {what} {key!r}")
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        inner = f"{where}.{key}" if where else str(key)
        if key in properties:
            _validate(item, properties[key], inner, errors)
        elif extra is False:
            errors.append(f"{_at(where)}unexpected {what} {key!r}")
        elif isinstance(extra, dict):
            _validate(item, extra, inner, errors)


def _validate_array(value: list, schema: dict[str, Any], where: str, errors: list[str]) -> None:
    low, high = schema.get("minItems"), schema.get("maxItems")
    if (low is not None and len(value) < low) or (high is not None and len(value) > high):
        wanted = str(low) if low == high else f"{low or 0} to {high if high is not None else '∞'}"
        errors.append(f"{_at(where)}expected {wanted} items, got {len(value)}")
        return
    prefix = schema.get("prefixItems", [])
    for index, item in enumerate(value):
        inner = f"{where}[{index}]"
        if index < len(prefix):
            _validate(item, prefix[index], inner, errors)
        elif "items" in schema:
            _validate(item, schema["items"], inner, errors)
