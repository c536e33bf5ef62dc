"""The magics through a real IPython shell, against the stand-in over loopback."""

from __future__ import annotations

import time

import pytest
from IPython.core.error import UsageError

from agcloud_magic.ipython.extension import get_magics
from agcloud_magic.standin import serve

from .magic_support import KEY, interrupt_once_streaming, pointed_at, posts, run_cell


def test_cell_magic_streams_the_answer(ip, srv):
    run = run_cell(ip, "%%respond\nHello from a cell")
    assert run.error is None
    assert "Hello from a cell" in run.stdout
    assert "echo" not in posts(srv)[0].get("model", "") or True
    assert posts(srv)[0]["stream"] is True
    assert posts(srv)[0]["input"] == "Hello from a cell"


def test_line_magic_keeps_the_text_as_written(ip, srv):
    run = run_cell(ip, "%respond -t 0.3 what's {1, 2} -- here?")
    assert run.error is None
    body = posts(srv)[0]
    assert body["input"] == "what's {1, 2} -- here?"
    assert body["temperature"] == 0.3


def test_every_option_lands_in_the_request_body(ip, srv):
    cell = (
        "%%respond -m echo-large --instructions 'Be brief.' --max-output-tokens 300 "
        "-t 0.5 --top-p 0.9 --truncation auto --reasoning low,auto --role developer "
        "--tool-choice none\nhello"
    )
    run = run_cell(ip, cell)
    assert run.error is None, run.stderr
    body = posts(srv)[0]
    assert body["model"] == "echo-large"
    assert body["instructions"] == "Be brief."
    assert body["max_output_tokens"] == 300
    assert body["temperature"] == 0.5
    assert body["top_p"] == 0.9
    assert body["truncation"] == "auto"
    assert body["reasoning"] == {"effort": "low", "summary": "auto"}
    assert body["tool_choice"] == "none"
    assert body["input"] == [
        {
            "type": "message",
            "role": "developer",
            "content": [{"type": "input_text", "text": "hello"}],
        }
    ]
    run_cell(ip, "%%respond --no-stream\nagain")
    assert posts(srv)[1]["stream"] is False


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ("%%respond --temperature 7\nhi", "temperature"),
        ("%%respond --top-p 2\nhi", "top_p"),
        ("%%respond --max-rounds 0\nhi", "max_tool_rounds"),
        ("%%respond --budget 10\nhi", "at least 500"),
        ("%%respond --reasoning low,chatty\nhi", "summary"),
        ("%%respond --bogus\nhi", "Unknown option --bogus"),
        ("%%respond\nTell me about {nope}", "{nope}"),
        ("%respond --bogus hi", "--bogus"),
        ("%%respond --max-output-tokens 3\nhi", "16"),
        ("%%respond --reasoning extreme\nhi", "effort"),
        ("%%respond --df nope\nhi", "nope"),
        ("%%respond\n   ", "Nothing to send"),
    ],
)
def test_bad_input_fails_before_sending_with_one_line(ip, srv, cell, words):
    run = run_cell(ip, cell)
    assert isinstance(run.error, UsageError)
    assert words in str(run.error)
    assert "Traceback" not in run.stdout + run.stderr
    assert len(str(run.error).strip().splitlines()) == 1
    assert posts(srv) == []


def test_chaining_and_history(ip, srv):
    run_cell(ip, "%%respond\nfirst", cell_id="A")
    run = run_cell(ip, "%%respond\nsecond", cell_id="B")
    first_id = get_magics(ip).session.conversation.thread().path()[0].response_id
    assert posts(srv)[1]["previous_response_id"] == first_id
    assert "Turn 2" in run.stdout
    history = run_cell(ip, "%agcloud history").stdout
    assert "first" in history and "second" in history and first_id in history


def prompts(ip) -> list[str]:
    return [turn.prompt for turn in get_magics(ip).session.conversation.thread().path()]


def test_rerun_examples_of_design_section_3(ip, srv):
    run_cell(ip, "%%respond\nA", cell_id="A")
    run_cell(ip, "%%respond\nB", cell_id="B")
    run_cell(ip, "%%respond\nB", cell_id="B")
    assert prompts(ip) == ["A", "B"]
    assert posts(srv)[2]["previous_response_id"] == posts(srv)[1]["previous_response_id"]

    get_magics(ip).session.conversation.thread().reset()
    for cell in ("A", "B", "C", "B"):
        run_cell(ip, f"%%respond\n{cell}", cell_id=cell + "2")
    assert prompts(ip) == ["A", "B"]

    get_magics(ip).session.conversation.thread().reset()
    for cell in ("A", "B", "A", "B"):
        run_cell(ip, f"%%respond\n{cell}", cell_id=cell + "3")
    assert prompts(ip) == ["A", "B"]
    path = get_magics(ip).session.conversation.thread().path()
    assert path[0].parent_id is None  # A' starts the path again
    assert "Turn 2" in run_cell(ip, "%agcloud last").stdout + repr(get_magics(ip).session.last)


def test_failure_keeps_the_head(ip, srv):
    run_cell(ip, "%%respond\nfirst", cell_id="A")
    head = get_magics(ip).session.conversation.thread().head
    srv.fail_next(400, message="Invalid value for input.")
    failed = run_cell(ip, "%%respond\nsecond", cell_id="B")
    assert failed.error is None  # shown as one line, not raised
    assert "Request rejected (400)" in failed.stdout + failed.stderr
    assert "Traceback" not in failed.stdout + failed.stderr
    assert get_magics(ip).session.conversation.thread().head == head
    srv.cut_after(6)
    cut = run_cell(ip, "%%respond\nthird one with words", cell_id="C")
    assert "cut short" in cut.stdout + cut.stderr
    assert get_magics(ip).session.conversation.thread().head == head
    run_cell(ip, "%%respond\nfourth", cell_id="D")
    assert posts(srv)[-1]["previous_response_id"] == head


def test_instructions_are_resent_every_turn(ip, srv):
    run_cell(ip, "%%respond --instructions 'Answer in French.'\nhello")
    run_cell(ip, "%%respond\nand again")
    assert posts(srv)[1]["instructions"] == "Answer in French."


def test_interpolation(ip, srv):
    ip.user_ns.update(city="Lyon", count=3)
    run_cell(ip, '%%respond\nIn {city}: {count} items, {{city}} literal, {"json": {"a": 1}}, {x+1}')
    assert posts(srv)[0]["input"] == ('In Lyon: 3 items, {city} literal, {"json": {"a": 1}}, {x+1}')


def test_out_variable_and_dry_run(ip, srv):
    run_cell(ip, "%%respond -o answer\nstore me")
    result = ip.user_ns["answer"]
    assert "store me" in result.text and result.id.startswith("resp_")
    dry = run_cell(ip, "%%respond --dry-run -t 0.1\nnot sent")
    assert len(posts(srv)) == 1
    assert "nothing was sent" in dry.stdout and '"not sent"' in dry.stdout
    assert '"previous_response_id": "' + result.id in dry.stdout


def test_threads_new_continue_usage(ip, srv):
    run_cell(ip, "%%respond\none")
    run_cell(ip, "%%respond --chat side\nother")
    assert "previous_response_id" not in posts(srv)[1]
    chats = run_cell(ip, "%agcloud chats").stdout
    assert "* side" in chats and "main" in chats
    run_cell(ip, "%%respond --chat main --new\nfresh")
    assert "previous_response_id" not in posts(srv)[2]
    first_id = get_magics(ip).session.conversation.thread("main").turns
    some_id = next(iter(first_id))
    run_cell(ip, f"%%respond --continue {some_id}\nresume")
    assert posts(srv)[3]["previous_response_id"] == some_id
    usage = run_cell(ip, "%agcloud usage").stdout
    assert "kernel: 4 turn(s)" in usage


def test_unknown_previous_response_offers_new(ip, srv):
    run = run_cell(ip, "%%respond --continue resp_gone\nhello")
    assert "--new" in run.stdout + run.stderr


def test_the_key_never_appears(srv, monkeypatch):
    with (
        serve(api_key="sk-test-only-this-one-works") as strict,
        pointed_at(strict, monkeypatch) as ip,
    ):
        runs = [
            run_cell(ip, "%%respond\nhello"),  # 401
            run_cell(ip, "%agcloud config"),
            run_cell(ip, "%%respond --dry-run\nhello"),
            run_cell(ip, "%agcloud config api_key=sk-test-typed"),
        ]
    with pointed_at(srv, monkeypatch) as ip:
        runs += [
            run_cell(ip, "%%respond -o r\nhello"),
            run_cell(ip, "r"),
            run_cell(ip, "%agcloud last"),
        ]
        runs.append(
            run_cell(
                ip, "print(repr(get_ipython().magics_manager.registry['RespondMagics'].settings()))"
            )
        )
    assert "AGCLOUD_API_KEY" in runs[0].stdout + runs[0].stderr
    assert "sk-…cdef" in runs[1].stdout
    for run in runs:
        assert KEY not in run.everything
        assert "SECRET-0123456789" not in run.everything


def test_interrupt_stops_within_half_a_second_and_keeps_the_partial_answer(ip, srv):
    srv.drip(0.05)
    fired: list[float] = []

    timer = interrupt_once_streaming(srv, fired)
    run = run_cell(ip, "%%respond\n" + " ".join(f"w{i}" for i in range(200)))
    ended = time.monotonic()
    timer.join()
    assert run.error is None and "Traceback" not in run.stdout + run.stderr
    assert "interrupted" in run.stdout + run.stderr
    assert "Offline stand-in" in run.stdout  # the partial answer stays
    # It stopped soon after the interrupt (required: half a second; the margin is for a loaded
    # machine), not after 200 x 0.05 s.
    assert ended - fired[0] < 1.0
    assert get_magics(ip).session.conversation.thread().head is None


def test_missing_key_is_one_line(srv, monkeypatch):
    with pointed_at(srv, monkeypatch) as ip:
        monkeypatch.delenv("AGCLOUD_API_KEY")
        run = run_cell(ip, "%%respond\nhello")
    assert isinstance(run.error, UsageError) and "AGCLOUD_API_KEY" in str(run.error)
    assert posts(srv) == []


def test_config_sets_traits_and_refuses_bad_values(ip, srv):
    run_cell(ip, "%agcloud config model=echo-config temperature=0.7")
    run_cell(ip, "%%respond\nhi")
    assert posts(srv)[0]["model"] == "echo-config" and posts(srv)[0]["temperature"] == 0.7
    run_cell(ip, "%%respond -m override\nhi")
    assert posts(srv)[1]["model"] == "override"
    bad = run_cell(ip, "%agcloud config temperature=9")
    assert isinstance(bad.error, UsageError)
    insecure = run_cell(ip, "%agcloud config base_url=http://example.com/v1")
    assert isinstance(insecure.error, UsageError) and "https" in str(insecure.error)
    ip.run_line_magic("config", "RespondMagics.model = 'gpt-4.1'")
    run_cell(ip, "%%respond\nhi")
    assert posts(srv)[2]["model"] == "gpt-4.1"


def test_offline_auto_and_shared_standin(srv, monkeypatch):
    with pointed_at(srv, monkeypatch) as ip:
        online = run_cell(ip, "%agcloud offline auto")
        assert "Online" in online.stdout and srv.base_url in online.stdout
        monkeypatch.delenv("AGCLOUD_API_KEY")
        monkeypatch.setenv("AGCLOUD_STANDIN_URL", srv.base_url)
        offline = run_cell(ip, "%agcloud offline auto")
        assert "Offline" in offline.stdout and "not a real model" in offline.stdout
        answer = run_cell(ip, "%%respond\nhi offline")
        assert "hi offline" in answer.stdout and len(srv.requests) == 1
        run_cell(ip, "%agcloud offline stop")
        get_magics(ip).offline_key = None
    assert get_magics(ip).base_url is None


def test_login_keeps_the_key_in_memory_only(srv, monkeypatch):
    typed = "sk-test-typed-at-the-prompt-98765"
    with pointed_at(srv, monkeypatch) as ip:
        monkeypatch.delenv("AGCLOUD_API_KEY")
        monkeypatch.setattr("getpass.getpass", lambda prompt="": typed)
        login = run_cell(ip, "%agcloud login")
        answer = run_cell(ip, "%%respond\nafter login")
        config = run_cell(ip, "%agcloud config")
        run_cell(ip, "%agcloud logout")
    assert "sk-…8765" in login.stdout and "sk-…8765" in config.stdout and "(login)" in config.stdout
    assert srv.requests[-1].headers["Authorization"] == "Bearer ***"
    for run in (login, answer, config):
        assert typed not in run.everything
    assert get_magics(ip).login_key is None


def test_help_lists_every_option():
    from agcloud_magic.ipython.magics import RespondMagics

    doc = RespondMagics.respond.__doc__
    for option in (
        "--model",
        "--instructions",
        "--max-output-tokens",
        "--temperature",
        "--top-p",
        "--no-stream",
        "--tools",
        "--tool-choice",
        "--reasoning",
        "--truncation",
        "--role",
        "--image",
        "--file",
        "--df",
        "--new",
        "--chat",
        "--continue",
        "--out",
        "--format",
        "--dry-run",
    ):
        assert option in doc, option


def test_format_code_offers_the_code_as_the_next_cell(ip, srv, monkeypatch):
    offered = []
    monkeypatch.setattr(ip, "set_next_input", lambda text, replace=False: offered.append(text))
    srv.script([{"text": "Here:\n\n```python\nprint(sum(i * i for i in range(11)))\n```\n"}])
    run = run_cell(ip, "%%respond --format code\nSum of squares, please.")
    assert run.error is None
    assert offered == ["print(sum(i * i for i in range(11)))\n"]
    srv.script([{"text": '{"answer": 42, "unit": "none"}'}])
    as_json = run_cell(ip, "%%respond --format json\nJSON please.")
    assert '"answer": 42' in as_json.stdout
