"""Server-sent events -> Responses API event dicts.

Events stay plain dicts (what ``json.loads`` returns): building a typed object per delta costs
more than the rest of the client together, and every consumer dispatches on ``event["type"]``
anyway.  The names below are the ones the package acts on; any other type passes through
untouched (the protocol's union of event types keeps growing).
"""

from __future__ import annotations

import json
from typing import Any

from agcloud_magic.wire.sse import ServerSentEvent

__all__ = [
    "ARGS_DELTA",
    "ARGS_DONE",
    "COMPLETED",
    "CREATED",
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


def decode_event(sse: ServerSentEvent) -> Event | None:
    """The JSON payload of one SSE as an event dict, or ``None`` for ``[DONE]`` and non-JSON.

    The type comes from the payload's ``type`` (some proxies drop the ``event:`` line), falling
    back to the SSE event name; a bare ``{"error": {...}}`` (LiteLLM's error in a stream) is an
    ``error`` event, or the stream would just look cut.
    """
    data = sse.data
    if not data or data == "[DONE]":
        return None
    try:
        payload = json.loads(data)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    if "type" not in payload:
        payload["type"] = ERROR if isinstance(payload.get("error"), dict) else sse.event
    return payload


def error_details(event: Event) -> tuple[str | None, str]:
    """``(code, message)`` of an ``error`` event, nested (what OpenAI sends) or flat (the spec)."""
    nested = event.get("error")
    if isinstance(nested, dict):
        code = nested.get("code") or nested.get("type")
        message = nested.get("message") or event.get("message") or "unknown error"
    else:
        code = event.get("code")
        message = event.get("message") or "unknown error"
    return (str(code) if code else None), str(message)
