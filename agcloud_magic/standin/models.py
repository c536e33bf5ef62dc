"""Deterministic offline models: ``echo`` (any listed name), ``lorem-N``, scripted turns.

A model produces a :class:`Plan`, the list of output items of one response with their stream
deltas already cut; :mod:`.events` turns a plan into a Response and its events.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .common import new_id, split_pieces
from .inputs import (
    describe_received,
    input_chars,
    last_said,
    last_user_text,
    output_as_text,
    trailing_tool_outputs,
)
from .lorem import lorem_count, lorem_pieces
from .structured import Target, answer_json, estimate_tokens, structured_target, token_pieces
from .toolcall import build_arguments, matching_tools

__all__ = ["CallOut", "MessageOut", "Plan", "ReasoningOut", "model_plan", "script_plan"]

BANNER = "**Offline stand-in** (no model was called). Turn {turn} of this conversation."
TOOL_OUTPUT_CHARS = 200
_CALL_LINE = re.compile(r"^\s*call\s+(?P<name>[A-Za-z0-9_-]{1,64})\((?P<args>.*)\)\s*$")


@dataclass
class ReasoningOut:
    """A reasoning item; ``summary`` is None when no summary is streamed."""

    summary: list[str] | None


@dataclass
class MessageOut:
    """An assistant message with one output_text part made of these deltas."""

    pieces: list[str]


@dataclass
class CallOut:
    """A function_call item whose arguments are streamed as these deltas."""

    name: str
    pieces: list[str]
    call_id: str = field(default_factory=lambda: new_id("call"))


Item = ReasoningOut | MessageOut | CallOut


@dataclass
class Plan:
    """What one response will contain: output items, or a recorded stream to replay."""

    items: list[Item]
    replay: Any = None  # a replay.Recording when the turn replays a fixture
    # Set by structured answers, whose usage is ~len/4 (the word count otherwise).
    input_tokens: int | None = None


def _tool_calls(body: dict[str, Any]) -> list[CallOut]:
    """The calls the echo model makes, by the rule of :mod:`.toolcall`."""
    tools = [t for t in body.get("tools") or [] if t.get("type") == "function"]
    choice = body.get("tool_choice") or "auto"
    if not tools or choice == "none":
        return []
    allowed = [t["name"] for t in tools]
    must_call = choice == "required"
    if isinstance(choice, dict):
        if choice.get("type") == "function":
            allowed, must_call = [choice["name"]], True
        elif choice.get("type") == "allowed_tools":
            listed = {t.get("name") for t in choice.get("tools") or []}
            allowed = [n for n in allowed if n in listed]
            must_call = choice.get("mode") == "required"
        else:
            return []  # a hosted tool was forced: the stand-in cannot run those
    offered = [t for t in tools if t["name"] in allowed]
    said = last_user_text(body["input"]) or ""
    calls = []
    for line in said.splitlines():
        match = _CALL_LINE.match(line)
        if match and match["name"] in allowed:
            arguments = match["args"].strip() or "{}"
            calls.append(CallOut(match["name"], split_pieces(arguments, kind="args")))
    if not calls:
        # Asked in plain words: a real model would call the tool, so the echo model does too.
        wanted = matching_tools(offered, said)
        if not wanted and must_call and offered:
            wanted = offered[:1]
        for tool in wanted:
            arguments = json.dumps(build_arguments(tool.get("parameters"), said))
            calls.append(CallOut(tool["name"], split_pieces(arguments, kind="args")))
    if calls and body.get("parallel_tool_calls") is False:
        calls = calls[:1]
    return calls


def _cut(text: str) -> str:
    return text if len(text) <= TOOL_OUTPUT_CHARS else text[:TOOL_OUTPUT_CHARS] + "…"


def _structured_plan(body: dict[str, Any], target: Target) -> Plan:
    """A forced strict tool or a json_schema format: a schema instance (see .structured)."""
    said = last_user_text(body["input"])
    if said is None:
        said = last_said(body["input"])[1] or ""
    pieces = token_pieces(answer_json(target.schema, said))
    item: Item = CallOut(target.tool, pieces) if target.tool else MessageOut(pieces)
    chars = input_chars(body["input"], body.get("instructions"))
    return Plan([item], input_tokens=estimate_tokens(chars))


def echo_plan(body: dict[str, Any], *, turn: int, call_names: dict[str, str]) -> Plan:
    """The echo model: answer tool results, call tools the user asks for (see :mod:`.toolcall`),
    else restate the input and report what arrived."""
    banner = BANNER.format(turn=turn)
    outputs = trailing_tool_outputs(body["input"])
    if outputs:
        lines = [
            f"Tool results: {call_names.get(o['call_id'], 'unknown function')} -> "
            f"{_cut(output_as_text(o.get('output')))}"
            for o in outputs
        ]
        return Plan([MessageOut(split_pieces(banner + "\n\n" + "\n\n".join(lines)))])
    target = structured_target(body)
    if target is not None and target.tool is not None:
        return _structured_plan(body, target)
    calls = _tool_calls(body)
    if calls:
        return Plan(list(calls))
    if target is not None:
        # A json_schema format shapes the text; a tool call the message asks for (or a
        # forced one) still comes first, as the API would make it.
        return _structured_plan(body, target)
    role, said = last_said(body["input"])
    who = "You said" if role in (None, "user") else f"You said (as {role})"
    text = (
        f"{banner}\n\n{who}: {said if said is not None else '(no text)'}\n\n"
        f"Received: {describe_received(body)}"
    )
    return Plan([MessageOut(split_pieces(text))])


def model_plan(body: dict[str, Any], *, turn: int, call_names: dict[str, str]) -> Plan:
    """Pick the model by name: ``lorem``/``lorem-N``, else echo (the name was checked against
    the server's list already, see :mod:`.catalog`)."""
    n = lorem_count(body["model"])
    if n is not None:
        return Plan([MessageOut(lorem_pieces(n))])
    return echo_plan(body, turn=turn, call_names=call_names)


def script_plan(turn: dict[str, Any]) -> Plan:
    """A plan for one normalised scripted turn (see ``StandinServer.script``)."""
    if "replay" in turn:
        return Plan([], replay=turn["replay"])
    items: list[Item] = []
    if "reasoning_summary" in turn:
        summary = turn["reasoning_summary"]
        items.append(ReasoningOut(None if summary is None else split_pieces(summary)))
    if turn.get("text") is not None:
        items.append(MessageOut(split_pieces(turn["text"])))
    for call in turn.get("calls") or []:
        if "arguments_raw" in call:
            arguments = call["arguments_raw"]
        else:
            arguments = json.dumps(call.get("arguments", {}))
        items.append(CallOut(call["name"], split_pieces(arguments, kind="args")))
    return Plan(items)
