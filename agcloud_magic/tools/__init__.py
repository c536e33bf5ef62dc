"""Python callables as function tools: schemas from signatures, argument validation, outputs."""

from agcloud_magic.tools.registry import (
    DEFAULT_MAX_CALLS,
    DEFAULT_MAX_CALLS_PER_ROUND,
    DEFAULT_MAX_OUTPUT_CHARS,
    DEFAULT_MAX_ROUNDS,
    ToolDefinitionError,
    ToolRegistry,
    ToolRun,
    format_output,
    function_calls,
    function_tool,
)

__all__ = [
    "DEFAULT_MAX_CALLS",
    "DEFAULT_MAX_CALLS_PER_ROUND",
    "DEFAULT_MAX_OUTPUT_CHARS",
    "DEFAULT_MAX_ROUNDS",
    "ToolDefinitionError",
    "ToolRegistry",
    "ToolRun",
    "format_output",
    "function_calls",
    "function_tool",
]
