"""What each row's result looks like: a schema as JSON Schema, its check, its columns.

Accepted: a dict of name -> type (``str``, ``int``, ``float``, ``bool``, ``Literal[...]``, an
``Enum``, ``Optional[...]``, anything :mod:`agcloud_magic.tools.schema` maps), a ``TypedDict``,
a dataclass, a pydantic model (recognised by its methods, so pydantic is never imported here),
or a JSON Schema object (``{"type": "object", ...}``).  Type hints go through the tools'
schema builder in strict mode (every key required, optional ones nullable, no extra keys), the
shape OpenAI's ``strict`` function tools demand; results are checked by the tools' validator
(or by pydantic itself for a pydantic model).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agcloud_magic.errors import ConfigError
from agcloud_magic.tools.schema import MISSING, object_spec, type_spec
from agcloud_magic.tools.schema_check import validate

__all__ = ["Column", "RowSchema", "row_schema"]

# Column names the result frame keeps for itself.
RESERVED = ("error",)


@dataclass(frozen=True)
class Column:
    """One result column: ``dtype`` is a pandas dtype name or ``category`` (with
    ``categories``) or ``object``."""

    name: str
    dtype: str
    categories: tuple[Any, ...] = ()


@dataclass(frozen=True)
class RowSchema:
    """``parameters`` is sent as the forced function's parameters; ``check`` returns the
    problems of one parsed result (empty when it fits); ``columns`` the frame's columns."""

    parameters: dict[str, Any]
    check: Callable[[Any], list[str]]
    columns: tuple[Column, ...]


def row_schema(schema: Any) -> RowSchema:
    """The :class:`RowSchema` for what the user gave (see the module docstring)."""
    if isinstance(schema, dict) and schema.get("type") == "object":
        parameters = copy.deepcopy(schema)
        return _made(parameters, lambda value: validate(value, parameters))
    if isinstance(schema, dict):
        if not schema:
            raise ConfigError("schema names no fields; give at least one, e.g. {'label': str}.")
        fields = [(str(name), type_spec(hint, strict=True, context=f"schema field {name!r}"),
                   MISSING) for name, hint in schema.items()]
        parameters, _ = object_spec(fields, strict=True)
        return _made(parameters, lambda value: validate(value, parameters))
    if isinstance(schema, type) and callable(getattr(schema, "model_json_schema", None)) \
            and callable(getattr(schema, "model_validate", None)):
        return _pydantic(schema)
    if isinstance(schema, type) and (dataclasses.is_dataclass(schema)
                                     or hasattr(schema, "__required_keys__")):
        parameters = type_spec(schema, strict=True, context="schema").schema
        return _made(parameters, lambda value: validate(value, parameters))
    raise ConfigError(
        "schema must be a dict of name -> type, a TypedDict, a dataclass, a pydantic model or "
        f"a JSON schema {{'type': 'object', ...}}, not {type(schema).__name__}."
    )


def _pydantic(model: type) -> RowSchema:
    parameters = model.model_json_schema()  # type: ignore[attr-defined]
    # Strict function tools refuse an object that may grow keys; pydantic leaves it unsaid.
    parameters.setdefault("additionalProperties", False)

    def check(value: Any) -> list[str]:
        try:
            model.model_validate(value)  # type: ignore[attr-defined]
        except Exception as exc:  # pydantic's ValidationError, without importing pydantic
            errors = getattr(exc, "errors", None)
            if not callable(errors):
                return [str(exc)]
            return [f"{'.'.join(map(str, e.get('loc', ()))) or 'value'}: {e.get('msg')}"
                    for e in errors()]
        return []

    return _made(parameters, check)


def _made(parameters: dict[str, Any], check: Callable[[Any], list[str]]) -> RowSchema:
    properties = parameters.get("properties")
    if not isinstance(properties, dict) or not properties:
        raise ConfigError("schema has no properties: the result needs at least one field.")
    for name in properties:
        if name in RESERVED:
            raise ConfigError(f"schema field {name!r} would hide the {name} column; rename it.")
    definitions = parameters.get("$defs") or {}
    columns = tuple(_column(str(name), prop, definitions) for name, prop in properties.items())
    return RowSchema(parameters, check, columns)


_DTYPES = {"string": "string", "integer": "Int64", "number": "Float64", "boolean": "boolean"}


def _column(name: str, prop: Any, definitions: dict[str, Any]) -> Column:
    """The column for one property: its one non-null type decides the dtype."""
    prop = _resolve(prop, definitions)
    if not isinstance(prop, dict):
        return Column(name, "object")
    options = prop.get("anyOf")
    if isinstance(options, list):  # Optional[X] as pydantic writes it
        real = [_resolve(o, definitions) for o in options if o != {"type": "null"}]
        return _column(name, real[0], definitions) if len(real) == 1 else Column(name, "object")
    enum = prop.get("enum")
    if isinstance(enum, list):
        values = tuple(dict.fromkeys(v for v in enum if v is not None))
        if values and all(isinstance(v, (str, int, float, bool)) for v in values):
            return Column(name, "category", values)
    kind = prop.get("type")
    names = [kind] if isinstance(kind, str) else [k for k in kind or () if k != "null"]
    if len(names) == 1 and names[0] in _DTYPES:
        return Column(name, _DTYPES[names[0]])
    return Column(name, "object")


def _resolve(prop: Any, definitions: dict[str, Any]) -> Any:
    """A local ``{"$ref": "#/$defs/Name"}`` replaced by its definition (pydantic's enums)."""
    ref = prop.get("$ref") if isinstance(prop, dict) else None
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return definitions.get(ref.removeprefix("#/$defs/"), prop)
    return prop
