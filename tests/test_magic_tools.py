"""Tools, images and files through %%respond, against the stand-in over loopback."""

from __future__ import annotations

import base64
import json

import pytest
from IPython.core.error import UsageError

from agcloud_magic.ipython.extension import get_magics

from .helpers import reference_path
from .magic_support import posts, run_cell

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.fixture()
def ip(ip):  # the shared shell (conftest), with this module's variables
    shell = ip
    calls: list[tuple] = []

    def add(a: int, b: int) -> int:
        """Add two integers."""
        calls.append(("add", a, b))
        return a + b

    def explode(reason: str) -> str:
        """Always fails."""
        raise RuntimeError(f"no luck: {reason}")

    def never_named() -> str:
        calls.append(("never_named",))
        return "ran"

    shell.user_ns.update(add=add, explode=explode, never_named=never_named, tool_calls=calls)
    yield shell


def test_two_round_tool_loop_with_parallel_calls(ip, srv):
    srv.script(
        [
            {
                "calls": [
                    {"name": "add", "arguments": {"a": 1, "b": 2}},
                    {"name": "add", "arguments": {"a": 10, "b": 20}},
                ]
            },
            {"calls": [{"name": "add", "arguments": {"a": 3, "b": 30}}]},
            {"text": "The sums are 3, 30 and 33."},
        ]
    )
    run = run_cell(ip, "%%respond --tools add\nAdd things.")
    assert run.error is None, run.stderr
    assert ip.user_ns["tool_calls"] == [("add", 1, 2), ("add", 10, 20), ("add", 3, 30)]
    bodies = posts(srv)
    assert len(bodies) == 3
    assert bodies[0]["tools"][0]["name"] == "add"
    assert bodies[0]["tools"][0]["parameters"]["properties"] == {
        "a": {"type": "integer"},
        "b": {"type": "integer"},
    }
    second = bodies[1]
    outputs = [item for item in second["input"] if item["type"] == "function_call_output"]
    assert [o["output"] for o in outputs] == ["3", "30"]
    assert len({o["call_id"] for o in outputs}) == 2
    assert second["previous_response_id"] and second["tools"]
    assert bodies[2]["input"][0]["output"] == "33"
    assert "The sums are 3, 30 and 33." in run.stdout
    assert run.stdout.count("add(") >= 3  # each call is shown as it happens
    thread = get_magics(ip).session.conversation.thread()
    (turn,) = thread.path()
    assert len(turn.rounds) == 2 and turn.response_id != turn.rounds[0]


def test_a_tool_that_raises_is_answered_with_the_error(ip, srv):
    srv.script([{"calls": [{"name": "explode", "arguments": {"reason": "x"}}]}, {"text": "ok"}])
    run = run_cell(ip, "%%respond --tools explode\ngo")
    assert run.error is None
    assert posts(srv)[1]["input"][0]["output"] == "Error: RuntimeError: no luck: x"


def test_arguments_failing_validation_do_not_call_the_function(ip, srv):
    srv.script(
        [
            {
                "calls": [
                    {"name": "add", "arguments": {"a": "one", "b": 2}},
                    {"name": "add", "arguments_raw": "{not json"},
                    {"name": "never_named", "arguments": {}},
                ]
            },
            {"text": "done"},
        ]
    )
    run_cell(ip, "%%respond --tools add\ngo")
    outputs = [o["output"] for o in posts(srv)[1]["input"]]
    assert all(o.startswith("Error: ") for o in outputs)
    assert "never_named" in outputs[2]
    assert ip.user_ns["tool_calls"] == []  # nothing ran: not add, not the unnamed function


def test_round_bound(ip, srv):
    srv.script([{"calls": [{"name": "add", "arguments": {"a": 1, "b": 1}}]}] * 3)
    run = run_cell(ip, "%%respond --tools add --max-rounds 2\nloop forever")
    assert "Stopped after 2 tool rounds" in run.stdout + run.stderr
    assert len(posts(srv)) == 3
    assert get_magics(ip).session.conversation.thread().head is None


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ("add", {"type": "function", "name": "add"}),
    ],
)
def test_tool_choice_values(ip, srv, choice, expected):
    srv.script([{"text": "fine"}])
    run_cell(ip, f"%%respond --tools add --tool-choice {choice}\nhi")
    assert posts(srv)[0]["tool_choice"] == expected


def test_tool_errors_before_sending(ip, srv):
    for cell in (
        "%%respond --tools nothere\nhi",
        "%%respond --tools add --tool-choice explode\nhi",
    ):
        run = run_cell(ip, cell)
        assert isinstance(run.error, UsageError)
    assert posts(srv) == []


def test_recorded_function_call_streams_replay_through_the_loop(ip, srv):
    fixtures = reference_path() / "fixtures"
    seen = []

    def search(query: str) -> str:
        seen.append(("search", query))
        return "Tigers game at 7pm"

    def weather(city: str) -> str:
        seen.append(("weather", city))
        return "sunny, 75F"

    ip.user_ns.update(search=search, weather=weather)
    srv.script(
        [
            {"replay": str(fixtures / "stream-function-calls-turn1.sse")},
            {"replay": str(fixtures / "stream-function-calls-turn2.sse")},
        ]
    )
    run = run_cell(ip, "%%respond --tools search,weather\nWhen is the game and the weather?")
    assert [name for name, _ in seen] == ["search", "weather"]
    second = posts(srv)[1]
    assert [o["output"] for o in second["input"]] == ["Tigers game at 7pm", "sunny, 75F"]
    assert "game time" in run.stdout


def decode_data_url(url: str) -> tuple[str, bytes]:
    head, data = url.split(",", 1)
    return head[5:].split(";")[0], base64.b64decode(data)


def test_images_from_a_file_a_url_bytes_and_a_figure(ip, srv, tmp_path):
    path = tmp_path / "dot.png"
    path.write_bytes(PNG)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([1, 2, 3])
    ip.user_ns.update(png_bytes=PNG, fig=fig)
    run = run_cell(
        ip,
        f"%%respond --image {path} --image https://example.org/cat.jpg --image png_bytes "
        "--image fig --detail low\nWhat do you see?",
    )
    plt.close(fig)
    assert run.error is None, run.stderr
    (message,) = posts(srv)[0]["input"]
    text, *images = message["content"]
    assert text == {"type": "input_text", "text": "What do you see?"}
    assert [i["detail"] for i in images] == ["low"] * 4
    assert decode_data_url(images[0]["image_url"]) == ("image/png", PNG)
    assert images[1]["image_url"] == "https://example.org/cat.jpg"
    assert decode_data_url(images[2]["image_url"]) == ("image/png", PNG)
    mime, figure_png = decode_data_url(images[3]["image_url"])
    assert mime == "image/png" and figure_png.startswith(b"\x89PNG")
    assert "input_image" in run.stdout  # the echo model acknowledges the parts


def test_files_by_path_and_url(ip, srv, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_bytes(b"a,b\n1,2\n")
    run = run_cell(ip, f"%%respond --file {path} --file https://example.org/r.pdf\nRead these.")
    assert run.error is None, run.stderr
    parts = posts(srv)[0]["input"][0]["content"][1:]
    assert parts[0]["filename"] == "notes.csv"
    assert decode_data_url(parts[0]["file_data"]) == ("text/csv", b"a,b\n1,2\n")
    assert parts[1] == {"type": "input_file", "file_url": "https://example.org/r.pdf"}


def test_attachment_errors_are_one_line(ip, srv, tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    for cell in (
        f"%%respond --image {tmp_path}/missing.png\nhi",
        f"%%respond --image {tmp_path}/notes.txt\nhi",
        f"%%respond --file {tmp_path}/missing.pdf\nhi",
    ):
        run = run_cell(ip, cell)
        assert isinstance(run.error, UsageError), cell
        assert len(str(run.error).splitlines()) == 1
    assert posts(srv) == []


def test_raw_json_tool_specs_pass_through(ip, srv):
    srv.script([{"text": "fine"}])
    ip.user_ns["web"] = {"type": "web_search"}
    run_cell(ip, "%%respond --tools add,web\nhi")
    tools = posts(srv)[0]["tools"]
    assert {"type": "web_search"} in tools and tools[0]["name"] == "add"
    assert json.dumps(tools)  # serialisable as sent


def test_recorded_agent_loop_replays_through_the_tool_loop(ip, srv):
    fixtures = reference_path() / "fixtures"
    seen = []

    def calculator(a: int, b: int, op: str) -> int:
        """Apply op (add, subtract or multiply) to a and b."""
        seen.append((a, b, op))
        return {"add": a + b, "subtract": a - b, "multiply": a * b}[op]

    ip.user_ns["calculator"] = calculator
    srv.script(
        [{"replay": str(fixtures / f"stream-agent-loop-step{n}.jsonl")} for n in (1, 2, 3, 4)]
    )
    run = run_cell(ip, "%%respond --tools calculator\nCompute (12 + 7) * 3 * 10.")
    assert run.error is None, run.stderr
    assert seen == [(12, 7, "add"), (19, 3, "multiply"), (57, 10, "multiply")]
    outputs = [body["input"][0]["output"] for body in posts(srv)[1:]]
    assert outputs == ["19", "57", "570"]
    assert "The final result is **570**." in run.stdout
    assert "[reasoning]" in run.stdout  # the recorded reasoning summaries are shown too


def test_reasoning_summary_shows_collapsed_above_the_answer(ip, srv):
    from agcloud_magic.ipython.extension import get_magics

    srv.script([{"reasoning_summary": "First I compare the means.", "text": "Gentoo is heaviest."}])
    get_magics(ip).format = "markdown"
    import agcloud_magic.ipython.renderers as render

    shown = []

    class Publisher:
        def display(self, data, metadata=None):
            shown.append(data)

            class Handle:
                def update(self, data, metadata=None):
                    shown.append(data)

            return Handle()

    original = render.make_renderer
    try:
        render.make_renderer = lambda shell=None, fmt="markdown", **kw: original(
            shell, fmt, publisher=Publisher()
        )
        run = run_cell(ip, "%%respond --reasoning high,auto\nWhich species is heaviest?")
    finally:
        render.make_renderer = original
    assert run.error is None
    assert posts(srv)[0]["reasoning"] == {"effort": "high", "summary": "auto"}
    final = [d for d in shown if d.get("text/plain")][-1]["text/html"]
    details = final.index("<details")
    assert "open" not in final[details : final.index(">", details)]  # collapsed
    assert details < final.index("Gentoo is heaviest.")  # above the answer
    assert "First I compare the means." in final


def test_async_tools_run_on_the_private_loop_not_a_loop_of_their_own(ip, srv):
    import asyncio
    import threading

    async def where(tag: str) -> str:
        """Name the thread and say whether a loop runs there."""
        await asyncio.sleep(0)
        return f"{tag}:{threading.current_thread().name}"

    ip.user_ns["where"] = where
    srv.script([{"calls": [{"name": "where", "arguments": {"tag": "t"}}]}, {"text": "done"}])
    run = run_cell(ip, "%%respond --tools where\nWhere do you run?")
    assert run.error is None, run.stderr
    output = posts(srv)[1]["input"][0]["output"]
    assert output == "t:agcloud-magic-loop"
    assert "done" in run.stdout
