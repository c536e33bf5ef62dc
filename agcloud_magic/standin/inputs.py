"""Read a request's ``input``: messages, parts, tool outputs, and what the echo model reports."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any
from urllib.parse import unquote_to_bytes

__all__ = [
    "count_tokens",
    "decode_data_url",
    "describe_received",
    "function_call_outputs",
    "function_calls",
    "input_chars",
    "last_user_text",
    "messages",
    "output_as_text",
    "trailing_tool_outputs",
]

_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^;,]*)*?),(?P<data>.*)$",
                       re.S)


def decode_data_url(url: str) -> tuple[str, int] | None:
    """Return ``(mime, byte count)`` of a ``data:`` URL, or None if it cannot be decoded."""
    match = _DATA_URL.match(url)
    if match is None:
        return None
    mime = match["mime"] or "text/plain"
    data = match["data"]
    if ";base64" in (match["params"] or ""):
        try:
            return mime, len(base64.b64decode(data, validate=True))
        except (binascii.Error, ValueError):
            return None
    return mime, len(unquote_to_bytes(data))


def _file_data_size(data: str) -> int | None:
    """``file_data`` is a data URL or bare base64; return its decoded size."""
    if data.startswith("data:"):
        decoded = decode_data_url(data)
        return None if decoded is None else decoded[1]
    try:
        return len(base64.b64decode(data, validate=True))
    except (binascii.Error, ValueError):
        return None


def messages(input_value: Any) -> list[tuple[str, list[dict[str, Any]]]]:
    """Every message of ``input`` as ``(role, parts)``; string content becomes one text part."""
    if isinstance(input_value, str):
        return [("user", [{"type": "input_text", "text": input_value}])]
    out = []
    for item in input_value or []:
        if item.get("type", "message") != "message":
            continue
        content = item.get("content")
        if isinstance(content, str):
            kind = "output_text" if item.get("role") == "assistant" else "input_text"
            content = [{"type": kind, "text": content}]
        out.append((item.get("role", "user"), list(content or [])))
    return out


def last_user_text(input_value: Any) -> str | None:
    """The text parts of the last user message, joined by newlines (None if there is none)."""
    return last_said(input_value, roles=("user",))[1]


def last_said(
    input_value: Any, roles: tuple[str, ...] = ("user", "developer", "system")
) -> tuple[str | None, str | None]:
    """``(role, text)`` of the last message from one of ``roles`` (a user message first)."""
    candidates = [(r, p) for r, p in messages(input_value) if r in roles]
    users = [(r, p) for r, p in candidates if r == "user"]
    for role, parts in reversed(users or candidates):
        texts = [p.get("text", "") for p in parts if p.get("type") == "input_text"]
        return role, ("\n".join(texts) if texts else None)
    return None, None


def function_calls(input_value: Any) -> list[dict[str, Any]]:
    """``function_call`` items replayed in ``input`` (stateless tool loops)."""
    if not isinstance(input_value, list):
        return []
    return [i for i in input_value if i.get("type") == "function_call"]


def function_call_outputs(input_value: Any) -> list[dict[str, Any]]:
    """``function_call_output`` items of ``input``."""
    if not isinstance(input_value, list):
        return []
    return [i for i in input_value if i.get("type") == "function_call_output"]


def trailing_tool_outputs(input_value: Any) -> list[dict[str, Any]]:
    """``function_call_output`` items after the last user message: the results the model is
    waiting for (older ones in a replayed history were answered already)."""
    if not isinstance(input_value, list):
        return []
    last_user = max(
        (i for i, item in enumerate(input_value)
         if item.get("type", "message") == "message" and item.get("role") == "user"),
        default=-1,
    )
    return [i for i in input_value[last_user + 1:] if i.get("type") == "function_call_output"]


def output_as_text(output: Any) -> str:
    """A tool output (string or list of parts) as one line of text."""
    if isinstance(output, str):
        return output
    pieces = []
    for part in output or []:
        if part.get("type") == "input_text":
            pieces.append(part.get("text", ""))
        else:
            pieces.append(f"[{part.get('type', 'part')}]")
    return " ".join(pieces)


def _count(n: int) -> str:
    return f"{n:,}"


def _describe_image(part: dict[str, Any]) -> str:
    detail = part.get("detail") or "auto"
    url = part.get("image_url")
    if url and url.startswith("data:"):
        decoded = decode_data_url(url)
        if decoded:
            return f"{decoded[0]}, {_count(decoded[1])} bytes, detail {detail}"
    if url:
        return f"{url}, detail {detail}"
    return f"{part.get('file_id')}, detail {detail}"


def _describe_file(part: dict[str, Any]) -> str:
    if part.get("file_data") is not None:
        size = _file_data_size(part["file_data"])
        shown = "undecodable data" if size is None else f"{_count(size)} bytes"
        return f"{part.get('filename', 'unnamed')}, {shown}"
    if part.get("file_url") is not None:
        return str(part["file_url"])
    return str(part.get("file_id"))


def _num(value: Any) -> str:
    return json.dumps(value)


def describe_received(body: dict[str, Any]) -> str:
    """One sentence listing what the request carried, e.g. ``2 input_text, 1 input_image (...)``."""
    counts: dict[str, int] = {}
    details: dict[str, list[str]] = {}
    for _role, parts in messages(body.get("input")):
        for part in parts:
            kind = part.get("type", "?")
            counts[kind] = counts.get(kind, 0) + 1
            if kind == "input_image":
                details.setdefault(kind, []).append(_describe_image(part))
            elif kind == "input_file":
                details.setdefault(kind, []).append(_describe_file(part))
    items = body.get("input") if isinstance(body.get("input"), list) else []
    for item in items:
        kind = item.get("type", "message")
        if kind != "message":
            counts[kind] = counts.get(kind, 0) + 1
    listed = []
    for kind, n in counts.items():
        extra = f" ({'; '.join(details[kind])})" if kind in details else ""
        listed.append(f"{n} {kind}{extra}")
    clauses = [", ".join(listed) or "no input parts"]
    if body.get("instructions") is not None:
        clauses.append(f"instructions: {len(body['instructions']):,} chars")
    for key in ("temperature", "top_p", "max_output_tokens"):
        if body.get(key) is not None:
            clauses.append(f"{key} {_num(body[key])}")
    reasoning = body.get("reasoning") or {}
    shown = [f"{k} {reasoning[k]}" for k in ("effort", "summary") if reasoning.get(k)]
    if shown:
        clauses.append("reasoning " + ", ".join(shown))
    tools = body.get("tools") or []
    if tools:
        names = [t.get("name") or t.get("type", "?") for t in tools]
        clauses.append("tools: " + ", ".join(names))
    choice = body.get("tool_choice")
    if choice not in (None, "auto"):
        clauses.append(f"tool_choice {choice if isinstance(choice, str) else json.dumps(choice)}")
    if body.get("store") is False:
        clauses.append("store false")
    return "; ".join(clauses) + "."


def count_tokens(input_value: Any, instructions: str | None = None) -> int:
    """A deterministic token estimate: one per whitespace-separated word, 85 per image or file."""
    total = len((instructions or "").split())
    if isinstance(input_value, str):
        return total + len(input_value.split())
    for item in input_value or []:
        kind = item.get("type", "message")
        if kind == "function_call":
            total += len(str(item.get("arguments", "")).split()) + 1
        elif kind == "function_call_output":
            total += len(output_as_text(item.get("output")).split())
    for _role, parts in messages(input_value):
        for part in parts:
            text = part.get("text") or part.get("refusal")
            total += len(text.split()) if text else 85
    return total


def input_chars(input_value: Any, instructions: str | None = None) -> int:
    """Characters of text a request sends (messages, tool calls and outputs, instructions):
    the base of the ~4-characters-a-token estimate of structured answers and rate limits."""
    total = len(instructions or "")
    if isinstance(input_value, str):
        return total + len(input_value)
    for item in input_value or []:
        kind = item.get("type", "message")
        if kind == "function_call":
            total += len(str(item.get("arguments", "")))
        elif kind == "function_call_output":
            total += len(output_as_text(item.get("output")))
    for _role, parts in messages(input_value):
        for part in parts:
            total += len(part.get("text") or part.get("refusal") or "")
    return total
