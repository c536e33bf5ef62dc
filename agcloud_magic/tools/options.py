"""The magic's ``--tools`` and ``--tool-choice`` values -> a registry and a ``tool_choice``.

Names are resolved in the notebook namespace with ``getattr`` only (never ``eval``).
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Mapping
from typing import Any

from agcloud_magic.errors import ConfigError
from agcloud_magic.tools.output import DEFAULT_MAX_OUTPUT_CHARS
from agcloud_magic.tools.registry import ToolRegistry

__all__ = ["resolve_tools", "tool_choice_value"]


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside JSON brackets and strings."""
    parts, depth, start, quote, escaped = [], 0, 0, False, False
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quote = False
        elif ch == '"':
            quote = True
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def resolve_tools(
    spec: str,
    namespace: Mapping[str, Any],
    *,
    strict: bool = False,
    max_output_chars: int = DEFAULT_MAX_OUTPUT_CHARS,
) -> ToolRegistry:
    """Build a registry from a ``--tools`` value.

    Comma-separated items, each one of: the name of a callable in ``namespace`` (dotted names
    like ``mod.func`` go through ``getattr``, never ``eval``; the tool is named after the last
    part); the name of a variable holding a spec dict or a list of spec dicts and callables;
    inline JSON (a spec object or an array of them).  Mistakes raise a one-line
    :class:`ConfigError`.
    """
    registry = ToolRegistry(strict=strict, max_output_chars=max_output_chars)
    items = _split_top_level(spec or "")
    if not any(items):
        raise ConfigError("--tools needs function names or JSON tool specs, e.g. --tools f,g")
    for item in items:
        if not item:
            raise ConfigError(f"--tools {spec!r}: empty item; separate names with single commas")
        try:
            if item[0] in "{[":
                _add_json(registry, item)
            else:
                _add_name(registry, item, namespace)
        except ConfigError as exc:
            if str(exc).startswith("--tools"):
                raise
            raise type(exc)(f"--tools: {exc}") from None
    return registry


def _add_json(registry: ToolRegistry, text: str) -> None:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ConfigError(
            f'--tools: invalid JSON ({exc}); quote it, e.g. --tools \'{{"type": "web_search"}}\''
        ) from None
    for spec in value if isinstance(value, list) else [value]:
        registry.add_spec(spec)


def _add_name(registry: ToolRegistry, dotted: str, namespace: Mapping[str, Any]) -> None:
    parts = dotted.split(".")
    if not all(p.isidentifier() and not p.startswith("__") for p in parts):
        raise ConfigError(
            f"--tools: {dotted!r} is not a name; give function names or JSON specs, "
            "e.g. --tools f,g"
        )
    if parts[0] not in namespace and hasattr(builtins, parts[0]):
        # The notebook can call len() without defining it, so "not defined" would puzzle;
        # and a builtin has no type hints to describe its parameters to the model.
        raise ConfigError(
            f"--tools: {parts[0]} is a Python builtin; wrap it in a def with type hints to "
            "offer it as a tool"
        )
    if parts[0] not in namespace:
        raise ConfigError(
            f"--tools: {parts[0]!r} is not defined in the notebook; define the function first"
        )
    value = namespace[parts[0]]
    for i, part in enumerate(parts[1:], 1):
        try:
            value = getattr(value, part)
        except AttributeError:
            owner = ".".join(parts[:i])
            raise ConfigError(f"--tools: {owner!r} has no attribute {part!r}") from None
    if isinstance(value, dict):
        registry.add_spec(value)
    elif isinstance(value, (list, tuple)):
        for entry in value:
            if isinstance(entry, dict):
                registry.add_spec(entry)
            elif callable(entry):
                registry.add(entry)
            else:
                raise ConfigError(
                    f"--tools: {dotted!r} holds a {type(entry).__name__}; a tools list may hold "
                    "only functions and JSON spec dicts"
                )
    elif callable(value):
        registry.add(value, name=parts[-1])
    else:
        raise ConfigError(
            f"--tools: {dotted!r} is a {type(value).__name__}, not a function or a JSON tool spec"
        )


def tool_choice_value(text: str, registry: ToolRegistry | None = None) -> str | dict[str, Any]:
    """The request's ``tool_choice`` for a ``--tool-choice`` value.

    ``auto``/``none``/``required`` pass through; a registered function name becomes
    ``{"type": "function", "name": NAME}``; the type of a raw hosted tool (``web_search``)
    becomes ``{"type": TYPE}``; inline JSON objects pass through.  Anything else raises a
    one-line :class:`ConfigError`.
    """
    choice = (text or "").strip()
    if choice.lower() in {"auto", "none", "required"}:
        if choice.lower() == "required" and not registry:
            raise ConfigError("--tool-choice required needs tools: add --tools f,g")
        return choice.lower()
    if choice.startswith("{"):
        try:
            value = json.loads(choice)
        except ValueError as exc:
            raise ConfigError(f"--tool-choice: invalid JSON ({exc})") from None
        if not isinstance(value, dict) or "type" not in value:
            raise ConfigError('--tool-choice JSON needs a "type", e.g. {"type": "function", ...}')
        return value
    if not registry:
        raise ConfigError(f"--tool-choice {choice!r} needs --tools listing that tool")
    if choice in registry.function_names:
        return {"type": "function", "name": choice}
    if choice in registry.hosted_types:
        return {"type": choice}
    known = ", ".join(registry.function_names + registry.hosted_types)
    raise ConfigError(
        f"--tool-choice: {choice!r} is not auto, none, required or one of the tools ({known})"
    )
