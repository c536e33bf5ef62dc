"""When the echo model calls a function tool, and with which arguments: one deterministic rule.

Which tools (only those the request offers and ``tool_choice`` allows):

1. ``call NAME({json})`` lines in the last user message call exactly those (see models.py).
2. Otherwise a tool is called when the last user message asks for it in plain words: it
   contains the tool's name as written (``top_customers``, case-insensitive), or at least
   :data:`MIN_SHARED` keywords of the tool's name and description.  A keyword is a word of
   three or more letters that is not in :data:`STOPWORDS`, compared case-insensitively after
   dropping one trailing ``s`` (``customers`` = ``customer``); a name counts as its words
   (``top_customers`` -> ``top``, ``customers``; camelCase is split too).  Every matching tool
   is called, in the order offered (only the first with ``parallel_tool_calls: false``).
3. Otherwise, if ``tool_choice`` forces a call (``required``, a named function), the first
   allowed tool is called.

Arguments (:func:`build_arguments`), property by property in schema order:

* an ``enum`` property takes the first of its (string) values that the message contains as a
  word (``region`` -> ``"north"`` for "... in the north?");
* ``integer`` / ``number`` properties take the message's numbers in the order they appear
  (``"top 3 customers"`` -> ``n=3``; an ``integer`` property skips non-integers);
* a ``string`` property takes the value written after its name (``city=Paris``,
  ``city: "New York"``, ``city Paris``, ``city of Oslo``; one of ``is of in for named called``
  may come between), else the message's next quoted string;
* a ``boolean`` property takes ``NAME=true`` / ``NAME=false``;
* anything not found this way: a *required* property gets its ``default``, else a placeholder
  (``"example"``, ``0``, ``false``, the first enum value ...); an optional one is left out, so
  the function's own default applies.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["MIN_SHARED", "STOPWORDS", "build_arguments", "example_value", "matching_tools"]

MIN_SHARED = 2
_STOPWORD_TEXT = """
    about after again all also and any are as because been but can could did does doing each
    for from get give had has have her here him his how into its just let like list make may
    more most much not now off one only optionally our out over per please return returns she
    should show some such tell than that the their them then there these they this those two
    use using very via was way were what when where which while who why will with would yes
    you your
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_WORD = re.compile(r"[^\W\d_]+")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.]*[A-Za-z_])")
# Words allowed between a parameter's name and its value: "city of Paris", "name is Ada".
_LINKS = "is|of|in|for|named|called"
_QUOTED = re.compile(r"\"([^\"\n]+)\"|'([^'\n]+)'")


def _stem(word: str) -> str:
    word = word.lower()
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def keywords(text: str) -> set[str]:
    """The keywords of ``text`` (see the module docstring); camelCase and snake_case split."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text or "")
    return {_stem(w) for w in _WORD.findall(spaced)
            if len(w) >= 3 and w.lower() not in STOPWORDS}


def _names_itself(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text, re.IGNORECASE) is not None


def matching_tools(tools: list[dict[str, Any]], text: str | None) -> list[dict[str, Any]]:
    """The offered function tools that ``text`` asks for in plain words, in offered order."""
    if not text:
        return []
    said = keywords(text)
    found = []
    for tool in tools:
        name = tool.get("name") or ""
        own = keywords(name) | keywords(tool.get("description") or "")
        if _names_itself(text, name) or len(said & own) >= MIN_SHARED:
            found.append(tool)
    return found


def example_value(schema: Any) -> Any:
    """A placeholder value that satisfies a simple JSON schema."""
    if not isinstance(schema, dict):
        return "example"
    if "default" in schema:
        return schema["default"]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return example_value(schema[key][0])
    kind = _kind(schema)
    if kind == "object":
        return build_arguments(schema, None)
    return {"string": "example", "integer": 0, "number": 0, "boolean": False,
            "array": [], "null": None}.get(kind, "example")


def _kind(schema: dict[str, Any]) -> str:
    """The schema's (non-null) type, looking through ``anyOf``/``oneOf`` of simple types."""
    kind = schema.get("type")
    if kind is None:
        for key in ("anyOf", "oneOf"):
            for option in schema.get(key) or []:
                if isinstance(option, dict) and option.get("type") not in (None, "null"):
                    return _kind(option)
        return "string"
    if isinstance(kind, list):
        return next((k for k in kind if k != "null"), "null")
    return kind


def _enum(schema: dict[str, Any]) -> list[str]:
    values = list(schema.get("enum") or [])
    for key in ("anyOf", "oneOf"):
        for option in schema.get(key) or []:
            if isinstance(option, dict):
                values += option.get("enum") or []
    return [v for v in values if isinstance(v, str)]


def _from_text(name: str, schema: dict[str, Any], text: str, numbers: list[str],
               quoted: list[str]) -> tuple[bool, Any]:
    """``(found, value)`` for one property, taking numbers and quotes from the shared queues."""
    choices = _enum(schema)
    if choices:
        for value in choices:
            if _names_itself(text, value):
                return True, value
        return False, None
    kind = _kind(schema)
    if kind in ("integer", "number"):
        for i, number in enumerate(numbers):
            if kind == "number" or "." not in number:
                numbers.pop(i)
                return True, (float(number) if "." in number else int(number))
        return False, None
    after = rf"(?<![\w-]){re.escape(name)}\s*(?:[=:]|\b(?:{_LINKS})\b)?\s*"
    if kind == "boolean":
        match = re.search(after + r"(true|false)\b", text, re.IGNORECASE)
        return (True, match[1].lower() == "true") if match else (False, None)
    if kind == "string":
        match = re.search(after + r"(?:\"([^\"\n]+)\"|'([^'\n]+)'|([^\s,;.?!\"']+))", text,
                          re.IGNORECASE)
        if match:
            value = match[1] or match[2] or match[3]
            if value in quoted:
                quoted.remove(value)
            return True, value
        if quoted:
            return True, quoted.pop(0)
    return False, None


def build_arguments(schema: Any, text: str | None) -> dict[str, Any]:
    """Arguments for a call of a tool with parameters ``schema``, read from ``text``."""
    if not isinstance(schema, dict):
        return {}
    props = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    numbers = _NUMBER.findall(text or "")
    quoted = [a or b for a, b in _QUOTED.findall(text or "")]
    arguments: dict[str, Any] = {}
    for name, prop in props.items():
        prop = prop if isinstance(prop, dict) else {}
        found, value = _from_text(name, prop, text or "", numbers, quoted) if text else (False,
                                                                                          None)
        if found:
            arguments[name] = value
        elif name in required:
            arguments[name] = example_value(prop)
    for name in schema.get("required") or []:  # required but not described: a placeholder
        arguments.setdefault(name, "example")
    return arguments
