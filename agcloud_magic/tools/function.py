"""One Python callable as a function tool: its JSON spec from the signature, type hints and
docstring, and the conversion of validated JSON arguments back into a call.  Pure."""

from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agcloud_magic.tools.docs import param_descriptions, summary_line
from agcloud_magic.tools.schema import (
    MISSING,
    OMIT,
    ToolDefinitionError,
    nullable,
    object_spec,
    type_spec,
    validate,
)

__all__ = ["FunctionTool", "compile_tool", "function_tool"]

# The API's rule for function names.
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass
class FunctionTool:
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


def compile_tool(
    fn: Callable[..., Any], name: str | None, description: str | None, strict: bool
) -> FunctionTool:
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
    text = description if description is not None else summary_line(doc)
    if text:
        tool["description"] = text
    tool["parameters"] = parameters
    tool["strict"] = strict
    return FunctionTool(name, tool, fn, converters, positional)


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
    return copy.deepcopy(compile_tool(fn, name, description, strict).spec)


# --------------------------------------------------------------------------- registry


