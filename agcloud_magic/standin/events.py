"""Build Response objects and their stream events (protocol sections 3 and 4.2-4.4).

Events are produced as dicts with a placeholder ``sequence_number``; the writer numbers them
when it sends them, so that injected faults keep the numbers consecutive.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

from .common import new_id
from .models import CallOut, MessageOut, Plan, ReasoningOut

__all__ = ["Rendered", "StreamEvent", "render_plan", "response_skeleton"]


@dataclass
class StreamEvent:
    """One SSE event: its type, its payload and, for replayed fixtures, the verbatim wire text."""

    type: str
    data: dict[str, Any]
    raw: str | None = None


@dataclass
class Rendered:
    """A response ready to send: its events (stream) and final Response (both modes)."""

    events: list[StreamEvent]
    final: dict[str, Any] | None  # None only for a replayed recording that was cut short
    snapshot: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)


def _event(kind: str, **fields: Any) -> StreamEvent:
    return StreamEvent(kind, {"type": kind, "sequence_number": 0, **fields})


def _echo_tools(tools: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Tools as the real API echoes them: function tools with every field filled in."""
    out = []
    for tool in tools or []:
        if tool.get("type") == "function":
            out.append({
                "type": "function",
                "name": tool["name"],
                "description": tool.get("description"),
                "parameters": tool.get("parameters"),
                "strict": tool["strict"] if tool.get("strict") is not None else True,
            })
        else:
            out.append(dict(tool))
    return out


def response_skeleton(body: dict[str, Any]) -> dict[str, Any]:
    """The ``in_progress`` Response for a request: ids, echoed parameters, no output, no usage."""
    reasoning = body.get("reasoning") or {}
    return {
        "id": new_id("resp"),
        "object": "response",
        "created_at": int(time.time()),
        "status": "in_progress",
        "background": False,
        "error": None,
        "incomplete_details": None,
        # Instructions are echoed from this request only: they are never inherited.
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": body.get("max_tool_calls"),
        "model": body["model"],
        "output": [],
        "parallel_tool_calls": body.get("parallel_tool_calls", True) is not False,
        "previous_response_id": body.get("previous_response_id"),
        "prompt_cache_key": body.get("prompt_cache_key"),
        "reasoning": {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")},
        "safety_identifier": body.get("safety_identifier"),
        "service_tier": "default",
        "store": body.get("store") is not False,
        "temperature": body.get("temperature") if body.get("temperature") is not None else 1.0,
        "text": body.get("text") or {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": body.get("tool_choice") or "auto",
        "tools": _echo_tools(body.get("tools")),
        "top_logprobs": body.get("top_logprobs") or 0,
        "top_p": body.get("top_p") if body.get("top_p") is not None else 1.0,
        "truncation": body.get("truncation") or "disabled",
        "usage": None,
        "user": body.get("user"),
        "metadata": body.get("metadata") or {},
    }


class _Budget:
    """Output tokens left under ``max_output_tokens`` (one delta = one token here)."""

    def __init__(self, limit: int | None) -> None:
        self.left = limit
        self.used = 0
        self.exhausted = False

    def take(self, pieces: list[str]) -> list[str]:
        if self.left is not None and len(pieces) > self.left:
            pieces = pieces[: self.left]
            self.exhausted = True
        if self.left is not None:
            self.left -= len(pieces)
        self.used += len(pieces)
        return pieces


def _message(out: list[StreamEvent], index: int, spec: MessageOut, budget: _Budget) -> dict:
    item_id = new_id("msg")
    skeleton = {"id": item_id, "type": "message", "status": "in_progress", "content": [],
                "role": "assistant"}
    out.append(_event("response.output_item.added", output_index=index, item=skeleton))
    where = {"item_id": item_id, "output_index": index, "content_index": 0}
    empty = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
    out.append(_event("response.content_part.added", **where, part=empty))
    pieces = budget.take(spec.pieces)
    for piece in pieces:
        out.append(_event("response.output_text.delta", **where, delta=piece, logprobs=[]))
    text = "".join(pieces)
    out.append(_event("response.output_text.done", **where, text=text, logprobs=[]))
    part = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
    out.append(_event("response.content_part.done", **where, part=part))
    status = "incomplete" if budget.exhausted else "completed"
    return {"id": item_id, "type": "message", "status": status, "content": [part],
            "role": "assistant"}


def _call(out: list[StreamEvent], index: int, spec: CallOut, budget: _Budget) -> dict:
    item_id = new_id("fc")
    base = {"id": item_id, "type": "function_call", "status": "in_progress", "arguments": "",
            "call_id": spec.call_id, "name": spec.name}
    out.append(_event("response.output_item.added", output_index=index, item=base))
    pieces = budget.take(spec.pieces)
    for piece in pieces:
        out.append(_event("response.function_call_arguments.delta", item_id=item_id,
                          output_index=index, delta=piece))
    arguments = "".join(pieces)
    out.append(_event("response.function_call_arguments.done", item_id=item_id,
                      output_index=index, name=spec.name, arguments=arguments))
    status = "incomplete" if budget.exhausted else "completed"
    return {**base, "status": status, "arguments": arguments}


def _reasoning(out: list[StreamEvent], index: int, spec: ReasoningOut, budget: _Budget) -> dict:
    item_id = new_id("rs")
    # Reasoning items carry no status, as on the wire.
    out.append(_event("response.output_item.added", output_index=index,
                      item={"id": item_id, "type": "reasoning", "summary": []}))
    summary = []
    if spec.summary is not None:
        where = {"item_id": item_id, "output_index": index, "summary_index": 0}
        out.append(_event("response.reasoning_summary_part.added", **where,
                          part={"type": "summary_text", "text": ""}))
        pieces = budget.take(spec.summary)
        for piece in pieces:
            out.append(_event("response.reasoning_summary_text.delta", **where, delta=piece))
        text = "".join(pieces)
        out.append(_event("response.reasoning_summary_text.done", **where, text=text))
        part = {"type": "summary_text", "text": text}
        out.append(_event("response.reasoning_summary_part.done", **where, part=part))
        summary.append(part)
    return {"id": item_id, "type": "reasoning", "summary": summary}


def render_plan(
    plan: Plan, skeleton: dict[str, Any], *, input_tokens: int, max_output_tokens: int | None
) -> Rendered:
    """Turn a plan into the full event list and final Response (completed or incomplete)."""
    events = [
        _event("response.created", response=copy.deepcopy(skeleton)),
        _event("response.in_progress", response=copy.deepcopy(skeleton)),
    ]
    budget = _Budget(max_output_tokens)
    output: list[dict[str, Any]] = []
    reasoning_tokens = 0
    for index, spec in enumerate(plan.items):
        if budget.exhausted or budget.left == 0:
            # The model wanted to say more than max_output_tokens allows.
            budget.exhausted = True
            break
        before = budget.used
        if isinstance(spec, MessageOut):
            item = _message(events, index, spec, budget)
        elif isinstance(spec, CallOut):
            item = _call(events, index, spec, budget)
        else:
            item = _reasoning(events, index, spec, budget)
            reasoning_tokens += budget.used - before
        events.append(_event("response.output_item.done", output_index=index, item=item))
        output.append(item)
    final = copy.deepcopy(skeleton)
    final.update(
        status="incomplete" if budget.exhausted else "completed",
        incomplete_details={"reason": "max_output_tokens"} if budget.exhausted else None,
        output=output,
        usage={
            "input_tokens": input_tokens,
            # Every field the current openai SDK's types require (nothing is ever cached).
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": budget.used,
            "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
            "total_tokens": input_tokens + budget.used,
        },
    )
    terminal = "response.incomplete" if budget.exhausted else "response.completed"
    events.append(_event(terminal, response=copy.deepcopy(final)))
    return Rendered(events, final, skeleton)
