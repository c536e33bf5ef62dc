"""Python type hints -> JSON Schema, a validator for exactly that schema subset, and coercion back.

Pure: no I/O, no IPython.  One walk over an annotation (:func:`type_spec`) produces both the
schema the model sees and the converter that turns validated JSON back into Python values, so the
two cannot drift apart.  The validator for exactly that subset, :func:`validate`, lives in
:mod:`agcloud_magic.tools.schema_check`.

Supported annotations: ``int``, ``float``, ``str``, ``bool``, ``None``, ``Any``/``object``/no
annotation (anything), ``Optional[X]``/``X | None``, other unions, ``Literal[...]``, ``Enum``
subclasses, ``list``/``Sequence``/``set``/``frozenset``/``tuple`` (homogeneous or fixed),
``dict[str, X]``/``Mapping[str, X]``, dataclasses, ``TypedDict`` and ``Annotated[X, "text"]``.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import enum
import inspect
import json
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from agcloud_magic.errors import ConfigError
from agcloud_magic.tools.schema_check import _short, json_equal, json_type_name, validate

__all__ = [
    "ANY",
    "MISSING",
    "OMIT",
    "NoneType",
    "ToolDefinitionError",
    "TypeSpec",
    "first_paragraph",
    "json_default",
    "nullable",
    "object_spec",
    "type_spec",
]

NoneType = type(None)


class _Marker:
    """A named sentinel (shows its name in reprs)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


# A required field (no default).
MISSING = _Marker("missing")
# What ``null`` for an optional key converts to in strict mode: "leave the key out", so the
# Python default applies (a shared replacement value would leak mutable defaults between calls).
OMIT = _Marker("omit")


class ToolDefinitionError(ConfigError, TypeError):
    """A callable cannot become a function tool (``*args``, an unsupported annotation, a bad name).

    A :class:`TypeError` for Python callers and a :class:`ConfigError` (one line, no traceback)
    for the magic.
    """


@dataclass(frozen=True)
class TypeSpec:
    """The JSON Schema for one annotation and the function that turns valid JSON into Python."""

    schema: dict[str, Any]
    convert: Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


ANY = TypeSpec({}, _identity)

# Abstract and concrete sequence origins -> the Python container to build.
_SEQUENCES: dict[Any, Callable[[list[Any]], Any]] = {
    list: list,
    set: set,
    frozenset: frozenset,
    cabc.Sequence: list,
    cabc.MutableSequence: list,
    cabc.Iterable: list,
    cabc.Collection: list,
    cabc.Set: frozenset,
    cabc.MutableSet: set,
}
_MAPPINGS = {dict, cabc.Mapping, cabc.MutableMapping}
_TYPED_DICT_WRAPPERS = {"Required", "NotRequired", "ReadOnly"}


# --------------------------------------------------------------------------- schema generation


def type_spec(hint: Any, *, strict: bool = False, context: str = "", _seen: tuple = ()) -> TypeSpec:
    """Map one annotation to its :class:`TypeSpec`; ``context`` names it in error messages.

    Raises :class:`ToolDefinitionError` for an annotation that cannot travel as JSON.
    """
    origin, args = get_origin(hint), get_args(hint)
    if origin is Annotated:
        spec = type_spec(args[0], strict=strict, context=context, _seen=_seen)
        # A plain string is the description; so is a ``description`` attribute (pydantic Field).
        texts = [m if isinstance(m, str) else getattr(m, "description", None) for m in args[1:]]
        return _with_description(spec, next((t for t in texts if isinstance(t, str)), None))
    if getattr(origin, "_name", None) in _TYPED_DICT_WRAPPERS:
        return type_spec(args[0], strict=strict, context=context, _seen=_seen)
    if hint in (Any, object, inspect.Parameter.empty):
        if strict:
            raise ToolDefinitionError(
                f"{context}: strict=True needs a concrete type annotation (not Any or none)"
            )
        return ANY
    if hint is None or hint is NoneType:
        return TypeSpec({"type": "null"}, _identity)
    if hint is bool:
        return TypeSpec({"type": "boolean"}, _identity)
    if hint is int:
        return TypeSpec({"type": "integer"}, int)
    if hint is float:
        return TypeSpec({"type": "number"}, float)
    if hint is str:
        return TypeSpec({"type": "string"}, _identity)
    if origin is Literal:
        return _literal_spec(args, context)
    if origin is Union or (hasattr(types, "UnionType") and origin is types.UnionType):
        return _union_spec(args, strict, context, _seen)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _enum_spec(hint, context)
    if hint is tuple or origin is tuple:
        return _tuple_spec(args, strict, context, _seen)
    if hint in _SEQUENCES or origin in _SEQUENCES:
        build = _SEQUENCES[origin if origin in _SEQUENCES else hint]
        if not args:
            return TypeSpec({"type": "array"}, build)
        item = type_spec(args[0], strict=strict, context=f"{context}[]", _seen=_seen)
        return TypeSpec(
            {"type": "array", "items": item.schema},
            lambda value: build(item.convert(v) for v in value),
        )
    if hint in _MAPPINGS or origin in _MAPPINGS:
        return _mapping_spec(args, strict, context, _seen)
    if isinstance(hint, type) and (dataclasses.is_dataclass(hint) or _is_typeddict(hint)):
        if hint in _seen:
            raise ToolDefinitionError(
                f"{context}: recursive type {hint.__name__} cannot be described as a tool schema"
            )
        if dataclasses.is_dataclass(hint):
            return _dataclass_spec(hint, strict, context, (*_seen, hint))
        return _typeddict_spec(hint, strict, context, (*_seen, hint))
    shown = getattr(hint, "__name__", None) or repr(hint)
    raise ToolDefinitionError(
        f"{context}: type {shown} cannot be sent as JSON; use str, int, float, bool, list, dict, "
        "Literal, an Enum, a dataclass or a TypedDict"
    )


def _is_typeddict(tp: type) -> bool:
    return issubclass(tp, dict) and hasattr(tp, "__required_keys__")


def _with_description(spec: TypeSpec, text: str | None) -> TypeSpec:
    if not text:
        return spec
    return TypeSpec({**spec.schema, "description": text}, spec.convert)


def nullable(spec: TypeSpec, *, replacement: Any = None) -> TypeSpec:
    """Allow ``null`` as well; ``null`` converts to ``replacement`` (default ``None``)."""
    schema = dict(spec.schema)
    if not {"type", "anyOf", "enum"} & schema.keys() and replacement is None:
        return spec  # already accepts anything, null included
    if "anyOf" in schema:
        schema["anyOf"] = [*schema["anyOf"], {"type": "null"}]
    elif "type" in schema:
        names = [schema["type"]] if isinstance(schema["type"], str) else list(schema["type"])
        schema["type"] = names if "null" in names else [*names, "null"]
        if "enum" in schema and not any(v is None for v in schema["enum"]):
            schema["enum"] = [*schema["enum"], None]
    else:
        description = schema.pop("description", None)
        schema = {"anyOf": [schema, {"type": "null"}]}
        if description:
            schema["description"] = description

    def convert(value: Any) -> Any:
        return replacement if value is None else spec.convert(value)

    return TypeSpec(schema, convert)


def _json_literal(value: Any, context: str) -> Any:
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ToolDefinitionError(f"{context}: value {value!r} cannot be sent as JSON")


def _choices_spec(values: list[Any], pythons: list[Any], context: str) -> TypeSpec:
    names: list[str] = []
    for value in values:
        name = json_type_name(value)
        if name not in names:
            names.append(name)
    if "integer" in names and "number" in names:
        names.remove("integer")  # number already covers it

    def convert(value: Any) -> Any:
        for json_value, python_value in zip(values, pythons, strict=True):
            if json_equal(value, json_value):
                return python_value
        raise ValueError(f"{_short(value)} is not an allowed value")

    type_ = names[0] if len(names) == 1 else names
    return TypeSpec({"type": type_, "enum": list(values)}, convert)


def _literal_spec(args: tuple, context: str) -> TypeSpec:
    values = [_json_literal(arg, context) for arg in args]
    return _choices_spec(values, list(args), context)


def _enum_spec(cls: type[enum.Enum], context: str) -> TypeSpec:
    members = list(cls)
    if not members:
        raise ToolDefinitionError(f"{context}: enum {cls.__name__} has no members")
    values = [_json_literal(member.value, f"{context} ({cls.__name__})") for member in members]
    return _choices_spec(values, members, context)


def _union_spec(args: tuple, strict: bool, context: str, seen: tuple) -> TypeSpec:
    members = [a for a in args if a is not NoneType and a is not None]
    has_none = len(members) < len(args)
    specs = [type_spec(m, strict=strict, context=context, _seen=seen) for m in members]
    if len(specs) == 1:
        spec = specs[0]
    elif any(not s.schema for s in specs):
        spec = ANY
    elif all(set(s.schema) == {"type"} and isinstance(s.schema["type"], str) for s in specs):
        # Plain scalars merge into one "type" list, the compact form models handle best.
        spec = TypeSpec({"type": [s.schema["type"] for s in specs]}, _union_convert(specs))
    else:
        spec = TypeSpec({"anyOf": [s.schema for s in specs]}, _union_convert(specs))
    return nullable(spec) if has_none else spec


def _union_convert(specs: list[TypeSpec]) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        for spec in specs:
            if not validate(value, spec.schema):
                return spec.convert(value)
        return value

    return convert


def _tuple_spec(args: tuple, strict: bool, context: str, seen: tuple) -> TypeSpec:
    if not args:
        return TypeSpec({"type": "array"}, tuple)
    if len(args) == 2 and args[1] is Ellipsis:
        item = type_spec(args[0], strict=strict, context=f"{context}[]", _seen=seen)
        return TypeSpec(
            {"type": "array", "items": item.schema},
            lambda value: tuple(item.convert(v) for v in value),
        )
    if args == ((),):  # tuple[()]: the empty tuple
        args = ()
    items = [type_spec(a, strict=strict, context=f"{context}[]", _seen=seen) for a in args]
    schema = {
        "type": "array",
        "prefixItems": [item.schema for item in items],
        "minItems": len(items),
        "maxItems": len(items),
    }
    return TypeSpec(
        schema, lambda value: tuple(i.convert(v) for i, v in zip(items, value, strict=True))
    )


def _mapping_spec(args: tuple, strict: bool, context: str, seen: tuple) -> TypeSpec:
    if strict:
        raise ToolDefinitionError(
            f"{context}: strict=True cannot describe a free-form dict; use a dataclass or TypedDict"
        )
    if not args:
        return TypeSpec({"type": "object"}, dict)
    if args[0] not in (str, Any):
        raise ToolDefinitionError(f"{context}: dict keys must be str (JSON object keys are text)")
    value = type_spec(args[1], context=f"{context}[]", _seen=seen)
    schema: dict[str, Any] = {"type": "object"}
    if value.schema:
        schema["additionalProperties"] = value.schema
    return TypeSpec(schema, lambda obj: {k: value.convert(v) for k, v in obj.items()})


def json_default(value: Any) -> tuple[bool, Any]:
    """``(True, json_value)`` if a Python default can be shown in a schema, else ``(False, _)``."""
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, (tuple, frozenset, set)):
        value = list(value)
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False, None
    return True, value


def object_spec(
    fields: list[tuple[str, TypeSpec, Any]],
    *,
    strict: bool,
    description: str | None = None,
) -> tuple[dict[str, Any], dict[str, Callable[[Any], Any]]]:
    """Build an object schema from ``(name, spec, default)`` triples.

    ``default`` is :data:`MISSING` for a required key, else the Python default (shown in the
    schema when it is JSON) or :data:`OMIT`.  Returns the schema and per-key converters.  With
    ``strict`` every key is required (the OpenAI strict-mode rule) and optional keys become
    nullable, ``null`` converting to :data:`OMIT` ("use the default").
    """
    schema: dict[str, Any] = {"type": "object"}
    if description:
        schema["description"] = description
    properties: dict[str, Any] = {}
    required: list[str] = []
    converters: dict[str, Callable[[Any], Any]] = {}
    for name, spec, default in fields:
        if default is MISSING:
            required.append(name)
        elif strict:
            spec = nullable(spec, replacement=OMIT)
            required.append(name)
        else:
            ok, shown = json_default(default)
            if ok:
                spec = TypeSpec({**spec.schema, "default": shown}, spec.convert)
        properties[name] = spec.schema
        converters[name] = spec.convert
    schema.update(properties=properties, required=required, additionalProperties=False)
    return schema, converters


def _class_doc(cls: type) -> str | None:
    doc = cls.__doc__
    # dataclass() invents "Name(x: int, ...)" when there is no docstring: not a description.
    if not doc or doc.startswith(f"{cls.__name__}("):
        return None
    return first_paragraph(doc)


def first_paragraph(doc: str | None) -> str:
    """The first paragraph of a docstring, joined onto one line."""
    lines: list[str] = []
    for line in inspect.cleandoc(doc or "").splitlines():
        if not line.strip():
            if lines:
                break
            continue
        lines.append(line.strip())
    return " ".join(lines)


def _hints(obj: Any, context: str) -> dict[str, Any]:
    try:
        return typing.get_type_hints(obj, include_extras=True)
    except Exception as exc:  # NameError for forward refs, TypeError for odd objects
        raise ToolDefinitionError(
            f"{context}: cannot read its type annotations ({type(exc).__name__}: {exc}); define "
            "the types it uses at the top level of the notebook"
        ) from exc


def _dataclass_spec(cls: type, strict: bool, context: str, seen: tuple) -> TypeSpec:
    hints = _hints(cls, f"{context} ({cls.__name__})")
    fields = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        hint = hints.get(f.name, Any)
        spec = type_spec(hint, strict=strict, context=f"{context}.{f.name}", _seen=seen)
        if "description" not in spec.schema:
            spec = _with_description(spec, f.metadata.get("description"))
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = OMIT  # not shown: a factory's value may differ per call
        else:
            default = MISSING
        fields.append((f.name, spec, default))
    schema, converters = object_spec(fields, strict=strict, description=_class_doc(cls))

    def convert(value: dict[str, Any]) -> Any:
        kwargs = {k: converters[k](v) for k, v in value.items()}
        return cls(**{k: v for k, v in kwargs.items() if v is not OMIT})

    return TypeSpec(schema, convert)


def _typeddict_spec(cls: type, strict: bool, context: str, seen: tuple) -> TypeSpec:
    hints = _hints(cls, f"{context} ({cls.__name__})")
    required_keys = cls.__required_keys__
    fields = []
    for key, hint in hints.items():
        spec = type_spec(hint, strict=strict, context=f"{context}.{key}", _seen=seen)
        fields.append((key, spec, MISSING if key in required_keys else OMIT))
    schema, converters = object_spec(fields, strict=strict, description=_class_doc(cls))

    def convert(value: dict[str, Any]) -> Any:
        out = {k: converters[k](v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not OMIT}

    return TypeSpec(schema, convert)
