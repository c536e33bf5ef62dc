"""Bounds on tool calls: per round (``max_tool_calls_per_round``) and per turn
(``max_tool_calls``), through the magic, the Python API and the panel, against the stand-in and
a server that asks for hundreds of parallel calls.  Over a bound, none of that round's calls run,
nothing more is sent, the turn is not recorded, and one line names the setting."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

import agcloud_magic
from agcloud_magic.errors import ToolError
from agcloud_magic.ipython.extension import get_magics

from .gateway_support import Capture, ReplayServer
from .magic_support import pointed_at, posts, run_cell
from .panel_support import send


def add_calls(n: int, start: int = 0) -> dict[str, Any]:
    """A scripted turn in which the model calls ``add`` ``n`` times in parallel."""
    return {"calls": [{"name": "add", "arguments": {"a": start + i, "b": 1}} for i in range(n)]}


@pytest.fixture()
def ran(ip) -> list[tuple[int, int]]:
    """Every run of the kernel function ``add`` (named as a tool in the cells below)."""
    runs: list[tuple[int, int]] = []

    def add(a: int, b: int) -> int:
        """Add two integers."""
        runs.append((a, b))
        return a + b

    ip.user_ns.update(add=add)
    return runs


def shown(run: Any) -> str:
    return run.stdout + run.stderr


def assert_one_line_naming(text: str, setting: str) -> None:
    lines = [line for line in text.splitlines() if setting in line]
    assert len(lines) == 1, text
    assert "Traceback" not in text


# -- through the magic --------------------------------------------------------------------


def test_a_round_over_the_per_round_bound_runs_none_of_its_calls(ip, srv, ran):
    srv.script([add_calls(17), {"text": "never asked for"}])
    run = run_cell(ip, "%%respond --tools add\nadd many")
    assert_one_line_naming(shown(run), "max_tool_calls_per_round")
    assert "17" in shown(run) and "16" in shown(run)
    assert ran == []  # not the first 16 either: a partial round would confuse the model
    assert len(posts(srv)) == 1  # no follow-up request went out
    assert get_magics(ip).session.conversation.thread().head is None  # nothing recorded


def test_a_round_at_the_per_round_bound_runs(ip, srv, ran):
    srv.script([add_calls(16), {"text": "all added"}])
    run = run_cell(ip, "%%respond --tools add\nadd many")
    assert "all added" in run.stdout, shown(run)
    assert len(ran) == 16 and len(posts(srv)) == 2


def test_the_per_turn_bound_stops_before_the_round_that_would_pass_it(ip, srv, ran):
    run_cell(ip, "%agcloud config max_tool_calls=10")
    srv.script([add_calls(4), add_calls(4, 100), add_calls(4, 200)])
    run = run_cell(ip, "%%respond --tools add\nadd in rounds")
    assert_one_line_naming(shown(run), "max_tool_calls")
    assert len(ran) == 8  # two rounds ran; the third (12 > 10) did not
    assert len(posts(srv)) == 3
    assert get_magics(ip).session.conversation.thread().head is None
    # The thread is still usable: the next turn chains onto the old head (none).
    srv.script([{"text": "fresh"}])
    again = run_cell(ip, "%%respond\nhello")
    assert "fresh" in again.stdout and "previous_response_id" not in posts(srv)[-1]


@pytest.fixture()
def clean_config(ip):
    """``%config`` merges a statement into the shell's shared config (even one a trait
    refuses): drop what these tests put there, so later extension loads do not read it."""
    yield ip
    section = ip.config.get("RespondMagics")
    if section is not None:
        section.pop("max_tool_calls_per_round", None)
        section.pop("max_tool_calls", None)


def test_the_per_round_bound_is_a_setting_of_config_too(clean_config, ip, srv, ran):
    run_cell(ip, "%config RespondMagics.max_tool_calls_per_round = 2")
    srv.script([add_calls(3)])
    run = run_cell(ip, "%%respond --tools add\nadd three")
    assert_one_line_naming(shown(run), "max_tool_calls_per_round")
    assert ran == []


def function_calls_answer(n: int) -> Capture:
    """A whole Responses answer asking for ``n`` parallel calls of ``add``."""
    output = [
        {"type": "function_call", "id": f"fc_{i}", "call_id": f"call_{i}", "name": "add",
         "arguments": json.dumps({"a": i, "b": 1}), "status": "completed"}
        for i in range(n)
    ]
    body = {"id": "resp_many_calls", "object": "response", "status": "completed", "model": "m",
            "output": output, "usage": {"input_tokens": 1, "output_tokens": n,
                                        "total_tokens": n + 1}}
    return Capture(200, "OK", [("content-type", "application/json")], json.dumps(body).encode())


def test_500_parallel_calls_from_a_hostile_server_run_nothing(monkeypatch, ran):
    server = ReplayServer().push(function_calls_answer(500))  # repeated for every request
    try:
        with pointed_at(server, monkeypatch) as ip:
            run = run_cell(ip, "%%respond --tools add\nadd everything")
    finally:
        server.close()
    assert_one_line_naming(shown(run), "max_tool_calls_per_round")
    assert "500" in shown(run)
    assert ran == [] and len(server.bodies) == 1


# -- through the Python API ---------------------------------------------------------------


@pytest.fixture()
def api_srv(srv, monkeypatch):
    monkeypatch.setenv("AGCLOUD_BASE_URL", srv.base_url)
    monkeypatch.setenv("AGCLOUD_API_KEY", "sk-test-api-0000000000")
    monkeypatch.setenv("AGCLOUD_MODEL", "echo")
    return srv


def test_respond_bounds_calls_per_round(api_srv):
    runs: list[int] = []

    def ping(n: int) -> str:
        """Ping."""
        runs.append(n)
        return "pong"

    api_srv.script([{"calls": [{"name": "ping", "arguments": {"n": i}} for i in range(17)]}])
    with pytest.raises(ToolError) as info:
        agcloud_magic.respond("ping a lot", tools=[ping])
    assert "max_tool_calls_per_round" in str(info.value) and "\n" not in str(info.value)
    assert runs == []
    api_srv.script([{"calls": [{"name": "ping", "arguments": {"n": i}} for i in range(3)]}])
    with pytest.raises(ToolError):
        agcloud_magic.respond("ping a bit", tools=[ping], max_tool_calls_per_round=2)
    assert runs == []


def test_arespond_bounds_calls_per_turn(api_srv):
    runs: list[int] = []

    def ping(n: int) -> str:
        """Ping."""
        runs.append(n)
        return "pong"

    turn = {"calls": [{"name": "ping", "arguments": {"n": 1}}] * 3}
    api_srv.script([turn, turn, {"text": "never"}])
    with pytest.raises(ToolError) as info:
        asyncio.run(agcloud_magic.arespond("ping", tools=[ping], max_tool_calls=5))
    assert "max_tool_calls" in str(info.value)
    assert len(runs) == 3
    assert len([r for r in api_srv.requests if r.method == "POST"]) == 2


def test_the_api_refuses_a_bound_out_of_range(api_srv):
    with pytest.raises(agcloud_magic.AGCloudError) as info:
        agcloud_magic.respond("x", max_tool_calls_per_round=0)
    assert "max_tool_calls_per_round" in str(info.value)
    assert posts(api_srv) == []


# -- the panel, and the settings' own limits ------------------------------------------------


def test_the_panel_stops_over_the_bound_and_stays_usable(ip, panel, srv, ran):
    run_cell(ip, "%agcloud config max_tool_calls_per_round=2")
    panel.tools.value = "add"
    srv.script([add_calls(3)])
    assert send(panel, "add three") is None
    assert "max_tool_calls_per_round" in panel.error.value
    assert ran == [] and not panel.busy and not panel.send.disabled


@pytest.mark.parametrize("line", [
    "%agcloud config max_tool_calls_per_round=0",
    "%agcloud config max_tool_calls_per_round=100000",
    "%agcloud config max_tool_calls=0",
    "%agcloud config max_tool_calls=-3",
    "%agcloud config max_tool_calls=1.5",
    "%config RespondMagics.max_tool_calls = 100000",
    "%config RespondMagics.max_tool_calls_per_round = 0",
])
def test_bounds_out_of_range_are_refused(clean_config, ip, srv, caplog, line):
    magics = get_magics(ip)
    before = (magics.max_tool_calls_per_round, magics.max_tool_calls)
    with caplog.at_level("ERROR"):
        run = run_cell(ip, line)
    said = shown(run) + caplog.text  # IPython's %config logs the refusal
    assert "max_tool_calls" in said and "Traceback" not in said
    assert (magics.max_tool_calls_per_round, magics.max_tool_calls) == before
