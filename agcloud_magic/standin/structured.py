"""Structured answers: a forced strict function tool, or ``text.format`` ``json_schema``.

When the echo model meets a structured request it answers with a deterministic valid instance
of the schema (see :mod:`.schemagen`) instead of its echo, derived from the text of the last
user message: the same text gives the same answer, another text usually another one.

Which requests are structured (:func:`structured_target`):

* ``tool_choice`` ``{"type": "function", "name": X}``, or ``"required"`` with exactly one
  function tool offered, where that tool says ``"strict": true``: the answer is one
  ``function_call`` of X whose ``arguments`` are an instance of its ``parameters``.  (A forced
  tool without ``strict: true`` keeps the plain-words rule of :mod:`.toolcall`, which reads
  arguments from the message; strict tools are what structured outputs send.)
* otherwise ``text.format`` ``{"type": "json_schema", "schema": {...}}``: the answer is an
  assistant message whose ``output_text`` is the instance as JSON, unless the echo model
  makes a tool call first (one the message asks for, or a forced one).

Several rows in one request (the batch client's convention).  The user message holds rows as
a line ``### row <id>`` (``<id>`` is one run of non-space characters; the line has nothing
else) followed by that row's prompt, up to the next such line or the end of the message;
text before the first row line is a shared preamble and is ignored.  When the schema (tool
parameters or ``text.format`` schema) is an object whose property ``rows`` is an array of
objects with an ``id`` property, the answer's ``rows`` has one object per row, in the order
of the message, with ``id`` the row's id as written (a string; an integer when the ``id``
schema says integer and the id is digits) and every other field an instance derived from
that row's text alone (the values a request whose schema is the row object and whose message
is just that row's text would get).  Other
top-level properties are derived from the whole message.  Without row lines, ``rows`` is just
generated like any array.  Example::

    Classify each review.
    ### row 17
    Great product, arrived early.
    ### row 18
    Broke after a week.

Several rows as JSON (openaivec's convention, and any like it).  When the user message is JSON
holding a list of objects that each have an ``id`` (the message itself, or a value of its
top-level object, e.g. ``{"user_messages": [{"id": 0, "body": "..."}, ...]}``), and the
schema is an object with an array property whose items (``$ref`` followed) are objects with
an ``id`` property, that array has one item per input object, in input order, with ``id`` the
object's id (an integer when the ``id`` schema says integer and the id is an integer or
digits, a string when it says string) and every other field an instance derived from that
object's other fields alone: the lone string when there is one other field and it is a
string, else their compact JSON.  The first such array property of the schema takes the first
such list of the message; other top-level properties are derived from the whole message.  The
``### row`` rule comes first: a message with row lines and a ``rows`` schema uses it.

Output pieces are cut every :data:`CHARS_PER_TOKEN` characters, so one stream delta is one
token and ``usage.output_tokens`` is about ``len(output) / 4``; ``usage.input_tokens`` of a
structured answer is about ``len(text) / 4`` as well.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .schemagen import instance, resolve

__all__ = ["CHARS_PER_TOKEN", "Target", "answer_json", "answer_value", "estimate_tokens",
           "json_rows", "parse_rows", "structured_target", "token_pieces"]

CHARS_PER_TOKEN = 4
ROW_LINE = re.compile(r"^###[ \t]+row[ \t]+(?P<id>\S+)[ \t]*$", re.MULTILINE)


@dataclass
class Target:
    """What a structured request asks for: a tool call (``tool`` set) or a JSON message."""

    schema: Any
    tool: str | None = None


def estimate_tokens(chars: int) -> int:
    """The stand-in's token estimate for ``chars`` characters: about four a token, at least 1."""
    return max(1, -(-chars // CHARS_PER_TOKEN))


def token_pieces(text: str) -> list[str]:
    """``text`` cut into deltas of :data:`CHARS_PER_TOKEN` characters (one token each)."""
    return [text[i:i + CHARS_PER_TOKEN] for i in range(0, len(text), CHARS_PER_TOKEN)]


def structured_target(body: dict[str, Any]) -> Target | None:
    """The schema a request forces (see the module docstring), or None for a free answer."""
    tools = [t for t in body.get("tools") or [] if t.get("type") == "function"]
    choice = body.get("tool_choice")
    forced = None
    if isinstance(choice, dict) and choice.get("type") == "function":
        forced = next((t for t in tools if t.get("name") == choice.get("name")), None)
    elif choice == "required" and len(tools) == 1:
        forced = tools[0]
    if forced is not None:
        if forced.get("strict") is True:
            return Target(forced.get("parameters") or {"type": "object"}, forced["name"])
        return None  # a forced non-strict tool: toolcall.py's plain-words rule
    fmt = (body.get("text") or {}).get("format") or {}
    if fmt.get("type") == "json_schema":
        return Target(fmt.get("schema") or {})
    return None


def parse_rows(text: str) -> list[tuple[str, str]]:
    """``[(id, row text), ...]`` of the ``### row <id>`` lines, in order (empty: no rows)."""
    marks = list(ROW_LINE.finditer(text))
    rows = []
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        rows.append((mark["id"], text[mark.end():end].strip()))
    return rows


def _rows_item(schema: Any) -> dict[str, Any] | None:
    """The item schema of a ``rows`` array of objects with an ``id``, else None."""
    if not isinstance(schema, dict):
        return None
    rows = (schema.get("properties") or {}).get("rows")
    if not isinstance(rows, dict) or not isinstance(rows.get("items"), dict):
        return None
    item = rows["items"]
    return item if "id" in (item.get("properties") or {}) else None


def json_rows(text: str) -> list[dict[str, Any]] | None:
    """The objects with an ``id`` of a JSON message (see the module docstring), or None."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    candidates = [value] if isinstance(value, list) else (
        list(value.values()) if isinstance(value, dict) else [])
    for candidate in candidates:
        if (isinstance(candidate, list) and candidate
                and all(isinstance(o, dict) and "id" in o for o in candidate)):
            return candidate
    return None


def _id_array(schema: Any) -> tuple[str, dict[str, Any]] | None:
    """``(property, item schema)`` of the schema's first array of objects with an ``id``."""
    top = resolve(schema, schema)
    if not isinstance(top, dict):
        return None
    for name, prop in (top.get("properties") or {}).items():
        prop = resolve(prop, schema)
        if not isinstance(prop, dict) or prop.get("type", "array") != "array":
            continue
        item = resolve(prop.get("items"), schema)
        if isinstance(item, dict) and "id" in (item.get("properties") or {}):
            return name, item
    return None


def _json_id(raw: Any, id_schema: Any) -> Any:
    kind = id_schema.get("type") if isinstance(id_schema, dict) else None
    if kind == "integer":
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.isdigit():
            return int(raw)
    if kind == "string" and not isinstance(raw, str):
        return json.dumps(raw) if isinstance(raw, (dict, list)) else str(raw)
    return raw


def _object_text(obj: dict[str, Any]) -> str:
    """The text a JSON row's answer is derived from: its fields other than ``id``."""
    rest = {k: v for k, v in obj.items() if k != "id"}
    if len(rest) == 1 and isinstance(next(iter(rest.values())), str):
        return next(iter(rest.values()))
    return json.dumps(rest, ensure_ascii=False, separators=(",", ":"))


def _per_row(schema: Any, text: str, item: dict[str, Any],
             rows: list[tuple[Any, str]]) -> list[dict[str, Any]]:
    """One object per row: its id first, like the schema, then the fields from its text."""
    fields = {k: v for k, v in item["properties"].items() if k != "id"}
    per_row = {**item, "properties": fields}
    id_schema = resolve(item["properties"]["id"], schema)
    # Each row alone, as if it were a one-row request.
    return [{"id": _json_id(row_id, id_schema), **instance(per_row, row_text, root=schema)}
            for row_id, row_text in rows]


def answer_value(schema: Any, text: str) -> Any:
    """The instance a structured answer carries, with the row conventions applied."""
    item = _rows_item(schema)
    rows = parse_rows(text) if item is not None else []
    if item is not None and rows:
        value = instance(schema, text)
        value["rows"] = _per_row(schema, text, item, rows)
        return value
    target = _id_array(schema)
    objects = json_rows(text) if target is not None else None
    if target is None or objects is None:
        return instance(schema, text)
    name, item = target
    value = instance(schema, text)
    value[name] = _per_row(schema, text, item, [(o["id"], _object_text(o)) for o in objects])
    return value


def answer_json(schema: Any, text: str) -> str:
    """The structured answer as compact JSON text (arguments, or the message's text)."""
    return json.dumps(answer_value(schema, text), ensure_ascii=False, separators=(",", ":"))
