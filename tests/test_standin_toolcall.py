"""The echo model calls a tool the user asks for in plain words (standin/toolcall.py's rule)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from .magic_support import posts, run_cell

KEY = "sk-test-toolcall-0000"
REPO = Path(__file__).resolve().parents[1]
TOP = {
    "type": "function", "name": "top_customers",
    "description": "The n best customers, optionally in one region.",
    "parameters": {"type": "object", "properties": {
        "n": {"type": "integer", "default": 5},
        "region": {"type": ["string", "null"], "enum": ["north", "south", None], "default": None},
    }, "required": [], "additionalProperties": False},
    "strict": False,
}
WEATHER = {
    "type": "function", "name": "get_weather", "description": "Weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"], "additionalProperties": False},
}
ADD = {
    "type": "function", "name": "add", "description": "Add two integers.",
    "parameters": {"type": "object", "properties": {"a": {"type": "integer"},
                                                    "b": {"type": "integer"}},
                   "required": ["a", "b"]},
}


def _create(srv: Any, **body: Any) -> dict[str, Any]:
    response = httpx.post(f"{srv.base_url}/responses", json={"model": "echo", **body},
                          headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def _calls(response: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(item["name"], json.loads(item["arguments"]))
            for item in response["output"] if item["type"] == "function_call"]


@pytest.mark.parametrize(("prompt", "tools", "expected"), [
    ("Who are our best customers in the north?", [TOP], [("top_customers", {"region": "north"})]),
    ("Show me the top 3 customers in the South.", [TOP],
     [("top_customers", {"n": 3, "region": "south"})]),
    ("Run top_customers please.", [TOP], [("top_customers", {})]),
    ("What is the weather in the city=Paris?", [TOP, WEATHER],
     [("get_weather", {"city": "Paris"})]),
    ('Weather for the city of "New York"?', [WEATHER], [("get_weather", {"city": "New York"})]),
    ("Please add 2 and 40.", [ADD, WEATHER], [("add", {"a": 2, "b": 40})]),
    ("Best customers, and the weather for city Oslo.", [TOP, WEATHER],
     [("top_customers", {}), ("get_weather", {"city": "Oslo"})]),
])
def test_plain_words_call_the_tool_with_arguments_from_the_prompt(
    standin: Any, prompt: str, tools: list[dict[str, Any]], expected: list[Any]
) -> None:
    assert _calls(_create(standin, input=prompt, tools=tools)) == expected


@pytest.mark.parametrize(("prompt", "extra"), [
    ("Hello there, how are you?", {}),  # nothing of the tools is mentioned
    ("Who are our best customers?", {"tool_choice": "none"}),
    ("The customers.", {}),  # one shared keyword is not enough
])
def test_no_match_is_the_plain_echo(standin: Any, prompt: str, extra: dict[str, Any]) -> None:
    response = _create(standin, input=prompt, tools=[TOP, WEATHER], **extra)
    assert _calls(response) == []
    assert f"You said: {prompt}" in response["output"][0]["content"][0]["text"]


def test_allowed_tools_and_parallel_false_limit_the_calls(standin: Any) -> None:
    prompt = "Best customers, and the weather for city Oslo."
    one = _create(standin, input=prompt, tools=[TOP, WEATHER], parallel_tool_calls=False)
    assert [name for name, _ in _calls(one)] == ["top_customers"]
    only = _create(standin, input=prompt, tools=[TOP, WEATHER], tool_choice={
        "type": "allowed_tools", "mode": "auto",
        "tools": [{"type": "function", "name": "get_weather"}]})
    assert [name for name, _ in _calls(only)] == ["get_weather"]


def test_a_forced_call_reads_the_prompt_too(standin: Any) -> None:
    forced = _create(standin, input="for 7 and 8", tools=[ADD], tool_choice="required")
    assert _calls(forced) == [("add", {"a": 7, "b": 8})]
    placeholder = _create(standin, input="anything", tools=[WEATHER], tool_choice={
        "type": "function", "name": "get_weather"})
    assert _calls(placeholder) == [("get_weather", {"city": "example"})]


def test_the_tool_output_comes_back_in_the_answer(standin: Any) -> None:
    first = _create(standin, input="Who are our best customers in the north?", tools=[TOP])
    ((call_id,),) = [(i["call_id"],) for i in first["output"] if i["type"] == "function_call"]
    second = _create(standin, tools=[TOP], previous_response_id=first["id"], input=[
        {"type": "function_call_output", "call_id": call_id, "output": '[{"name": "Ada"}]'}])
    text = second["output"][0]["content"][0]["text"]
    assert 'Tool results: top_customers -> [{"name": "Ada"}]' in text
    assert _calls(second) == []  # answered in text: the loop ends


# -- through %%respond --tools, with real kernel functions -----------------------------------


def _readme_example() -> tuple[str, str]:
    """The README's tools example: (the function's definition, the cell)."""
    readme = (REPO / "README.md").read_text("utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    at = next(i for i, b in enumerate(blocks) if "def top_customers" in b)
    # The definition's cell loads the extension first (the shell here has it already).
    definition = "\n".join(line for line in blocks[at].splitlines() if not line.startswith("%"))
    return definition, blocks[at + 1]


def test_the_readme_tools_example_runs_the_function(ip: Any, srv: Any) -> None:
    definition, cell = _readme_example()
    assert cell.startswith("%%respond --tools top_customers --tool-choice auto\n")
    assert "Who are our best customers in the north?" in cell
    # The README elides the body ("..."); give it one that shows it ran.
    assert definition.rstrip().endswith("...")
    body = ('    ran.append((n, region))\n'
            '    return [{"name": "Nordwind AG", "region": region, "rank": i + 1}'
            ' for i in range(2)]\n')
    source = definition.rstrip()[:-3].rstrip() + "\n" + body
    run_cell(ip, "from typing import Literal\nran = []")
    assert run_cell(ip, source).error is None
    run = run_cell(ip, cell)
    assert run.error is None, run.stderr
    assert ip.user_ns["ran"] == [(5, "north")]  # the kernel function ran, with its default n
    bodies = posts(srv)
    assert len(bodies) == 2 and bodies[1]["input"][0]["type"] == "function_call_output"
    assert '[tool] top_customers({"region": "north"})' in run.stdout
    answer = run.everything
    assert "Tool results: top_customers ->" in answer and "Nordwind AG" in answer


def test_respond_tools_with_numbers_shows_the_result(ip: Any, srv: Any) -> None:
    run_cell(ip, 'def add(a: int, b: int) -> int:\n    """Add two integers."""\n'
                 '    return a + b\n')
    run = run_cell(ip, "%%respond --tools add\nPlease add 2 and 40.")
    assert run.error is None, run.stderr
    assert '[tool] add({"a": 2, "b": 40}) -> 42' in run.stdout
    assert "Tool results: add -> 42" in run.everything


def test_respond_tools_without_a_match_still_echoes(ip: Any, srv: Any) -> None:
    run_cell(ip, 'def add(a: int, b: int) -> int:\n    """Add two integers."""\n'
                 '    return a + b\n')
    run = run_cell(ip, "%%respond --tools add\nWhat is a kernel?")
    assert run.error is None, run.stderr
    assert "You said: What is a kernel?" in run.stdout and "[tool]" not in run.stdout
    assert len(posts(srv)) == 1
