"""Function tools: schemas from signatures, validated calls, --tools / --tool-choice parsing."""

import dataclasses
import enum
import functools
import json
import sys
import types
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Optional, TypedDict, Union

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agcloud_magic.errors import ConfigError
from agcloud_magic.tools.docs import param_descriptions
from agcloud_magic.tools.options import resolve_tools, tool_choice_value
from agcloud_magic.tools.registry import (
    DEFAULT_MAX_ROUNDS,
    ToolRegistry,
    ToolRun,
    format_output,
    function_calls,
    function_tool,
)
from agcloud_magic.tools.schema import ToolDefinitionError, validate

# --------------------------------------------------------------------------- types used below


class Unit(enum.Enum):
    C = "celsius"
    F = "fahrenheit"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@dataclasses.dataclass
class Point:
    """A point on the plane.

    Second paragraph, not part of the description.
    """

    x: float
    y: float = 0.0


@dataclasses.dataclass
class Box:
    corner: Point
    label: Annotated[str, "Shown on the box"]
    tags: list[str] = dataclasses.field(default_factory=list)


class Filters(TypedDict, total=False):
    """Optional filters."""

    country: str
    year: int


class Query(TypedDict):
    text: str
    filters: Filters


@dataclasses.dataclass
class Node:
    value: int
    child: Optional["Node"] = None


def params(fn, **kw):
    return function_tool(fn, **kw)["parameters"]


def obj(properties, required=(), **extra):
    return {
        "type": "object",
        **extra,
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


def call(name, arguments, call_id="call_1"):
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments)
    return {"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments}


# --------------------------------------------------------------------------- schemas


def test_scalars_whole_spec():
    def add(a: int, b: float, name: str, flag: bool):
        """Add two numbers."""

    assert function_tool(add) == {
        "type": "function",
        "name": "add",
        "description": "Add two numbers.",
        "parameters": obj(
            {
                "a": {"type": "integer"},
                "b": {"type": "number"},
                "name": {"type": "string"},
                "flag": {"type": "boolean"},
            },
            ["a", "b", "name", "flag"],
        ),
        "strict": False,
    }


def test_name_description_strict_overrides():
    def f(x: int):
        """Docstring."""

    spec = function_tool(f, name="other", description="Given.", strict=True)
    assert (spec["name"], spec["description"], spec["strict"]) == ("other", "Given.", True)


def test_no_docstring_no_description():
    def f():
        pass

    assert function_tool(f) == {
        "type": "function",
        "name": "f",
        "parameters": obj({}),
        "strict": False,
    }


def test_optional_and_none():
    def f(
        a: Optional[int],  # noqa: UP045 - the typing spelling must work too
        b: str | None = None,
        c: None = None,
        d: int = None,  # noqa: RUF013 - implicit Optional, as people write it
    ):
        pass

    assert params(f) == obj(
        {
            "a": {"type": ["integer", "null"]},
            "b": {"type": ["string", "null"], "default": None},
            "c": {"type": "null", "default": None},
            "d": {"type": ["integer", "null"], "default": None},
        },
        ["a"],
    )


def test_literals_and_enums():
    def f(
        mode: Literal["fast", "slow"],
        n: Literal[1, 2, 3],
        mixed: Literal["a", 1, None],
        unit: Unit,
        level: Level = Level.LOW,
    ):
        pass

    assert params(f) == obj(
        {
            "mode": {"type": "string", "enum": ["fast", "slow"]},
            "n": {"type": "integer", "enum": [1, 2, 3]},
            "mixed": {"type": ["string", "integer", "null"], "enum": ["a", 1, None]},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "level": {"type": "integer", "enum": [1, 2], "default": 1},
        },
        ["mode", "n", "mixed", "unit"],
    )


def test_sequences_and_mappings():
    def f(
        a: list[str],
        b: tuple[int, ...],
        c: tuple[int, str],
        d: set[int],
        e: Sequence[float],
        g: list,
        h: dict[str, int],
        i: dict,
        j: Optional[Unit] = None,  # noqa: UP045
    ):
        pass

    assert params(f) == obj(
        {
            "a": {"type": "array", "items": {"type": "string"}},
            "b": {"type": "array", "items": {"type": "integer"}},
            "c": {
                "type": "array",
                "prefixItems": [{"type": "integer"}, {"type": "string"}],
                "minItems": 2,
                "maxItems": 2,
            },
            "d": {"type": "array", "items": {"type": "integer"}},
            "e": {"type": "array", "items": {"type": "number"}},
            "g": {"type": "array"},
            "h": {"type": "object", "additionalProperties": {"type": "integer"}},
            "i": {"type": "object"},
            "j": {
                "type": ["string", "null"],
                "enum": ["celsius", "fahrenheit", None],
                "default": None,
            },
        },
        list("abcdeghi"),
    )


def test_dataclass_and_typeddict_nesting():
    def f(box: Box, query: Query):
        pass

    point = obj(
        {"x": {"type": "number"}, "y": {"type": "number", "default": 0.0}},
        ["x"],
        description="A point on the plane.",
    )
    filters = obj(
        {"country": {"type": "string"}, "year": {"type": "integer"}},
        description="Optional filters.",
    )
    assert params(f) == obj(
        {
            "box": obj(
                {
                    "corner": point,
                    "label": {"type": "string", "description": "Shown on the box"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
                ["corner", "label"],
            ),
            "query": obj({"text": {"type": "string"}, "filters": filters}, ["text", "filters"]),
        },
        ["box", "query"],
    )


def test_annotated_unions_any_and_defaults():
    def f(
        city: Annotated[str, "The city"],
        either: Union[int, str],  # noqa: UP007 - the typing spelling must work too
        shape: Union[int, Point],  # noqa: UP007
        anything,
        whatever: Any = "x",
        count: Annotated[int, "How many"] = 3,
        ratio: float = 0.5,
        words: tuple[str, ...] = ("a", "b"),
        unit: Unit = Unit.F,
    ):
        pass

    assert params(f) == obj(
        {
            "city": {"type": "string", "description": "The city"},
            "either": {"type": ["integer", "string"]},
            "shape": {
                "anyOf": [
                    {"type": "integer"},
                    obj(
                        {"x": {"type": "number"}, "y": {"type": "number", "default": 0.0}},
                        ["x"],
                        description="A point on the plane.",
                    ),
                ]
            },
            "anything": {},
            "whatever": {"default": "x"},
            "count": {"type": "integer", "description": "How many", "default": 3},
            "ratio": {"type": "number", "default": 0.5},
            "words": {"type": "array", "items": {"type": "string"}, "default": ["a", "b"]},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "fahrenheit"},
        },
        ["city", "either", "shape", "anything"],
    )


def test_strict_mode_requires_everything():
    def f(a: int, b: str = "x", c: list[int] | None = None):
        pass

    assert params(f, strict=True) == obj(
        {
            "a": {"type": "integer"},
            "b": {"type": ["string", "null"]},
            "c": {"type": ["array", "null"], "items": {"type": "integer"}},
        },
        ["a", "b", "c"],
    )


def test_google_docstring():
    def f(city: str, days: int = 1, unit: Annotated[str, "From Annotated"] = "c"):
        """Get the forecast
        for a city.

        Longer explanation that is not the description.

        Args:
            city (str): The city name.
            days: How many days
                ahead to look.
            unit: Ignored: Annotated wins.

        Returns:
            Something.
        """

    spec = function_tool(f)
    assert spec["description"] == "Get the forecast for a city."
    assert spec["parameters"]["properties"] == {
        "city": {"type": "string", "description": "The city name."},
        "days": {"type": "integer", "description": "How many days ahead to look.", "default": 1},
        "unit": {"type": "string", "description": "From Annotated", "default": "c"},
    }


def test_numpy_and_sphinx_docstrings():
    numpy_doc = """Summary.

    Parameters
    ----------
    x : int
        The x value,
        on two lines.
    y
        The y value.

    Returns
    -------
    int
        Not a parameter.
    """
    assert param_descriptions(numpy_doc) == {"x": "The x value, on two lines.", "y": "The y value."}
    sphinx_doc = """Summary.

    :param x: The x
        value.
    :param int y: The y value.
    :returns: nothing
    """
    assert param_descriptions(sphinx_doc) == {"x": "The x value.", "y": "The y value."}


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (lambda *args: None, "*args"),
        (lambda **kw: None, "**kw"),
    ],
)
def test_star_parameters_are_refused(fn, words):
    with pytest.raises(TypeError, match=r"\*") as info:
        function_tool(fn, name="f")
    assert words in str(info.value)
    assert isinstance(info.value, ConfigError) and isinstance(info.value, ToolDefinitionError)
    assert "\n" not in str(info.value)


def test_bad_definitions_are_refused():
    class Opaque:
        pass

    def uses_opaque(o: Opaque):
        pass

    def uses_node(n: Node):
        pass

    def int_keys(d: dict[int, str]):
        pass

    def any_param(x):
        pass

    with pytest.raises(TypeError, match="cannot be sent as JSON"):
        function_tool(uses_opaque)
    with pytest.raises(TypeError, match="recursive"):
        function_tool(uses_node)
    with pytest.raises(TypeError, match="keys must be str"):
        function_tool(int_keys)
    with pytest.raises(TypeError, match="strict=True"):
        function_tool(any_param, strict=True)
    with pytest.raises(TypeError, match="not allowed"):
        function_tool(lambda x: x)  # "<lambda>" is not a valid tool name
    assert function_tool(lambda x: x, name="ok")["name"] == "ok"


def test_partials_classes_and_methods():
    def scale(factor: int, value: float = 1.0):
        """Scale a value."""
        return factor * value

    assert function_tool(functools.partial(scale, 2), name="double") == {
        "type": "function",
        "name": "double",
        "description": "Scale a value.",
        "parameters": obj({"value": {"type": "number", "default": 1.0}}),
        "strict": False,
    }

    @dataclasses.dataclass
    class Pair:
        a: int

    assert function_tool(Pair) == {
        "type": "function",
        "name": "Pair",
        "parameters": obj({"a": {"type": "integer"}}, ["a"]),
        "strict": False,
    }

    class Counter:
        def bump(self, by: int) -> int:
            """Bump the counter."""
            return by

    spec = function_tool(Counter().bump)
    assert spec["parameters"] == obj({"by": {"type": "integer"}}, ["by"])
    assert spec["description"] == "Bump the counter."


# --------------------------------------------------------------------------- running calls


def test_parallel_calls_each_answered_in_order():
    seen = []

    def add(a: int, b: int) -> int:
        seen.append(("add", a, b))
        return a + b

    def greet(name: str) -> dict:
        seen.append(("greet", name))
        return {"hello": name}

    registry = ToolRegistry({"add": add, "greet": greet})
    runs = registry.run_all(
        [call("add", {"a": 12, "b": 7}, "call_a"), call("greet", {"name": "Ada"}, "call_b")]
    )
    assert [r.output_item for r in runs] == [
        {"type": "function_call_output", "call_id": "call_a", "output": "19"},
        {"type": "function_call_output", "call_id": "call_b", "output": '{"hello": "Ada"}'},
    ]
    assert seen == [("add", 12, 7), ("greet", "Ada")]
    assert all(isinstance(r, ToolRun) and r.ok for r in runs)
    assert runs[0].value == 19 and runs[0].arguments == {"a": 12, "b": 7}
    assert runs[0].preview == "add(a=12, b=7) → 19"


def test_tool_that_raises_becomes_output():
    def boom(x: int):
        raise ValueError(f"bad x {x}")

    run = ToolRegistry([boom]).run(call("boom", {"x": 3}))
    assert not run.ok
    assert run.output == "Error: ValueError: bad x 3"


def test_invalid_json_is_not_called():
    called = []
    registry = ToolRegistry({"f": lambda x: called.append(x)})
    run = registry.run(call("f", '{"x": 1'))
    assert not run.ok and called == []
    assert run.output.startswith("Error: the arguments of f are not valid JSON")
    assert run.arguments == '{"x": 1'
    run = registry.run(call("f", "[1, 2]"))
    assert run.output == "Error: the arguments of f must be a JSON object."
    assert called == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"city": 5}, "city: expected string, got integer 5"),
        ({}, "missing required argument 'city'"),
        ({"city": "Oslo", "zzz": 1}, "unexpected argument 'zzz'"),
        (
            {"city": "Oslo", "unit": "kelvin"},
            'unit: "kelvin" is not one of "celsius", "fahrenheit"',
        ),
        ({"city": "Oslo", "days": True}, "days: expected integer, got boolean true"),
        ({"city": "Oslo", "days": 1.5}, "days: expected integer, got number 1.5"),
        ({"city": "Oslo", "at": {"y": 1}}, "at: missing required key 'x'"),
        ({"city": "Oslo", "at": {"x": 1, "z": 2}}, "at: unexpected key 'z'"),
        ({"city": "Oslo", "at": {"x": "1"}}, "at.x: expected number, got string"),
        ({"city": "Oslo", "tags": ["a", 2]}, "tags[1]: expected string, got integer 2"),
        ({"city": "Oslo", "pair": [1]}, "pair: expected 2 items, got 1"),
        ({"city": "Oslo", "pair": [1, 2]}, "pair[1]: expected string, got integer 2"),
    ],
)
def test_validation_errors_are_output_and_not_called(arguments, message):
    called = []

    def weather(
        city: str,
        unit: Unit = Unit.C,
        days: int = 1,
        at: Point | None = None,
        tags: list[str] = (),
        pair: tuple[int, str] = (0, ""),
    ):
        called.append(city)

    run = ToolRegistry([weather]).run(call("weather", arguments))
    assert not run.ok and called == []
    assert run.output.startswith("Error: invalid arguments for weather: ")
    assert message in run.output


def test_coercion_to_python_values():
    got = {}

    def plan(
        unit: Unit,
        level: Level,
        box: Box,
        pair: tuple[int, str],
        ids: set[int],
        ratio: float,
        count: int,
        query: Query,
        mode: Literal["a", "b"] = "a",
    ):
        got.update(locals())
        return "done"

    arguments = {
        "unit": "fahrenheit",
        "level": 2,
        "box": {"corner": {"x": 1}, "label": "L"},
        "pair": [1, "one"],
        "ids": [3, 3, 4],
        "ratio": 2,
        "count": 4.0,
        "query": {"text": "q", "filters": {"year": 2020}},
    }
    run = ToolRegistry([plan]).run(call("plan", arguments))
    assert run.ok, run.output
    assert got["unit"] is Unit.F and got["level"] is Level.HIGH
    assert got["box"] == Box(corner=Point(1.0, 0.0), label="L", tags=[])
    assert isinstance(got["box"].corner, Point)
    assert got["pair"] == (1, "one") and got["ids"] == {3, 4}
    assert got["ratio"] == 2.0 and isinstance(got["ratio"], float)
    assert got["count"] == 4 and isinstance(got["count"], int)
    assert got["query"] == {"text": "q", "filters": {"year": 2020}}
    assert got["mode"] == "a"


def test_strict_null_means_default_and_positional_only():
    def f(a: int, /, b: list[int] | None = None, c: str = "dflt"):
        return [a, b, c]

    registry = ToolRegistry([f], strict=True)
    run = registry.run(call("f", {"a": 1, "b": None, "c": None}))
    assert run.ok and run.value == [1, None, "dflt"]


def test_unknown_tool_runs_nothing(monkeypatch):
    fired = []

    def sentinel():
        fired.append(True)

    def allowed():
        return "ok"

    namespace = {"sentinel": sentinel, "allowed": allowed}
    registry = resolve_tools("allowed", namespace)
    # Also make the sentinel reachable as a module global: it still must not run.
    monkeypatch.setattr(sys.modules[__name__], "sentinel", sentinel, raising=False)
    run = registry.run(call("sentinel", {}))
    assert not run.ok and fired == []
    assert run.output_item == {
        "type": "function_call_output",
        "call_id": "call_1",
        "output": "Error: there is no tool named 'sentinel'; the available tools are: allowed.",
    }
    run = registry.run(call("__import__('os').system('true')", {}))
    assert not run.ok and fired == []


def test_raw_specs_pass_through_and_cannot_run():
    web = {"type": "web_search"}
    declared = {
        "type": "function",
        "name": "remote",
        "parameters": {"type": "object", "properties": {}},
        "custom": [1, 2],
    }

    def local(x: int):
        return x

    registry = ToolRegistry([local, web], specs=[declared])
    specs = registry.specs()
    assert specs[1] == web and specs[2] == declared
    assert specs[0] == function_tool(local)
    specs[1]["type"] = "changed"  # the copies are the caller's to edit
    assert registry.specs()[1] == web
    run = registry.run(call("remote", {}))
    assert not run.ok and "no Python function" in run.output
    assert registry.function_names == ["local", "remote"]
    assert registry.hosted_types == ["web_search"]
    assert registry.runs_functions() and "local" in registry and "remote" not in registry
    assert not ToolRegistry([web]).runs_functions()
    assert not ToolRegistry([declared]).runs_functions()  # a raw function spec: not ours to run


def test_duplicate_and_malformed_specs():
    def f():
        pass

    with pytest.raises(ConfigError, match="two tools are named 'f'"):
        ToolRegistry([f], specs=[{"type": "function", "name": "f"}])
    with pytest.raises(ConfigError, match='needs a "type"'):
        ToolRegistry(specs=[{"name": "x"}])
    with pytest.raises(ConfigError, match='needs a "name"'):
        ToolRegistry(specs=[{"type": "function"}])


def test_outputs_are_text(monkeypatch):
    assert format_output("plain") == "plain"
    assert format_output(None) == "null"
    assert format_output({"a": (1, 2), "u": Unit.C, "p": Point(1, 2)}) == (
        '{"a": [1, 2], "u": "celsius", "p": {"x": 1, "y": 2}}'
    )
    assert format_output(True) == "true"
    assert format_output(2.5) == "2.5"

    class Thing:
        def __str__(self):
            return "a thing"

    assert format_output(Thing()) == "a thing"
    cut = format_output("x" * 50_000, 1000)
    assert len(cut) <= 1000 and cut.startswith("xxx") and "output cut" in cut
    assert "of 50,000 characters" in cut

    # pandas values go through dataframes.to_model_text when it exists ...
    frame = type("DataFrame", (), {"__module__": "pandas.core.frame"})()
    fake = types.ModuleType("agcloud_magic.dataframes")
    fake.to_model_text = lambda value: "SUMMARY"
    monkeypatch.setitem(sys.modules, "agcloud_magic.dataframes", fake)
    assert format_output(frame) == "SUMMARY"
    # ... and fall back to str() when it does not.
    monkeypatch.setitem(sys.modules, "agcloud_magic.dataframes", None)
    assert format_output(frame) == str(frame)


def test_long_output_is_cut_in_the_item():
    registry = ToolRegistry({"big": lambda: "y" * 30_000}, max_output_chars=500)
    run = registry.run(call("big", ""))  # empty arguments mean "no arguments"
    assert run.ok and len(run.output) <= 500 and "output cut" in run.output


def test_async_tool_and_attribute_style_call():
    async def slow(x: int) -> int:
        return x * 2

    item = types.SimpleNamespace(
        type="function_call", call_id="c9", name="slow", arguments='{"x": 4}'
    )
    run = ToolRegistry([slow]).run(item)
    assert run.ok and run.output_item == {
        "type": "function_call_output",
        "call_id": "c9",
        "output": "8",
    }
    assert function_calls([{"type": "message"}, item]) == [item]


def test_default_max_rounds():
    assert DEFAULT_MAX_ROUNDS == 8


# --------------------------------------------------------------------------- --tools parsing


def test_resolve_tools_names_dotted_and_json():
    def get_weather(city: str):
        return city

    helpers = types.SimpleNamespace(square=lambda x: x * x)
    namespace = {
        "get_weather": get_weather,
        "helpers": helpers,
        "sq": lambda x: x,
        "search": {"type": "web_search"},
        "kit": [{"type": "file_search", "vector_store_ids": ["vs_1"]}, get_weather],
    }
    registry = resolve_tools(
        'get_weather, helpers.square ,sq, search, {"type": "code_interpreter", "a": [1, 2]}',
        namespace,
    )
    assert [s.get("name", s["type"]) for s in registry.specs()] == [
        "get_weather",
        "square",
        "sq",
        "web_search",
        "code_interpreter",
    ]
    assert registry.specs()[4] == {"type": "code_interpreter", "a": [1, 2]}
    assert registry.run(call("square", {"x": 3})).output == "9"
    registry = resolve_tools('[{"type": "web_search"}, {"type": "image_generation"}]', {})
    assert registry.hosted_types == ["web_search", "image_generation"]
    registry = resolve_tools("kit", namespace)
    assert registry.function_names == ["get_weather"] and registry.hosted_types == ["file_search"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("foo", "--tools: 'foo' is not defined in the notebook; define the function first"),
        ("number", "--tools: 'number' is a int, not a function or a JSON tool spec"),
        ("f,", "empty item"),
        ("", "--tools needs function names"),
        ("os.system('x')", "is not a name"),
        ("f.__globals__", "is not a name"),
        ("f.nothing", "--tools: 'f' has no attribute 'nothing'"),
        ('{"type": ', "--tools: invalid JSON"),
        ('{"name": "x"}', 'needs a "type"'),
        ("f,f", "two tools are named 'f'"),
        ("star", "*args"),
        ("mixed", "a tools list may hold only functions"),
    ],
)
def test_resolve_tools_errors(spec, message):
    def f(x: int):
        return x

    def star(*args):
        pass

    namespace = {"f": f, "number": 3, "star": star, "mixed": [f, 3]}
    with pytest.raises(ConfigError) as info:
        resolve_tools(spec, namespace)
    text = str(info.value)
    assert message in text and "\n" not in text and text.startswith("--tools")


def test_tool_choice_values():
    def f():
        pass

    registry = ToolRegistry([f, {"type": "web_search"}])
    assert tool_choice_value("auto", registry) == "auto"
    assert tool_choice_value(" NONE ", None) == "none"
    assert tool_choice_value("required", registry) == "required"
    assert tool_choice_value("f", registry) == {"type": "function", "name": "f"}
    assert tool_choice_value("web_search", registry) == {"type": "web_search"}
    assert tool_choice_value('{"type": "function", "name": "f"}', registry) == {
        "type": "function",
        "name": "f",
    }
    with pytest.raises(ConfigError, match="'g' is not auto, none, required or one of the tools"):
        tool_choice_value("g", registry)
    with pytest.raises(ConfigError, match="needs --tools"):
        tool_choice_value("f", None)
    with pytest.raises(ConfigError, match="required needs tools"):
        tool_choice_value("required", ToolRegistry())


# --------------------------------------------------------------------------- properties

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)
_KEYS = ["city", "unit", "days", "at", "tags", "pair", "query", "either", "extra"]


def _everything(
    city: str,
    unit: Unit = Unit.C,
    days: int = 1,
    at: Point | None = None,
    tags: list[str] = (),
    pair: tuple[int, str] = (0, ""),
    query: Query | None = None,
    either: Union[int, Box, None] = None,  # noqa: UP007
):
    return {"city": city, "unit": unit, "at": at, "pair": pair, "either": either}


_SCHEMA = function_tool(_everything)["parameters"]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    arguments=st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=5), json_values, max_size=6)
    | json_values,
    mangle=st.booleans(),
)
def test_any_arguments_give_output_never_raise(arguments, mangle):
    registry = ToolRegistry([_everything])
    text = json.dumps(arguments)
    if mangle:
        text = text[: len(text) // 2]
    run = registry.run(call("_everything", text))
    assert isinstance(run.output, str) and run.output_item["call_id"] == "call_1"
    valid = not mangle and isinstance(arguments, dict) and not validate(arguments, _SCHEMA)
    # Valid arguments always convert and call; anything else is refused with an error text.
    assert run.ok == valid, run.output
    if not run.ok:
        assert run.output.startswith("Error: ")


@settings(max_examples=200, deadline=None)
@given(
    st.fixed_dictionaries(
        {"city": st.text(max_size=5)},
        optional={
            "unit": st.sampled_from([u.value for u in Unit]),
            "days": st.integers(),
            "at": st.none() | st.fixed_dictionaries({"x": st.floats(allow_nan=False)}),
            "pair": st.tuples(st.integers(), st.text(max_size=3)).map(list),
            "either": st.none() | st.integers(),
        },
    )
)
def test_valid_arguments_round_trip(arguments):
    run = ToolRegistry([_everything]).run(call("_everything", arguments))
    assert run.ok, run.output
    assert run.value["city"] == arguments["city"]
    assert run.value["unit"] is Unit(arguments.get("unit", "celsius"))
    assert isinstance(run.value["pair"], tuple)


def test_json_booleans_are_not_numbers():
    def pick(v: Literal[1, True, "x"]):
        return repr(v)

    registry = ToolRegistry([pick])
    assert registry.run(call("pick", {"v": True})).output == "True"
    assert registry.run(call("pick", {"v": 1})).output == "1"
    assert not validate(1.0, {"type": "integer", "enum": [1]})
    assert validate(True, {"type": ["integer", "boolean"], "enum": [1]})
    assert validate(0, {"type": ["integer", "boolean"], "enum": [False]})
