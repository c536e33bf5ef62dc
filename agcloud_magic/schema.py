"""Python type hints -> JSON Schema, a validator for exactly that schema subset, and coercion back.

Pure: no I/O, no IPython.  One walk over an annotation (:func:`type_spec`) produces both the
schema the model sees and the converter that turns validated JSON back into Python values, so the
two cannot drift apart.  The validator (:func:`validate`) knows only the keywords generated here:
``type`` (a name or a list of names), ``enum``, ``properties``, ``required``,
``additionalProperties`` (``false`` or a schema), ``items``, ``prefixItems``, ``minItems``,
``maxItems`` and ``anyOf``; ``description`` and ``default`` are annotations only.

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

from .errors import ConfigError

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


# --------------------------------------------------------------------------- JSON helpers


def json_type_name(value: Any) -> str:
    """The JSON type name of a parsed JSON value (``integer`` vs ``number`` as JSON Schema says)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _is_type(value: Any, name: str) -> bool:
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "integer":
        # JSON Schema counts 2.0 as an integer; bool is an int subclass in Python, not in JSON.
        if isinstance(value, float):
            return value.is_integer()
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "string":
        return isinstance(value, str)
    if name == "array":
        return isinstance(value, list)
    if name == "object":
        return isinstance(value, dict)
    return False


def json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON sees it: ``true`` is not ``1`` (Python's ``True == 1`` must not leak in)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def _short(value: Any, limit: int = 60) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- validation


def validate(value: Any, schema: dict[str, Any], where: str = "") -> list[str]:
    """Check ``value`` (parsed JSON) against ``schema``; return readable errors, empty if valid.

    Only the keywords this module generates are understood; others are ignored.
    """
    errors: list[str] = []
    _validate(value, schema, where, errors)
    return errors


def _at(where: str) -> str:
    return f"{where}: " if where else ""


def _validate(value: Any, schema: dict[str, Any], where: str, errors: list[str]) -> None:
    if "anyOf" in schema:
        if not any(not validate(value, option, where) for option in schema["anyOf"]):
            errors.append(f"{_at(where)}{_short(value)} matches none of the allowed types")
        return
    types_ = schema.get("type")
    if types_ is not None:
        names = [types_] if isinstance(types_, str) else list(types_)
        if not any(_is_type(value, name) for name in names):
            errors.append(
                f"{_at(where)}expected {' or '.join(names)}, got {json_type_name(value)} "
                f"{_short(value)}"
            )
            return
    if "enum" in schema and not any(json_equal(value, option) for option in schema["enum"]):
        allowed = ", ".join(_short(option, 30) for option in schema["enum"])
        errors.append(f"{_at(where)}{_short(value)} is not one of {allowed}")
        return
    if isinstance(value, dict):
        _validate_object(value, schema, where, errors)
    elif isinstance(value, list):
        _validate_array(value, schema, where, errors)


def _validate_object(value: dict, schema: dict[str, Any], where: str, errors: list[str]) -> None:
    properties = schema.get("properties", {})
    what = "key" if where else "argument"
    for key in schema.get("required", ()):
        if key not in value:
            errors.append(f"{_at(where)}missing required {what} {key!r}")
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        inner = f"{where}.{key}" if where else str(key)
        if key in properties:
            _validate(item, properties[key], inner, errors)
        elif extra is False:
            errors.append(f"{_at(where)}unexpected {what} {key!r}")
        elif isinstance(extra, dict):
            _validate(item, extra, inner, errors)


def _validate_array(value: list, schema: dict[str, Any], where: str, errors: list[str]) -> None:
    low, high = schema.get("minItems"), schema.get("maxItems")
    if (low is not None and len(value) < low) or (high is not None and len(value) > high):
        wanted = str(low) if low == high else f"{low or 0} to {high if high is not None else '∞'}"
        errors.append(f"{_at(where)}expected {wanted} items, got {len(value)}")
        return
    prefix = schema.get("prefixItems", [])
    for index, item in enumerate(value):
        inner = f"{where}[{index}]"
        if index < len(prefix):
            _validate(item, prefix[index], inner, errors)
        elif "items" in schema:
            _validate(item, schema["items"], inner, errors)


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
