"""Python callables as function tools, and running the calls the model makes.

Pure: no network, no IPython.  :func:`function_tool` turns a callable into a ``tools`` entry;
:class:`ToolRegistry` holds the callables and raw JSON specs of one request and answers each
``function_call`` item with a ``function_call_output`` item.  Only registered callables ever
run: a name the model invents is answered with an error text, nothing is looked up in a
namespace and nothing the model wrote is evaluated.  Arguments are parsed as JSON, validated
against the generated schema, converted back to Python values (Enum members, dataclasses,
tuples) and only then passed to the function.  Failures of any kind become the output text, so
the model can see what went wrong and the loop goes on.

The magic's ``--tools`` value goes through :func:`resolve_tools`, ``--tool-choice`` through
:func:`tool_choice_value`.  Type mapping and validation live in :mod:`agcloud_magic.schema`.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import functools
import inspect
import json
import re
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError
from .schema import (
    MISSING,
    OMIT,
    ToolDefinitionError,
    first_paragraph,
    nullable,
    object_spec,
    type_spec,
    validate,
)

__all__ = [
    "DEFAULT_MAX_OUTPUT_CHARS",
    "DEFAULT_MAX_ROUNDS",
    "ToolDefinitionError",
    "ToolRegistry",
    "ToolRun",
    "format_output",
    "function_calls",
    "function_tool",
    "resolve_tools",
    "tool_choice_value",
]

#: How many request rounds the tool loop may make before it stops and says so.
DEFAULT_MAX_ROUNDS = 8
#: Tool outputs longer than this are cut (with a note) so one call cannot flood the context.
DEFAULT_MAX_OUTPUT_CHARS = 20_000

# The API's rule for function names.
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PREVIEW_CHARS = 200


# --------------------------------------------------------------------------- docstrings

_GOOGLE_HEADERS = {"args:", "arguments:", "parameters:", "params:", "keyword args:"}
_NUMPY_HEADERS = {"parameters", "other parameters"}
_ENTRY_RE = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_NUMPY_ENTRY_RE = re.compile(r"^\*{0,2}(\w+)\s*(?::.*)?$")
_SPHINX_RE = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _is_underline(line: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= 3 and set(stripped) == {"-"}


def param_descriptions(doc: str | None) -> dict[str, str]:
    """Parameter descriptions from a Google (``Args:``), numpydoc (``Parameters``) or Sphinx
    (``:param x:``) docstring; continuation lines are joined onto one line."""
    lines = inspect.cleandoc(doc or "").splitlines()
    found: dict[str, list[str]] = {}
    current: str | None = None
    mode: str | None = None
    base = 0  # indent of the section header
    entry: int | None = None  # indent of the entries of a Google section
    for i, line in enumerate(lines):
        stripped, ind = line.strip(), _indent(line)
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if match := _SPHINX_RE.match(stripped):
            mode, current = "sphinx", match.group(1)
            found[current] = [match.group(2)]
        elif stripped.lower() in _GOOGLE_HEADERS:
            mode, base, entry, current = "google", ind, None, None
        elif stripped.lower() in _NUMPY_HEADERS and _is_underline(following):
            mode, base, current = "numpy", ind, None
        elif mode is None or not stripped or _is_underline(line):
            continue
        elif mode == "sphinx":
            if current is not None and ind > 0:
                found[current].append(stripped)
            else:
                current = None
        elif mode == "google":
            if ind <= base:  # dedent: the section is over
                mode = current = None
                continue
            entry = ind if entry is None else entry
            if ind <= entry:
                match = _ENTRY_RE.match(stripped)
                current = match.group(1) if match else None
                if match:
                    found[current] = [match.group(2)]
            elif current is not None:
                found[current].append(stripped)
        elif _is_underline(following):  # numpy: the next section's header
            mode = current = None
        elif ind <= base:
            match = _NUMPY_ENTRY_RE.match(stripped)
            current = match.group(1) if match else None
            if current:
                found[current] = []
        elif current is not None:
            found[current].append(stripped)
    return {k: " ".join(p for p in v if p) for k, v in found.items() if any(v)}


def _summary(doc: str | None) -> str:
    text = first_paragraph(doc)
    first = text.split(" ", 1)[0].lower() if text else ""
    # A docstring that opens with its Args section has no summary to offer.
    return "" if first in {"args:", "arguments:", "parameters", "params:"} else text


# --------------------------------------------------------------------------- one function tool


@dataclass
class _FunctionTool:
    """A registered callable: its spec and how to turn validated JSON into a call."""

    name: str
    spec: dict[str, Any]
    fn: Callable[..., Any]
    converters: dict[str, Callable[[Any], Any]]
    positional: list[tuple[str, Any]]  # positional-only parameters with their defaults

    def call(self, arguments: dict[str, Any]) -> Any:
        values = {k: self.converters[k](v) for k, v in arguments.items()}
        args: list[Any] = []
        for pname, default in self.positional:
            value = values.pop(pname, OMIT)
            if value is OMIT:
                if default is MISSING:
                    raise TypeError(f"missing required argument {pname!r}")
                value = default
            args.append(value)
        kwargs = {k: v for k, v in values.items() if v is not OMIT}
        return self.fn(*args, **kwargs)


def _hint_source(fn: Any) -> Any:
    """The object whose annotations describe calling ``fn``."""
    if isinstance(fn, type):
        return fn.__init__
    if isinstance(fn, functools.partial):
        return _hint_source(fn.func)
    if inspect.isfunction(fn) or inspect.ismethod(fn) or inspect.isbuiltin(fn):
        return fn
    return type(fn).__call__  # a callable instance (callable() was checked first)


def _compile(
    fn: Callable[..., Any], name: str | None, description: str | None, strict: bool
) -> _FunctionTool:
    if not callable(fn):
        raise ToolDefinitionError(f"{fn!r} is not callable, so it cannot be a tool")
    name = name or getattr(fn, "__name__", None) or type(fn).__name__
    if not _NAME_RE.match(name):
        raise ToolDefinitionError(
            f"tool name {name!r} is not allowed: use 1-64 letters, digits, _ or -; "
            "pass name=... (or assign the function to a plain variable)"
        )
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise ToolDefinitionError(f"{name}: cannot read its signature ({exc})") from exc
    try:
        hints = typing.get_type_hints(_hint_source(fn), include_extras=True)
    except Exception:
        # An unresolvable forward reference somewhere: fall back to the raw annotations, so
        # only a parameter whose annotation is still a string fails (with a clear message).
        hints = {}
    # A partial's own docstring describes functools.partial, not the wrapped function; a
    # dataclass without a docstring gets an invented "Name(x: int, ...)" one.
    doc = inspect.getdoc(fn.func if isinstance(fn, functools.partial) else fn) or ""
    if isinstance(fn, type) and doc.startswith(f"{fn.__name__}("):
        doc = ""
    described = param_descriptions(doc)
    fields = []
    positional: list[tuple[str, Any]] = []
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            star = "*" if param.kind is param.VAR_POSITIONAL else "**"
            raise ToolDefinitionError(
                f"{name}: {star}{param.name} cannot be described to the model; "
                "list every parameter by name"
            )
        hint = hints.get(param.name, param.annotation)
        if isinstance(hint, str):
            raise ToolDefinitionError(
                f"{name}: cannot resolve the annotation {hint!r} of {param.name!r}; define "
                "the types it uses at the top level of the notebook"
            )
        spec = type_spec(hint, strict=strict, context=f"{name}({param.name})")
        if "description" not in spec.schema and param.name in described:
            spec = dataclasses.replace(
                spec, schema={**spec.schema, "description": described[param.name]}
            )
        default = MISSING if param.default is param.empty else param.default
        if default is None and not strict and validate(None, spec.schema):
            # ``x: int = None`` means "optional" in practice; let the model send null too.
            spec = nullable(spec)
        fields.append((param.name, spec, default))
        if param.kind is param.POSITIONAL_ONLY:
            positional.append((param.name, default))
    parameters, converters = object_spec(fields, strict=strict)
    tool: dict[str, Any] = {"type": "function", "name": name}
    text = description if description is not None else _summary(doc)
    if text:
        tool["description"] = text
    tool["parameters"] = parameters
    tool["strict"] = strict
    return _FunctionTool(name, tool, fn, converters, positional)


def function_tool(
    fn: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = False,
) -> dict[str, Any]:
    """Describe ``fn`` as a function tool for the request's ``tools`` array.

    Returns ``{"type": "function", "name", "description", "parameters", "strict"}``;
    ``description`` is the docstring's first paragraph (left out when there is none) and
    ``parameters`` a JSON Schema object built from the signature and type hints, with parameter
    descriptions from ``Annotated[X, "text"]`` or the docstring's Args/Parameters section.
    With ``strict=True`` every parameter is required and defaulted ones accept ``null``
    (meaning "use the default"), as the API's strict mode demands.

    Raises :class:`ToolDefinitionError` (a ``TypeError``) for ``*args``/``**kwargs``, a type
    that cannot travel as JSON, or a name the API does not accept.
    """
    return copy.deepcopy(_compile(fn, name, description, strict).spec)


# --------------------------------------------------------------------------- outputs


def _json_fallback(obj: Any) -> Any:
    if isinstance(obj, enum.Enum):
        return obj.value
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if type(obj).__module__.startswith("numpy") and hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    return str(obj)


def _to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if type(value).__module__.startswith("pandas"):
        try:
            # Written elsewhere and optional here: import at call time, never at import time.
            from .dataframes import to_model_text
        except ImportError:
            return str(value)
        try:
            return str(to_model_text(value))
        except Exception:  # a summary bug must not cost the model the data: plain text then
            return str(value)
    llm_repr = getattr(value, "_repr_llm_", None)
    if callable(llm_repr):
        return str(llm_repr())
    if value is None or isinstance(value, (dict, list, tuple, set, frozenset, int, float)):
        return json.dumps(value, default=_json_fallback, ensure_ascii=False)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json.dumps(value, default=_json_fallback, ensure_ascii=False)
    if type(value).__module__.startswith("numpy") and hasattr(value, "tolist"):
        return json.dumps(value.tolist(), default=_json_fallback, ensure_ascii=False)
    return str(value)


def format_output(value: Any, max_chars: int = DEFAULT_MAX_OUTPUT_CHARS) -> str:
    """Turn a tool's return value into the output string the model reads, cut to ``max_chars``.

    ``str`` as is; JSON for dicts, lists, numbers, booleans, ``None``, dataclasses and numpy
    values; pandas objects through ``agcloud_magic.dataframes.to_model_text`` when available;
    ``_repr_llm_()`` when an object defines it; ``str()`` otherwise.
    """
    return _cut(_to_text(value), max_chars)


def _cut(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    note = f"\n…[output cut: first {{}} of {len(text):,} characters shown]"
    keep = max(0, max_chars - len(note.format(f"{max_chars:,}")))
    return text[:keep] + note.format(f"{keep:,}")


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# --------------------------------------------------------------------------- registry


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
        self._entries: list[_FunctionTool | dict[str, Any]] = []
        self._functions: dict[str, _FunctionTool] = {}
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
        tool = _compile(fn, name, description, self.strict if strict is None else strict)
        self._claim(tool.name)
        self._functions[tool.name] = tool
        self._entries.append(tool)
        return copy.deepcopy(tool.spec)

    def add_spec(self, spec: dict[str, Any]) -> None:
        """Register a raw JSON tool spec, passed through untouched."""
        if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
            raise ConfigError(
                f'tool spec {_one_line(repr(spec), 80)} needs a "type", '
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
        return [copy.deepcopy(e.spec if isinstance(e, _FunctionTool) else e) for e in self._entries]

    @property
    def function_names(self) -> list[str]:
        """Names the model may call as functions (callables and raw function specs)."""
        return [
            e.name if isinstance(e, _FunctionTool) else e["name"]
            for e in self._entries
            if isinstance(e, _FunctionTool) or e["type"] == "function"
        ]

    @property
    def hosted_types(self) -> list[str]:
        """``type`` of the raw non-function specs (``web_search`` ...)."""
        return [e["type"] for e in self._entries if isinstance(e, dict) and e["type"] != "function"]

    def has_functions(self) -> bool:
        """True when the model may call a function here, so its calls need answers from
        :meth:`run` (raw function specs count: their calls are answered with an error)."""
        return bool(self.function_names)

    def __contains__(self, name: object) -> bool:
        return name in self._functions

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        names = self.function_names + self.hosted_types
        return f"ToolRegistry({', '.join(names)})"

    # ----------------------------------------------------------------------- running calls

    def run(self, call: Any) -> ToolRun:
        """Answer one ``function_call`` item; never raises (except KeyboardInterrupt & co)."""
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
                value = _await(value)
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

    def run_all(self, calls: Iterable[Any]) -> list[ToolRun]:
        """Answer every call of one response, in order (one output per ``call_id``)."""
        return [self.run(call) for call in calls]

    def _result(
        self, call_id: str, name: str, arguments: Any, output: str, *, ok: bool, value: Any = None
    ) -> ToolRun:
        output = _cut(output, self.max_output_chars)
        if isinstance(arguments, dict):
            shown = ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in arguments.items())
        else:
            shown = str(arguments)
        preview = _one_line(f"{name}({shown}) → {output}", _PREVIEW_CHARS)
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


# --------------------------------------------------------------------------- magic options


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside JSON brackets and strings."""
    parts, depth, start, quote, escaped = [], 0, 0, False, False
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quote = False
        elif ch == '"':
            quote = True
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def resolve_tools(
    spec: str,
    namespace: Mapping[str, Any],
    *,
    strict: bool = False,
    max_output_chars: int = DEFAULT_MAX_OUTPUT_CHARS,
) -> ToolRegistry:
    """Build a registry from a ``--tools`` value.

    Comma-separated items, each one of: the name of a callable in ``namespace`` (dotted names
    like ``mod.func`` go through ``getattr``, never ``eval``; the tool is named after the last
    part); the name of a variable holding a spec dict or a list of spec dicts and callables;
    inline JSON (a spec object or an array of them).  Mistakes raise a one-line
    :class:`ConfigError`.
    """
    registry = ToolRegistry(strict=strict, max_output_chars=max_output_chars)
    items = _split_top_level(spec or "")
    if not any(items):
        raise ConfigError("--tools needs function names or JSON tool specs, e.g. --tools f,g")
    for item in items:
        if not item:
            raise ConfigError(f"--tools {spec!r}: empty item; separate names with single commas")
        try:
            if item[0] in "{[":
                _add_json(registry, item)
            else:
                _add_name(registry, item, namespace)
        except ConfigError as exc:
            if str(exc).startswith("--tools"):
                raise
            raise type(exc)(f"--tools: {exc}") from None
    return registry


def _add_json(registry: ToolRegistry, text: str) -> None:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ConfigError(
            f'--tools: invalid JSON ({exc}); quote it, e.g. --tools \'{{"type": "web_search"}}\''
        ) from None
    for spec in value if isinstance(value, list) else [value]:
        registry.add_spec(spec)


def _add_name(registry: ToolRegistry, dotted: str, namespace: Mapping[str, Any]) -> None:
    parts = dotted.split(".")
    if not all(p.isidentifier() and not p.startswith("__") for p in parts):
        raise ConfigError(
            f"--tools: {dotted!r} is not a name; give function names or JSON specs, "
            "e.g. --tools f,g"
        )
    if parts[0] not in namespace:
        raise ConfigError(
            f"--tools: {parts[0]!r} is not defined in the notebook; define the function first"
        )
    value = namespace[parts[0]]
    for i, part in enumerate(parts[1:], 1):
        try:
            value = getattr(value, part)
        except AttributeError:
            owner = ".".join(parts[:i])
            raise ConfigError(f"--tools: {owner!r} has no attribute {part!r}") from None
    if isinstance(value, dict):
        registry.add_spec(value)
    elif isinstance(value, (list, tuple)):
        for entry in value:
            if isinstance(entry, dict):
                registry.add_spec(entry)
            elif callable(entry):
                registry.add(entry)
            else:
                raise ConfigError(
                    f"--tools: {dotted!r} holds a {type(entry).__name__}; a tools list may hold "
                    "only functions and JSON spec dicts"
                )
    elif callable(value):
        registry.add(value, name=parts[-1])
    else:
        raise ConfigError(
            f"--tools: {dotted!r} is a {type(value).__name__}, not a function or a JSON tool spec"
        )


def tool_choice_value(text: str, registry: ToolRegistry | None = None) -> str | dict[str, Any]:
    """The request's ``tool_choice`` for a ``--tool-choice`` value.

    ``auto``/``none``/``required`` pass through; a registered function name becomes
    ``{"type": "function", "name": NAME}``; the type of a raw hosted tool (``web_search``)
    becomes ``{"type": TYPE}``; inline JSON objects pass through.  Anything else raises a
    one-line :class:`ConfigError`.
    """
    choice = (text or "").strip()
    if choice.lower() in {"auto", "none", "required"}:
        if choice.lower() == "required" and not registry:
            raise ConfigError("--tool-choice required needs tools: add --tools f,g")
        return choice.lower()
    if choice.startswith("{"):
        try:
            value = json.loads(choice)
        except ValueError as exc:
            raise ConfigError(f"--tool-choice: invalid JSON ({exc})") from None
        if not isinstance(value, dict) or "type" not in value:
            raise ConfigError('--tool-choice JSON needs a "type", e.g. {"type": "function", ...}')
        return value
    if not registry:
        raise ConfigError(f"--tool-choice {choice!r} needs --tools listing that tool")
    if choice in registry.function_names:
        return {"type": "function", "name": choice}
    if choice in registry.hosted_types:
        return {"type": choice}
    known = ", ".join(registry.function_names + registry.hosted_types)
    raise ConfigError(
        f"--tool-choice: {choice!r} is not auto, none, required or one of the tools ({known})"
    )
