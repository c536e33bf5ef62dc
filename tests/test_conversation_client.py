"""Conversations the client carries: ``conversation=client`` / ``--stateless`` send the
thread's items with ``store: false``; a lost parent (``previous_response_not_found``) is
replayed from the kernel's copy with one line saying so.  Counted on the wire."""

from __future__ import annotations

import pytest

from .magic_support import posts, run_cell


def user_texts(body):
    """The user texts of a body's input, in order."""
    value = body["input"]
    if isinstance(value, str):
        return [value]
    return [part["text"] for item in value if item.get("role") == "user"
            for part in item["content"] if part.get("type") == "input_text"]


def assistant_texts(body):
    value = body["input"]
    if isinstance(value, str):
        return []
    return [part["text"] for item in value if item.get("role") == "assistant"
            for part in item["content"] if part.get("type") == "output_text"]


@pytest.fixture()
def fresh(ip):
    assert run_cell(ip, "%agcloud new").error is None
    yield ip
    run_cell(ip, "%agcloud config conversation=server")
    run_cell(ip, "%agcloud new")


def test_conversation_client_sends_the_items_and_store_false(fresh, srv):
    assert run_cell(fresh, "%agcloud config conversation=client").error is None
    first = run_cell(fresh, "%%respond\nMy name is Ada.")
    second = run_cell(fresh, "%%respond\nWhat is my name?")
    assert first.error is None and second.error is None
    one, two = posts(srv)
    assert one["store"] is False and "previous_response_id" not in one
    assert two["store"] is False and "previous_response_id" not in two
    assert user_texts(two) == ["My name is Ada.", "What is my name?"]
    assert len(assistant_texts(two)) == 1 and "Ada" in assistant_texts(two)[0]
    assert all("id" not in item for item in two["input"])  # nothing refers to the server


def test_stateless_on_one_cell_only(fresh, srv):
    assert run_cell(fresh, "%%respond\nFirst.").error is None
    assert run_cell(fresh, "%%respond --stateless\nSecond.").error is None
    assert run_cell(fresh, "%%respond\nThird.").error is None
    one, two, chained, replay = posts(srv)
    assert "store" not in one and two["store"] is False
    assert user_texts(two) == ["First.", "Second."]
    # The third chains on the server again, onto the second, whose answer was not stored:
    # the server says it does not know it, and the kernel replays its copy.
    assert "previous_response_id" in chained
    assert user_texts(replay) == ["First.", "Second.", "Third."]


def test_a_lost_parent_is_replayed_with_one_line(fresh, srv):
    assert run_cell(fresh, "%%respond\nRemember: blue.").error is None
    assert run_cell(fresh, "%%respond\nAnd green.").error is None
    srv.stored.clear()  # what a restarted stand-in (or expired storage) looks like
    third = run_cell(fresh, "%%respond\nWhich colours?")
    assert third.error is None, third.stderr
    bodies = posts(srv)
    assert len(bodies) == 4  # the chained try (refused: not found), then the replay
    refused, replay = bodies[2], bodies[3]
    assert "previous_response_id" in refused
    assert "previous_response_id" not in replay and "store" not in replay
    assert user_texts(replay) == ["Remember: blue.", "And green.", "Which colours?"]
    shown = third.stdout + third.stderr
    assert shown.count("Replayed the thread from this kernel's copy") == 1
    # The replayed answer was stored: the next turn chains on the server again.
    assert run_cell(fresh, "%%respond\nThanks.").error is None
    assert posts(srv)[4]["previous_response_id"] in srv.stored


def test_conversation_setting_is_checked(fresh):
    bad = run_cell(fresh, "%agcloud config conversation=both")
    assert "conversation must be one of server, client" in (
        str(bad.error) + bad.stderr + bad.stdout)


def test_a_server_that_drops_the_history_is_named_once(fresh, srv):
    assert run_cell(fresh, "%%respond\nA first question with several words in it.").error is None
    srv.drop_history = True  # from now on: previous_response_id accepted, history ignored
    second = run_cell(fresh, "%%respond\nA second one.")
    third = run_cell(fresh, "%%respond\nA third one.")
    assert second.error is None and third.error is None
    warning = "The server seems to ignore previous_response_id"
    assert (second.stdout + second.stderr).count(warning) == 1
    assert "conversation=client" in second.stdout + second.stderr
    assert warning not in third.stdout + third.stderr  # said once per kernel
    assert all("previous_response_id" in b for b in posts(srv)[1:])


def test_a_history_that_was_read_is_not_warned_about(fresh, srv):
    assert run_cell(fresh, "%%respond\nA first question with several words in it.").error is None
    second = run_cell(fresh, "%%respond\nA second one.")
    assert "ignore previous_response_id" not in second.stdout + second.stderr


def test_stateless_tool_rounds_carry_the_whole_transcript(fresh, srv):
    assert run_cell(fresh, 'def double(x: int) -> int:\n    """Double x."""\n    return 2 * x'
                    ).error is None
    srv.script([{"calls": [{"name": "double", "arguments": {"x": 21}}]}, {"text": "42."}])
    run = run_cell(fresh, "%%respond --stateless --tools double\nDouble 21.")
    bodies = posts(srv)
    assert run.error is None and len(bodies) == 2, run.stderr
    follow = bodies[1]
    assert follow["store"] is False and "previous_response_id" not in follow
    kinds = [item.get("type", "message") for item in follow["input"]]
    assert kinds == ["message", "function_call", "function_call_output"]
    assert follow["input"][2]["output"] == "42"
    fresh.user_ns.pop("double", None)


def test_the_panel_replays_a_lost_parent_and_says_so(panel, srv):
    from .panel_support import send

    assert send(panel, "Remember: blue.") is not None
    srv.stored.clear()
    assert send(panel, "Which colour?") is not None
    assert "Replayed the thread from this kernel&#x27;s copy" in panel.usage.value  # escaped
    assert user_texts(posts(srv)[-1]) == ["Remember: blue.", "Which colour?"]


@pytest.mark.kernel
def test_in_a_real_kernel_client_mode_and_the_dropped_history_warning(monkeypatch):
    from agcloud_magic.standin import serve

    from .test_notebook_kernel import execute

    def said(nb, index):
        return "".join(str(o.get("data", o.get("text", ""))) for o in nb.cells[index].outputs)

    with serve() as srv:
        srv.drop_history = True  # a gateway without state: chained turns lose their history
        warned, _ = execute(["%load_ext agcloud_magic", "%%respond\nA first question here.",
                             "%%respond\nA second.", "%%respond\nA third."], monkeypatch, srv)
        srv.drop_history = False
        before = len(posts(srv))
        execute(["%load_ext agcloud_magic", "%agcloud config conversation=client",
                 "%%respond\nMy name is Ada.", "%%respond\nWhat is my name?"], monkeypatch, srv)
        carried = posts(srv)[before:]
    assert said(warned, 2).count("seems to ignore previous_response_id") == 1
    assert "conversation=client" in said(warned, 2)
    assert "ignore previous_response_id" not in said(warned, 3)  # once per kernel
    assert [b.get("store") for b in carried] == [False, False]
    assert user_texts(carried[1]) == ["My name is Ada.", "What is my name?"]
    assert "previous_response_id" not in carried[1]
