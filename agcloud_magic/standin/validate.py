"""Hand-written validation of a ``POST /responses`` body (protocol section 2).

Messages and codes follow the real API's wording (``Unknown parameter: 'x'.``, ``Invalid type
for 'x': ...``, ``missing_required_parameter`` ...) so that a client's error display can be
exercised offline.  The runtime must not depend on ``jsonschema``, hence the explicit checks.
"""

from __future__ import annotations

import re
from typing import Any

from .checks import (
    bad_type,
    bad_value,
    check_bool,
    check_enum,
    check_int,
    check_number,
    check_object,
    check_str,
    check_url,
    missing,
    unknown,
)
from .common import ApiError

__all__ = ["ALLOWED_FIELDS", "validate_request"]

# The top-level properties of CreateResponse in the reference schema; anything else is a 400,
# as on the real API (catches typos like ``max_tokens`` that a lenient server would ignore).
ALLOWED_FIELDS = frozenset({
    "background", "context_management", "conversation", "include", "input", "instructions",
    "max_output_tokens", "max_tool_calls", "metadata", "model", "moderation",
    "parallel_tool_calls", "previous_response_id", "prompt", "prompt_cache_key",
    "prompt_cache_options", "prompt_cache_retention", "reasoning", "safety_identifier",
    "service_tier", "store", "stream", "stream_options", "temperature", "text", "tool_choice",
    "tools", "top_logprobs", "top_p", "truncation", "user",
})
ROLES = ("user", "assistant", "system", "developer")
USER_PARTS = ("input_text", "input_image", "input_file")
ASSISTANT_PARTS = ("output_text", "refusal")
ITEM_TYPES = ("message", "function_call", "function_call_output", "reasoning", "item_reference")
EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
SUMMARIES = ("auto", "concise", "detailed")
INCLUDE = (
    "file_search_call.results", "web_search_call.results", "web_search_call.action.sources",
    "message.input_image.image_url", "computer_call_output.output.image_url",
    "code_interpreter_call.outputs", "reasoning.encrypted_content", "message.output_text.logprobs",
)
SERVICE_TIERS = ("auto", "default", "flex", "scale", "priority", "fast", "ultrafast")
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
def _check_part(part: Any, param: str, role: str) -> None:
    check_object(part, param)
    if part is None:
        raise bad_type(param, "an object", part)
    kind = part.get("type")
    allowed = ASSISTANT_PARTS if role == "assistant" else USER_PARTS
    if kind is None:
        raise missing(f"{param}.type")
    if kind not in allowed:
        raise bad_value(f"{param}.type", kind, allowed)
    if kind in ("input_text", "output_text"):
        check_str(part.get("text"), f"{param}.text", nullable=False)
    elif kind == "refusal":
        check_str(part.get("refusal"), f"{param}.refusal", nullable=False)
    elif kind == "input_image":
        check_enum(part.get("detail"), f"{param}.detail", ("low", "high", "auto", "original"))
        if part.get("image_url") is not None:
            check_url(part["image_url"], f"{param}.image_url", image=True)
        elif part.get("file_id") is None:
            raise ApiError(
                400, f"Invalid '{param}': one of 'image_url' or 'file_id' must be provided.",
                param=param, code="missing_required_parameter",
            )
        check_str(part.get("file_id"), f"{param}.file_id")
    else:  # input_file
        check_str(part.get("file_id"), f"{param}.file_id")
        check_str(part.get("filename"), f"{param}.filename")
        if part.get("file_url") is not None:
            check_url(part["file_url"], f"{param}.file_url", image=False)
        if part.get("file_data") is not None:
            check_str(part["file_data"], f"{param}.file_data", nullable=False)
            if part.get("filename") is None:
                raise missing(f"{param}.filename")
        if all(part.get(k) is None for k in ("file_id", "file_url", "file_data")):
            raise ApiError(
                400,
                f"Invalid '{param}': one of 'file_id', 'file_url' or 'file_data' must be provided.",
                param=param, code="missing_required_parameter",
            )


def _check_item(item: Any, param: str) -> None:
    if not isinstance(item, dict):
        raise bad_type(param, "an object", item)
    kind = item.get("type", "message")
    if kind not in ITEM_TYPES:
        raise bad_value(f"{param}.type", kind, ITEM_TYPES)
    if kind == "message":
        role = item.get("role")
        if role is None:
            raise missing(f"{param}.role")
        check_enum(role, f"{param}.role", ROLES)
        content = item.get("content")
        if content is None:
            raise missing(f"{param}.content")
        if isinstance(content, list):
            for j, part in enumerate(content):
                _check_part(part, f"{param}.content[{j}]", role)
        elif not isinstance(content, str):
            raise bad_type(f"{param}.content", "a string or an array", content)
    elif kind == "function_call":
        for key in ("call_id", "name", "arguments"):
            if item.get(key) is None:
                raise missing(f"{param}.{key}")
            check_str(item[key], f"{param}.{key}")
    elif kind == "function_call_output":
        if item.get("call_id") is None:
            raise missing(f"{param}.call_id")
        check_str(item["call_id"], f"{param}.call_id")
        if "output" not in item:
            raise missing(f"{param}.output")
        if not isinstance(item["output"], (str, list)):
            raise bad_type(f"{param}.output", "a string or an array", item["output"])
    elif kind == "item_reference":
        check_str(item.get("id"), f"{param}.id", nullable=False)
    elif kind == "reasoning" and not isinstance(item.get("summary", []), list):
        raise bad_type(f"{param}.summary", "an array", item.get("summary"))


def _check_tools(tools: Any, tool_choice: Any) -> None:
    if tools is not None:
        if not isinstance(tools, list):
            raise bad_type("tools", "an array", tools)
        for i, tool in enumerate(tools):
            param = f"tools[{i}]"
            if not isinstance(tool, dict):
                raise bad_type(param, "an object", tool)
            check_str(tool.get("type"), f"{param}.type", nullable=False)
            if tool["type"] != "function":
                continue  # hosted tools are accepted and never called by the stand-in
            name = tool.get("name")
            if name is None:
                raise missing(f"{param}.name")
            check_str(name, f"{param}.name")
            if not _TOOL_NAME.match(name):
                raise ApiError(
                    400,
                    f"Invalid '{param}.name': string does not match pattern. "
                    "Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                    param=f"{param}.name", code="invalid_value",
                )
            check_object(tool.get("parameters"), f"{param}.parameters")
            check_bool(tool.get("strict"), f"{param}.strict")
            check_str(tool.get("description"), f"{param}.description")
    names = [t["name"] for t in tools or [] if t.get("type") == "function"]
    if isinstance(tool_choice, str):
        check_enum(tool_choice, "tool_choice", ("none", "auto", "required"))
        if tool_choice == "required" and not tools:
            raise ApiError(
                400, "Tool choice 'required' must be specified with 'tools' parameter.",
                param="tool_choice", code=None,
            )
    elif isinstance(tool_choice, dict):
        check_str(tool_choice.get("type"), "tool_choice.type", nullable=False)
        if tool_choice["type"] == "function":
            check_str(tool_choice.get("name"), "tool_choice.name", nullable=False)
            if tool_choice["name"] not in names:
                raise ApiError(
                    400, f"Tool choice 'function' not found in 'tools' parameter "
                    f"(no function named '{tool_choice['name']}').",
                    param="tool_choice", code=None,
                )
    elif tool_choice is not None:
        raise bad_type("tool_choice", "a string or an object", tool_choice)


def _check_text(text: Any) -> None:
    check_object(text, "text", frozenset({"format", "verbosity"}))
    if not text:
        return
    check_enum(text.get("verbosity"), "text.verbosity", ("low", "medium", "high"))
    fmt = text.get("format")
    check_object(fmt, "text.format")
    if fmt is not None:
        check_enum(fmt.get("type"), "text.format.type", ("text", "json_object", "json_schema"))
        if fmt.get("type") == "json_schema":
            check_str(fmt.get("name"), "text.format.name", nullable=False)
            check_object(fmt.get("schema"), "text.format.schema")
            if fmt.get("schema") is None:
                raise missing("text.format.schema")


def validate_request(body: Any) -> None:
    """Raise :class:`ApiError` (400) if ``body`` is not an acceptable CreateResponse."""
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.", code="invalid_type")
    for key in body:
        if key not in ALLOWED_FIELDS:
            raise unknown(key)
    for key in ("model", "input"):
        if body.get(key) is None:
            raise missing(key)
    check_str(body["model"], "model", nullable=False)
    if isinstance(body["input"], list):
        for i, item in enumerate(body["input"]):
            _check_item(item, f"input[{i}]")
    elif not isinstance(body["input"], str):
        raise bad_type("input", "a string or an array", body["input"])
    for key in ("instructions", "user", "safety_identifier", "prompt_cache_key",
                "prompt_cache_retention"):
        check_str(body.get(key), key)
    for key in ("stream", "store", "parallel_tool_calls", "background"):
        check_bool(body.get(key), key)
    check_number(body.get("temperature"), "temperature", 0, 2)
    check_number(body.get("top_p"), "top_p", 0, 1)
    check_int(body.get("max_output_tokens"), "max_output_tokens", 16)
    check_int(body.get("top_logprobs"), "top_logprobs", 0, 20)
    check_int(body.get("max_tool_calls"), "max_tool_calls", 1)
    check_enum(body.get("truncation"), "truncation", ("auto", "disabled"))
    check_enum(body.get("service_tier"), "service_tier", SERVICE_TIERS)
    _check_tools(body.get("tools"), body.get("tool_choice"))
    _check_text(body.get("text"))
    reasoning = body.get("reasoning")
    check_object(reasoning, "reasoning",
                  frozenset({"effort", "summary", "generate_summary", "mode", "context"}))
    if reasoning:
        check_enum(reasoning.get("effort"), "reasoning.effort", EFFORTS)
        check_enum(reasoning.get("summary"), "reasoning.summary", SUMMARIES)
        check_enum(reasoning.get("generate_summary"), "reasoning.generate_summary", SUMMARIES)
    check_object(body.get("stream_options"), "stream_options",
                  frozenset({"include_obfuscation"}))
    if body.get("stream_options") is not None:
        check_bool(body["stream_options"].get("include_obfuscation"),
                    "stream_options.include_obfuscation")
        if body.get("stream") is not True:
            raise ApiError(400, "Invalid 'stream_options': only allowed when 'stream' is true.",
                           param="stream_options", code="invalid_value")
    include = body.get("include")
    if include is not None:
        if not isinstance(include, list):
            raise bad_type("include", "an array", include)
        for i, value in enumerate(include):
            check_enum(value, f"include[{i}]", INCLUDE)
    metadata = body.get("metadata")
    check_object(metadata, "metadata")
    if metadata:
        if len(metadata) > 16:
            raise ApiError(400, "Invalid 'metadata': too many keys (at most 16).",
                           param="metadata", code="invalid_value")
        for key, value in metadata.items():
            if len(key) > 64 or not isinstance(value, str) or len(value) > 512:
                raise ApiError(
                    400, f"Invalid 'metadata.{key}': keys are at most 64 characters and values "
                    "strings of at most 512 characters.", param=f"metadata.{key}",
                    code="invalid_value",
                )
    _check_previous(body)


def _check_previous(body: dict[str, Any]) -> None:
    prev = body.get("previous_response_id")
    check_str(prev, "previous_response_id")
    if prev is not None and not prev.startswith("resp"):
        raise ApiError(
            400, f"Invalid 'previous_response_id': '{prev}'. Expected an ID that begins with "
            "'resp'.", param="previous_response_id", code="invalid_value",
        )
    if body.get("conversation") is not None:
        if prev is not None:
            raise ApiError(
                400, "Mutually exclusive parameters: Ensure you are only providing one of: "
                "'previous_response_id' or 'conversation'.", param="conversation",
                code="mutually_exclusive_parameters",
            )
        raise ApiError(400, "The offline stand-in does not implement conversations; use "
                       "'previous_response_id'.", param="conversation", code="unsupported_value")
    if body.get("background"):
        raise ApiError(400, "The offline stand-in does not support background responses.",
                       param="background", code="unsupported_value")
