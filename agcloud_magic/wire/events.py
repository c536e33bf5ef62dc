"""Server-sent events -> Responses API event dicts.

Events stay plain dicts (what ``json.loads`` returns): building a typed object per delta costs
more than the rest of the client together, and every consumer dispatches on ``event["type"]``
anyway.  The names below are the ones the package acts on; any other type passes through
untouched (the protocol's union of event types keeps growing).

Server text is made safe to show here, at the edge: a gateway that slices UTF-16 strings can
send half of a surrogate pair (``"\\ud83d"``), which ``json.loads`` keeps as a lone surrogate
that no UTF-8 writer (a kernel's message serialiser, a terminal) accepts.  Only a payload
whose raw text holds such an escape is walked (:func:`decode_event`, :func:`load_json`), so
the common delta costs one regular-expression scan of its line; every lone surrogate becomes
U+FFFD, except the two ends of a delta, which the accumulator joins with its neighbours.
"""

from __future__ import annotations

import json
import re
from typing import Any

from agcloud_magic.errors import replace_surrogates
from agcloud_magic.wire.sse import ServerSentEvent

__all__ = [
    "ARGS_DELTA",
    "ARGS_DONE",
    "COMPLETED",
    "CREATED",
    "DELTAS",
    "ERROR",
    "FAILED",
    "INCOMPLETE",
    "IN_PROGRESS",
    "ITEM_ADDED",
    "ITEM_DONE",
    "PART_ADDED",
    "PART_DONE",
    "QUEUED",
    "REFUSAL_DELTA",
    "REFUSAL_DONE",
    "SUMMARY_DELTA",
    "SUMMARY_DONE",
    "TERMINAL",
    "TEXT_DELTA",
    "TEXT_DONE",
    "Event",
    "decode_event",
    "error_details",
    "load_json",
]

Event = dict[str, Any]

CREATED = "response.created"
IN_PROGRESS = "response.in_progress"
QUEUED = "response.queued"
ITEM_ADDED = "response.output_item.added"
ITEM_DONE = "response.output_item.done"
PART_ADDED = "response.content_part.added"
PART_DONE = "response.content_part.done"
TEXT_DELTA = "response.output_text.delta"
TEXT_DONE = "response.output_text.done"
REFUSAL_DELTA = "response.refusal.delta"
REFUSAL_DONE = "response.refusal.done"
ARGS_DELTA = "response.function_call_arguments.delta"
ARGS_DONE = "response.function_call_arguments.done"
SUMMARY_DELTA = "response.reasoning_summary_text.delta"
SUMMARY_DONE = "response.reasoning_summary_text.done"
COMPLETED = "response.completed"
INCOMPLETE = "response.incomplete"
FAILED = "response.failed"
ERROR = "error"

TERMINAL = frozenset({COMPLETED, INCOMPLETE, FAILED})


# Events whose "delta" is text that continues in the next event of the same type.
DELTAS = frozenset({TEXT_DELTA, REFUSAL_DELTA, ARGS_DELTA, SUMMARY_DELTA})

# A JSON escape of half a surrogate pair, \\ud800-\\udfff (json.loads joins whole pairs).
_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")


def _clean_strings(value: Any, keep_delta_ends: bool) -> Any:
    """Replace lone surrogates in every string (and key) of a decoded payload, in place.

    Iterative, not recursive: the payload may nest almost as deep as ``json.loads`` allows,
    and a recursive walk from a deeper stack would overflow where the parse did not."""
    if isinstance(value, str):
        return replace_surrogates(value)
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in list(node):
                item = node[key]
                fixed_key = replace_surrogates(key) if isinstance(key, str) else key
                if isinstance(item, str):
                    ends = keep_delta_ends and node is value and key == "delta"
                    item = replace_surrogates(item, keep_ends=ends)
                elif isinstance(item, (dict, list)):
                    stack.append(item)
                if fixed_key != key:
                    del node[key]
                node[fixed_key] = item
        elif isinstance(node, list):
            for index, item in enumerate(node):
                if isinstance(item, str):
                    node[index] = replace_surrogates(item)
                elif isinstance(item, (dict, list)):
                    stack.append(item)
    return value


def load_json(data: str | bytes) -> Any:
    """``json.loads(data)`` with lone surrogates replaced (see the module docstring); raises
    ``ValueError`` for anything that is not JSON, nesting too deep for the parser included."""
    try:
        value = json.loads(data)
    except RecursionError:
        # "[[[[..." 100k deep: no Responses API payload nests past a dozen levels, so this
        # is malformed data like any other, not a crash of ours.
        raise ValueError("JSON nested too deeply") from None
    escape = _ESCAPE_BYTES if isinstance(data, bytes) else _ESCAPE
    if escape.search(data):  # type: ignore[arg-type]  # the pattern matches data's type
        value = _clean_strings(value, keep_delta_ends=False)
    return value


def decode_event(sse: ServerSentEvent) -> Event | None:
    """The JSON payload of one SSE as an event dict, or ``None`` for ``[DONE]`` and anything
    that is not a JSON object (non-JSON, or nested past the parser's recursion limit).

    The type comes from the payload's ``type`` (some proxies drop the ``event:`` line), falling
    back to the SSE event name; a bare ``{"error": {...}}`` (LiteLLM's error in a stream) is an
    ``error`` event, or the stream would just look cut.  Lone surrogates are replaced (the ends
    of a delta's text are left to the accumulator).
    """
    data = sse.data
    if not data or data == "[DONE]":
        return None
    try:
        payload = json.loads(data)
    except (ValueError, RecursionError):
        # A deep "[[[[..." line is as malformed as any other garbage line; the accumulator
        # counts these, so a stream of nothing else fails as unusable data (not as "cut").
        return None
    if not isinstance(payload, dict):
        return None
    # The type first: a list or dict there would fail the set lookup below.
    if not isinstance(payload.get("type"), str):
        payload["type"] = ERROR if isinstance(payload.get("error"), dict) else sse.event
    # Two substring tests first: far cheaper than the regex on every delta of a stream.
    if ("\\ud" in data or "\\uD" in data) and _ESCAPE.search(data):
        _clean_strings(payload, keep_delta_ends=payload["type"] in DELTAS)
    return payload


def _code(value: Any) -> str | None:
    """An error code: text, or a number (an HTTP status) as text; anything else is dropped."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) and value else None


def _text(*values: Any) -> str | None:
    """The first non-empty text (a number counts, as text) among ``values``."""
    return next((_code(v) for v in values if _code(v)), None)


def error_details(event: Event) -> tuple[str | None, str]:
    """``(code, message)`` of an ``error`` event, nested (what OpenAI sends) or flat (the spec).

    Values of the wrong type (a dict as message, a list as code) are dropped, not shown; a
    number is kept as text."""
    nested = event.get("error")
    if isinstance(nested, dict):
        code = _code(nested.get("code")) or _code(nested.get("type"))
        message = _text(nested.get("message"), event.get("message"))
    else:
        code = _code(event.get("code"))
        message = _text(event.get("message"))
    return code, message or "unknown error"
