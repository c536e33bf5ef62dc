"""Running the calls the model makes, with only the functions the user named.

Pure: no network, no IPython.  :func:`function_tool` (in :mod:`agcloud_magic.tools.function`)
turns a callable into a ``tools`` entry; :class:`ToolRegistry` holds the callables and raw JSON
specs of one request and answers each ``function_call`` item with a ``function_call_output``
item.  Only registered callables ever run: a name the model invents is answered with an error
text, nothing is looked up in a namespace and nothing the model wrote is evaluated.  Arguments
are parsed as JSON, validated against the generated schema, converted back to Python values
(Enum members, dataclasses, tuples) and only then passed to the function.  Failures of any kind
become the output text, so the model can see what went wrong and the loop goes on.

The magic's ``--tools`` value goes through :func:`agcloud_magic.tools.options.resolve_tools`,
``--tool-choice`` through :func:`agcloud_magic.tools.options.tool_choice_value`.  Type mapping
and validation live in :mod:`agcloud_magic.tools.schema`.
"""

from __future__ import annotations

import copy
import inspect
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from agcloud_magic.errors import ConfigError
from agcloud_magic.tools.function import FunctionTool, compile_tool, function_tool
from agcloud_magic.tools.output import DEFAULT_MAX_OUTPUT_CHARS, cut_text, format_output, one_line
from agcloud_magic.tools.schema import ToolDefinitionError, validate

__all__ = [
    "DEFAULT_MAX_CALLS",
    "DEFAULT_MAX_CALLS_PER_ROUND",
    "DEFAULT_MAX_OUTPUT_CHARS",
    "DEFAULT_MAX_ROUNDS",
    "CoroutineRunner",
    "ToolDefinitionError",
    "ToolRegistry",
    "ToolRun",
    "format_output",
    "function_calls",
    "function_tool",
]

#: Runs an awaitable to completion and returns its value (or raises its exception).
CoroutineRunner = Callable[[Awaitable[Any]], Any]

#: How many request rounds the tool loop may make before it stops and says so.
DEFAULT_MAX_ROUNDS = 8
#: How many function calls of one response are run.  Models fan out in parallel to one call
#: per thing asked about, a handful in practice; 16 leaves room for a dozen-item question while
#: a runaway (hundreds of calls in one response) runs none of them.
DEFAULT_MAX_CALLS_PER_ROUND = 16
#: How many function calls one turn may run in all: eight calls for each of the default eight
#: rounds.  The user's function then runs at most 64 times per cell, not rounds x calls.
DEFAULT_MAX_CALLS = 64
#: Tool outputs longer than this are cut (with a note) so one call cannot flood the context.

_PREVIEW_CHARS = 200


@dataclass
class ToolRun:
    """The outcome of one function call.

    ``output_item`` is the ``{"type": "function_call_output", "call_id", "output"}`` item to send
    back; ``arguments`` the parsed arguments (the raw text when it was not valid JSON); ``ok`` is
    False when the call was refused or raised; ``preview`` a one-line ``name(args) → output``
    for the UI; ``value`` the function's return value (``None`` unless ``ok``).
    """

    call_id: str
    name: str
    arguments: Any
    output_item: dict[str, Any]
    ok: bool
    preview: str
    value: Any = None

    @property
    def output(self) -> str:
        """The output text sent to the model."""
        return self.output_item["output"]


def _field(item: Any, key: str) -> Any:
    # Dicts from our own parser, or attribute objects (e.g. the official SDK's output items).
    return item.get(key) if isinstance(item, Mapping) else getattr(item, key, None)


def function_calls(output: Iterable[Any]) -> list[Any]:
    """The ``function_call`` items of a response's ``output``, in order."""
    return [item for item in output or () if _field(item, "type") == "function_call"]


class ToolRegistry:
    """The tools of one request: Python callables that can run, and raw JSON specs.

    ``functions`` is a mapping ``name -> callable`` or an iterable of callables (named by
    ``__name__``) and raw spec dicts; ``specs`` more raw spec dicts (``{"type": "web_search"}``,
    full function specs ...), sent exactly as given.  Duplicate function names raise
    :class:`ConfigError`.
    """

    def __init__(
        self,
        functions: Mapping[str, Callable[..., Any]] | Iterable[Any] | None = None,
        specs: Iterable[dict[str, Any]] = (),
        *,
        strict: bool = False,
        max_output_chars: int = DEFAULT_MAX_OUTPUT_CHARS,
    ) -> None:
        self.strict = strict
        self.max_output_chars = max_output_chars
        self._entries: list[FunctionTool | dict[str, Any]] = []
        self._functions: dict[str, FunctionTool] = {}
        self._names: set[str] = set()  # function names, callables and raw specs alike
        if isinstance(functions, Mapping):
            for fname, fn in functions.items():
                self.add(fn, name=fname)
        else:
            for item in functions or ():
                if isinstance(item, dict):
                    self.add_spec(item)
                else:
                    self.add(item)
        for spec in specs:
            self.add_spec(spec)

    def add(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        strict: bool | None = None,
    ) -> dict[str, Any]:
        """Register a callable; returns its spec."""
        tool = compile_tool(fn, name, description, self.strict if strict is None else strict)
        self._claim(tool.name)
        self._functions[tool.name] = tool
        self._entries.append(tool)
        return copy.deepcopy(tool.spec)

    def add_spec(self, spec: dict[str, Any]) -> None:
        """Register a raw JSON tool spec, passed through untouched."""
        if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
            raise ConfigError(
                f'tool spec {one_line(repr(spec), 80)} needs a "type", '
                'e.g. {"type": "web_search"}'
            )
        if spec["type"] == "function":
            if not isinstance(spec.get("name"), str):
                raise ConfigError('a {"type": "function"} tool spec needs a "name"')
            self._claim(spec["name"])
        self._entries.append(spec)

    def _claim(self, name: str) -> None:
        if name in self._names:
            raise ConfigError(f"two tools are named {name!r}; give each function its own name")
        self._names.add(name)

    def specs(self) -> list[dict[str, Any]]:
        """The request's ``tools`` array (copies: editing them does not change the registry)."""
        return [_copied(e.spec if isinstance(e, FunctionTool) else e) for e in self._entries]

    @property
    def function_names(self) -> list[str]:
        """Names the model may call as functions (callables and raw function specs)."""
        return [
            e.name if isinstance(e, FunctionTool) else e["name"]
            for e in self._entries
            if isinstance(e, FunctionTool) or e["type"] == "function"
        ]

    @property
    def hosted_types(self) -> list[str]:
        """``type`` of the raw non-function specs (``web_search`` ...)."""
        return [e["type"] for e in self._entries if isinstance(e, dict) and e["type"] != "function"]

    def runs_functions(self) -> bool:
        """True when a Python function is registered, so calls need answers from :meth:`run`
        (a raw function spec beside it is answered with an error).  With raw specs alone the
        caller runs its own functions, as with the bare API: their calls are handed back."""
        return bool(self._functions)

    def __contains__(self, name: object) -> bool:
        return name in self._functions

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        names = self.function_names + self.hosted_types
        return f"ToolRegistry({', '.join(names)})"

    # ----------------------------------------------------------------------- running calls

    def run(self, call: Any, run_coroutine: CoroutineRunner | None = None) -> ToolRun:
        """Answer one ``function_call`` item; never raises (except KeyboardInterrupt & co).

        An async tool's coroutine goes to ``run_coroutine`` (the engine passes its private
        loop); without one it gets a loop of its own."""
        call_id = str(_field(call, "call_id") or "")
        name = str(_field(call, "name") or "")
        raw = _field(call, "arguments")

        def refuse(message: str, arguments: Any = raw) -> ToolRun:
            return self._result(call_id, name, arguments, "Error: " + message, ok=False)

        tool = self._functions.get(name)
        if tool is None:
            known = ", ".join(self.function_names) or "none"
            if name in self._names:
                return refuse(f"tool {name!r} has no Python function in this kernel to run it.")
            return refuse(f"there is no tool named {name!r}; the available tools are: {known}.")
        if isinstance(raw, (str, bytes)) or raw is None:
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else (raw or "")
            try:
                arguments = json.loads(text) if text.strip() else {}
            except (ValueError, RecursionError) as exc:
                return refuse(
                    f"the arguments of {name} are not valid JSON ({exc}); call it again with a "
                    "JSON object."
                )
        else:
            arguments = raw
        if not isinstance(arguments, dict):
            return refuse(f"the arguments of {name} must be a JSON object.", arguments)
        errors = validate(arguments, tool.spec["parameters"])
        if errors:
            shown = "; ".join(errors[:10]) + (
                f"; and {len(errors) - 10} more" if len(errors) > 10 else ""
            )
            return refuse(
                f"invalid arguments for {name}: {shown}. Call it again with arguments "
                "that match its schema.",
                arguments,
            )
        try:
            value = tool.call(arguments)
            if inspect.isawaitable(value):
                value = (run_coroutine or _await)(value)
        except Exception as exc:  # the model sees the failure and may try again
            return refuse(f"{type(exc).__name__}: {exc}", arguments)
        try:
            output = format_output(value, self.max_output_chars)
        except Exception as exc:
            return refuse(
                f"{name} returned a value that could not be turned into text "
                f"({type(exc).__name__}: {exc})",
                arguments,
            )
        return self._result(call_id, name, arguments, output, ok=True, value=value)

    def run_all(
        self, calls: Iterable[Any], run_coroutine: CoroutineRunner | None = None
    ) -> list[ToolRun]:
        """Answer every call of one response, in order (one output per ``call_id``)."""
        return [self.run(call, run_coroutine) for call in calls]

    def _result(
        self, call_id: str, name: str, arguments: Any, output: str, *, ok: bool, value: Any = None
    ) -> ToolRun:
        output = cut_text(output, self.max_output_chars)
        if isinstance(arguments, dict):
            shown = ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in arguments.items())
        else:
            shown = str(arguments)
        preview = one_line(f"{name}({shown}) → {output}", _PREVIEW_CHARS)
        item = {"type": "function_call_output", "call_id": call_id, "output": output}
        return ToolRun(call_id, name, arguments, item, ok, preview, value)


def _await(awaitable: Any) -> Any:
    """Run an async tool to completion from synchronous code, even inside a running loop."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    async def wait() -> Any:
        return await awaitable

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(wait())
    # A loop already runs in this thread (ipykernel): give the coroutine a loop of its own.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, wait()).result()


_ATOMS = (str, int, float, bool, type(None))


def _copied(value: Any) -> Any:
    """A deep copy of a JSON-like spec: dicts and lists rebuilt, str/number/bool/None shared
    (immutable), anything else through ``copy.deepcopy``.  A quarter of deepcopy's cost, which
    every request of a batch paid for its tool (``bench/bench_batch_cpu.py``)."""
    if isinstance(value, dict):
        return {k: v if type(v) in _ATOMS else _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [v if type(v) in _ATOMS else _copied(v) for v in value]
    if type(value) in _ATOMS:
        return value
    return copy.deepcopy(value)
