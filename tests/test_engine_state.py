"""State lives on the right objects: building a request changes nothing, only a finished turn
is recorded (with its full items), and the session owns and closes its clients."""

from __future__ import annotations

from agcloud_magic.ipython.extension import get_magics

from .magic_support import posts, run_cell


def snapshot(conversation):
    return (
        conversation.current,
        {name: (t.head, len(t.turns), t.instructions) for name, t in conversation.threads.items()},
    )


def test_a_dry_run_changes_no_conversation_state(ip, srv):
    run_cell(ip, "%%respond --instructions 'Be brief.'\nfirst")
    conversation = get_magics(ip).session.conversation
    before = snapshot(conversation)
    for line in ("--dry-run --chat elsewhere", "--dry-run --new", "--dry-run --continue resp_x"):
        run = run_cell(ip, f"%%respond {line}\nwhat would be sent?")
        assert run.error is None and "Dry run: nothing was sent" in run.stdout
    assert snapshot(conversation) == before
    assert len(posts(srv)) == 1


def test_a_failed_request_creates_and_selects_no_thread(ip, srv):
    conversation = get_magics(ip).session.conversation
    before = snapshot(conversation)
    srv.fail_next(400, message="no")
    run = run_cell(ip, "%%respond --chat elsewhere\nhello")
    assert run.error is None and "Request rejected (400)" in run.stdout + run.stderr
    assert snapshot(conversation) == before
    run_cell(ip, "%%respond --chat elsewhere\nhello again")
    assert conversation.current == "elsewhere" and conversation.threads["elsewhere"].head


def test_a_turn_keeps_its_full_input_and_output_items(ip, srv):
    def double(x: int) -> int:
        """Double x."""
        return 2 * x

    ip.user_ns["double"] = double
    prompt = "Please double twenty-one for me, and explain the result in some detail. " * 3
    srv.script([{"calls": [{"name": "double", "arguments": {"x": 21}}]}, {"text": "It is 42."}])
    run = run_cell(ip, f"%%respond --tools double\n{prompt}")
    assert run.error is None, run.stderr
    (turn,) = get_magics(ip).session.conversation.thread().path()
    assert turn.prompt == prompt.strip() and turn.answer == "It is 42."
    kinds = [item["type"] for item in turn.input_items]
    assert kinds == ["message", "function_call_output"]
    assert turn.input_items[0]["content"][0]["text"] == prompt.strip()
    assert turn.input_items[1]["output"] == "42"
    out_kinds = [item["type"] for item in turn.output_items]
    assert out_kinds[0] == "function_call" and out_kinds[-1] == "message"
    # The turn's tokens count both rounds: what the stand-in reported for each response.
    sent = [stored.response["usage"] for stored in srv.stored.values()]
    assert len(sent) == 2
    assert turn.input_tokens == sum(u["input_tokens"] for u in sent) > turn.usage["input_tokens"]
    assert turn.output_tokens == sum(u["output_tokens"] for u in sent)
    # %agcloud history still shows a one-line excerpt of the long prompt.
    history = run_cell(ip, "%agcloud history").stdout
    assert "Please double twenty-one" in history and prompt.strip() not in history


def test_unload_closes_the_sessions_clients(ip, srv):
    run_cell(ip, "%respond hello")
    session = get_magics(ip).session
    client = session.client()
    assert client._sync is not None
    run_cell(ip, "%unload_ext agcloud_magic")
    try:
        assert client._sync is None and session._clients == {}
    finally:
        run_cell(ip, "%load_ext agcloud_magic")
    from .magic_support import reset

    reset(ip)


def test_the_session_keeps_a_bounded_number_of_clients(ip, srv):
    from agcloud_magic.engine.session import MAX_CLIENTS

    session = get_magics(ip).session
    made = []
    for timeout in range(1, MAX_CLIENTS + 3):
        run_cell(ip, f"%agcloud config timeout={timeout}")
        run_cell(ip, "%respond hello")
        made.append(session.client())
    assert len(session._clients) == MAX_CLIENTS
    assert made[0]._sync is None and made[1]._sync is None  # the oldest were closed
    assert all(c._sync is not None for c in made[-MAX_CLIENTS:])
    assert made[-1] is session.client()  # the one in use is reused


def test_closing_a_session_goes_on_past_a_client_or_stand_in_that_fails_to_close(srv):
    from agcloud_magic.engine.session import Session
    from agcloud_magic.http.client import Client
    from agcloud_magic.http.settings import Settings

    class Stubborn(Client):
        def close(self) -> None:
            raise OSError("socket already gone")

    class StubbornServer:
        stopped = False

        def stop(self) -> None:
            StubbornServer.stopped = True
            raise OSError("port already closed")

    session = Session()
    good = Client(Settings(api_key="sk-test-close-0123456789", base_url=srv.base_url))
    good.create({"input": "hi", "stream": True, "model": "echo"})
    bad = Stubborn(Settings(api_key="sk-test-close-0123456789", base_url=srv.base_url,
                            model="other"))
    session._clients = {bad.settings: bad, good.settings: good}
    session.offline, session.offline_key = StubbornServer(), "sk-test-offline"
    session.close()  # neither failure escapes, and neither stops the rest
    assert good._sync is None and session._clients == {}
    assert StubbornServer.stopped and session.offline is None and session.offline_key is None
