"""Regressions of the request core: cancel, retries, timeouts, partial answers, secrets, tools.

Every test runs against the stand-in over loopback (or the pure accumulator) and checks what
the server received or what the user sees.
"""

from __future__ import annotations

import _thread
import asyncio
import threading
import time

import pytest

from agcloud_magic.errors import AGCloudError, RequestInterrupted
from agcloud_magic.http.client import Cancellation, Client
from agcloud_magic.http.settings import Settings
from agcloud_magic.ipython.extension import get_magics
from agcloud_magic.wire import events as ev
from agcloud_magic.wire.accumulator import Accumulator

from .magic_support import posts, run_cell

KEY = "sk-test-regress-0123456789abcdef"


def make_client(srv, **kwargs) -> Client:
    return Client(Settings(api_key=KEY, base_url=srv.base_url, model="echo"), **kwargs)


def wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def interrupt_after(seconds: float) -> threading.Timer:
    """Ctrl-C in the main thread after ``seconds`` (as the existing interrupt tests do)."""
    timer = threading.Timer(seconds, _thread.interrupt_main)
    timer.start()
    return timer


# -- 2. cancelling during a Retry-After wait sends nothing more ----------------------------


def test_interrupt_during_retry_after_wait_sends_no_second_request(ip, srv):
    get_magics(ip).max_retries = 2
    srv.fail_next(429, retry_after=2)
    started = time.monotonic()
    timer = interrupt_after(0.3)
    run = run_cell(ip, "%%respond\nrate limited")
    took = time.monotonic() - started
    timer.join()
    assert run.error is None, run.stderr
    lines = (run.stdout + run.stderr).strip().splitlines()
    assert lines and "interrupted" in lines[-1]
    assert "Traceback" not in run.stdout + run.stderr
    assert took < 1.0
    time.sleep(2.3)  # past the Retry-After: a retry still pending would have been sent by now
    assert len(posts(srv)) == 1
    assert get_magics(ip).session.conversation.thread().head is None


def test_sync_cancel_during_retry_after_wait_raises_at_once(srv):
    srv.fail_next(503, retry_after=2)
    client = make_client(srv, max_retries=2)
    cancel = Cancellation()
    outcome: dict = {}

    def read():
        try:
            outcome["result"] = client.create({"input": "x", "stream": True}, cancel=cancel)
        except AGCloudError as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=read)
    worker.start()
    assert wait_for(lambda: len(posts(srv)) == 1)
    time.sleep(0.2)  # into the wait
    cancel.cancel()
    worker.join(0.5)
    assert not worker.is_alive()  # woke up, did not sleep out the 2 s
    assert isinstance(outcome.get("error"), RequestInterrupted)
    time.sleep(2.2)
    assert len(posts(srv)) == 1


def test_cancellation_wait():
    cancel = Cancellation()
    started = time.monotonic()
    assert cancel.wait(0.05) is False and time.monotonic() - started >= 0.04
    threading.Timer(0.05, cancel.cancel).start()
    started = time.monotonic()
    assert cancel.wait(5) is True and time.monotonic() - started < 1
    assert cancel.cancelled and cancel.wait(5) is True


def test_async_cancel_during_retry_after_wait_sends_no_second_request(srv):
    srv.fail_next(429, retry_after=1)
    client = make_client(srv, max_retries=2)

    async def main():
        task = asyncio.ensure_future(client.acreate({"input": "x", "stream": True}))
        while not posts(srv):
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # the 429 arrived: the task sleeps out the Retry-After
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(1.3)
        await client.aclose()

    asyncio.run(main())
    assert len(posts(srv)) == 1


# -- 3. a stalled stream keeps its partial answer; a 503 is retried -------------------------


def streamed_prefix(srv, body: dict, n_events: int) -> str:
    """The text of the first ``n_events`` events the stand-in sends for ``body`` (asked again
    now, unfaulted: the echo model answers the same body the same way)."""
    seen: list[dict] = []
    make_client(srv).create(body, on_event=seen.append)
    return "".join(e["delta"] for e in seen[:n_events] if e["type"] == ev.TEXT_DELTA)


def test_stall_past_the_read_timeout_keeps_the_partial_answer(ip, srv):
    run_cell(ip, "%config RespondMagics.timeout = 0.5")
    history = run_cell(ip, "%agcloud history").stdout
    srv.stall_after(8, 3.0)  # created, in_progress, item, part, 4 deltas; then 3 s of silence
    started = time.monotonic()
    run = run_cell(ip, "%%respond --format text -o r\nwords that stall")
    took = time.monotonic() - started
    assert run.error is None
    assert took < 2.5  # gave up at the read timeout, not after the stall
    partial = streamed_prefix(srv, posts(srv)[0], 8)
    assert partial.count(" ") >= 1 and partial in run.stdout
    assert ip.user_ns["r"].text == partial
    errors = run.stderr.strip().splitlines()
    assert len(errors) == 1 and "0.5 s" in errors[0] and "timeout" in errors[0]
    assert "Traceback" not in run.stdout + run.stderr
    assert run_cell(ip, "%agcloud history").stdout == history  # the head did not move
    assert get_magics(ip).session.conversation.thread().head is None


def test_503_once_is_retried_through_the_magic(ip, srv):
    get_magics(ip).max_retries = 2
    srv.fail_next(503)
    run = run_cell(ip, "%%respond\nretry me")
    assert run.error is None and not run.stderr, run.stderr
    assert "You said: retry me" in run.stdout
    assert len(posts(srv)) == 2 and posts(srv)[0] == posts(srv)[1]
    assert get_magics(ip).session.conversation.thread().head is not None


# -- 4. the partial text of a cut / failed / interrupted answer is every delta received ----

DELTAS = ["**Par", "tial** ", "answer", " in ", "five deltas"]


@pytest.mark.parametrize("ending", ["cut", "error-flat", "error-nested", "failed", "both"])
def test_accumulator_partial_text_is_every_delta(ending):
    acc = Accumulator()
    acc.feed({"type": ev.CREATED, "sequence_number": 0,
              "response": {"id": "resp_1", "status": "in_progress", "output": []}})
    acc.feed({"type": ev.ITEM_ADDED, "output_index": 0, "item": {
        "type": "message", "id": "msg_1", "status": "in_progress", "role": "assistant",
        "content": []}})
    acc.feed({"type": ev.PART_ADDED, "output_index": 0, "content_index": 0,
              "part": {"type": "output_text", "text": "", "annotations": []}})
    for delta in DELTAS:
        acc.feed({"type": ev.TEXT_DELTA, "output_index": 0, "content_index": 0, "delta": delta})
    if ending == "error-flat":
        acc.feed({"type": ev.ERROR, "code": "server_error", "message": "boom"})
    if ending in ("error-nested", "both"):
        acc.feed({"type": ev.ERROR, "error": {"code": "server_error", "message": "boom"}})
    if ending in ("failed", "both"):
        acc.feed({"type": ev.FAILED, "response": {
            "id": "resp_1", "status": "failed", "output": [],
            "error": {"code": "server_error", "message": "boom"}}})
    assert acc.text == "".join(DELTAS)
    result = acc.finish(cut=True)
    assert result.text == "".join(DELTAS)
    assert result.status == ("cut" if ending == "cut" else "failed")


N_EVENTS = 12  # created, in_progress, item, part, then 8 deltas


@pytest.mark.parametrize("fault", ["cut", "clean-cut", "error-nested", "error-flat", "failed"])
@pytest.mark.parametrize("model", ["echo", "lorem-40"])
def test_client_partial_text_is_every_delta_the_server_sent(srv, fault, model):
    body = {"model": model, "input": "tell me a long story about partial answers",
            "stream": True}
    expected = streamed_prefix(srv, body, N_EVENTS)  # what the stand-in sends before the fault
    assert len(expected) > 10 and expected.count(" ") >= 2
    if fault == "cut":  # each fault twice: once for the sync client, once for the async one
        srv.cut_after(N_EVENTS, times=2)
    elif fault == "clean-cut":
        srv.cut_after(N_EVENTS, clean=True, times=2)
    elif fault.startswith("error"):
        srv.error_mid_stream(after_events=N_EVENTS, shape=fault.split("-")[1], times=2)
    else:
        srv.fail_in_stream(after_events=N_EVENTS, times=2)
    for create in (make_client(srv).create, lambda b: asyncio.run(make_client(srv).acreate(b))):
        with pytest.raises(AGCloudError) as info:
            create(body)
        assert info.value.partial is not None
        assert info.value.partial.text == expected


def test_cancelled_stream_partial_text_is_every_delta_received(srv):
    srv.drip(0.02)
    client = make_client(srv)
    cancel = Cancellation()
    received: list[str] = []

    def on_event(event):
        if event["type"] == ev.TEXT_DELTA:
            received.append(event["delta"])
            if len(received) == 6:
                cancel.cancel()

    with pytest.raises(AGCloudError) as info:
        client.create({"model": "lorem-200", "input": "x", "stream": True},
                      on_event=on_event, cancel=cancel)
    assert len(received) >= 6
    assert info.value.partial.text == "".join(received)


def test_interrupted_partial_text_is_every_delta_shown(ip, srv):
    srv.drip(0.05)
    timer = interrupt_after(0.6)
    run = run_cell(ip, "%%respond --format text -o r\n" + " ".join(f"w{i}" for i in range(100)))
    timer.join()
    partial = ip.user_ns["r"]
    assert partial.status == "interrupted"
    whole = streamed_prefix(srv, posts(srv)[0], 10**6)
    assert partial.text and whole.startswith(partial.text) and partial.text != whole
    assert partial.text.count(" ") >= 2  # several deltas, not the last one alone
    assert run.stdout.startswith(partial.text)  # exactly what was printed


# -- 5. short keys are masked without any of their characters -------------------------------

SHORT_KEYS = ["sk-test-ab1", "abcdefgh", "sk-ab", "abcde", "sk-1234", "k3y-9876543"]


def assert_hides(masked: str, key: str) -> None:
    """``masked`` shows no character of ``key`` (bar a leading ``sk-`` that every key has)."""
    body = key.removeprefix("sk-")
    shown = masked.removeprefix("sk-") if key.startswith("sk-") else masked
    assert not set(shown) & set(body), (masked, key)


@pytest.mark.parametrize("key", SHORT_KEYS + [f"sk-{'x' * n}" for n in range(2, 9)])
def test_mask_key_reveals_nothing_of_a_short_key(key):
    from agcloud_magic.http.settings import mask_key

    assert 5 <= len(key) <= 11
    assert_hides(mask_key(key), key)
    settings = repr(Settings(api_key=key, base_url="http://127.0.0.1:1/v1"))
    masked = settings.split("api_key=")[1].split(",")[0].strip("'")
    assert_hides(masked, key)


def test_long_keys_still_show_their_last_four():
    from agcloud_magic.http.settings import mask_key

    assert mask_key("sk-test-abcd1234") == "sk-…1234"


@pytest.mark.parametrize("key", ["sk-test-ab1", "abcdefgh"])
def test_config_and_login_show_nothing_of_a_short_key(srv, monkeypatch, key):
    from .magic_support import pointed_at

    with pointed_at(srv, monkeypatch, key=key) as ip:
        run = run_cell(ip, "%agcloud config")
        line = next(ln for ln in run.stdout.splitlines() if ln.startswith("api_key"))
        assert_hides(line.split()[1], key)
        assert key not in run.everything and key[-3:] not in line
        monkeypatch.setattr("getpass.getpass", lambda prompt="": key)
        login = run_cell(ip, "%agcloud login")
        assert_hides(login.stdout.strip().rsplit(" ", 1)[1], key)
        settings = run_cell(ip, "print(repr(get_ipython().magics_manager.registry"
                                "['RespondMagics'].settings()))")
        assert key not in settings.stdout and key[-3:] not in settings.stdout
        get_magics(ip).login_key = None


# -- 6. key-shaped text in server error messages is redacted -------------------------------

LEAKED = "sk-test-leaked-ABCDEFGHIJKLMNOP1234"
OWN_KEYS = [KEY, "agc-NOT-SHAPED-LIKE-ONE-0123456789abcdef"]  # the request's own key, either shape


def assert_no_secret(text: str, own: str) -> None:
    for secret in (LEAKED, own):
        assert secret not in text
        assert secret[-12:] not in text  # not even its tail


@pytest.mark.parametrize("own", OWN_KEYS)
@pytest.mark.parametrize("status", [400, 401, 403, 404, 429, 500, 503])
def test_status_error_messages_never_carry_a_key(srv, own, status):
    srv.fail_next(status, message=f"Key {LEAKED} is not valid here; you sent {own}.")
    client = Client(Settings(api_key=own, base_url=srv.base_url, model="echo"), max_retries=0)
    with pytest.raises(AGCloudError) as info:
        client.create({"input": "x", "stream": True})
    for text in (str(info.value), repr(info.value), str(info.value.args)):
        assert_no_secret(text, own)
    if status == 400:
        assert "is not valid here" in str(info.value)  # the server's words are kept


@pytest.mark.parametrize("own", OWN_KEYS)
@pytest.mark.parametrize("shape", ["nested", "flat", "failed"])
def test_stream_error_messages_never_carry_a_key(srv, own, shape):
    message = f"Key {LEAKED} was revoked; so was {own}."
    if shape == "failed":
        srv.fail_in_stream(after_events=6, code="server_error", message=message)
    else:
        srv.error_mid_stream(after_events=6, shape=shape, message=message)
    client = Client(Settings(api_key=own, base_url=srv.base_url, model="echo"), max_retries=0)
    with pytest.raises(AGCloudError) as info:
        client.create({"input": "x", "stream": True})
    partial = info.value.partial
    kept = [str(info.value), repr(info.value), str(info.value.args), repr(partial.error),
            repr(partial.response), repr(partial)]
    for text in kept:
        assert_no_secret(text, own)
    assert "was revoked" in str(info.value)


@pytest.mark.parametrize("own", OWN_KEYS)
def test_magic_output_never_carries_a_key_from_an_error(srv, monkeypatch, own):
    from .magic_support import pointed_at

    with pointed_at(srv, monkeypatch, key=own) as ip:
        srv.fail_next(400, message=f"Bad key {LEAKED} (and {own})")
        first = run_cell(ip, "%%respond\nhello")
        srv.error_mid_stream(after_events=6, message=f"Revoked {LEAKED} and {own}")
        second = run_cell(ip, "%%respond -o r\nhello")
        shown = run_cell(ip, "print(repr(r)); r")
    for run in (first, second, shown):
        assert_no_secret(run.everything, own)
    assert "Bad key" in first.everything and "Revoked" in second.everything


# -- 7. a forced tool_choice goes out on the first request only ------------------------------


def double(x: int) -> int:
    """Double an integer."""
    return 2 * x


def assert_forced_once(bodies: list[dict], expected_choice) -> None:
    assert len(bodies) == 2  # the forced call, then the answer to its output
    assert bodies[0]["tool_choice"] == expected_choice
    assert "tool_choice" not in bodies[1]
    assert bodies[1]["tools"] == bodies[0]["tools"]  # the tools themselves are resent
    assert [item["type"] for item in bodies[1]["input"]] == ["function_call_output"]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [("required", "required"), ("double", {"type": "function", "name": "double"})],
)
def test_forced_tool_choice_is_not_resent_through_the_magic(ip, srv, choice, expected):
    ip.user_ns["double"] = double
    run = run_cell(ip, f"%%respond --tools double --tool-choice {choice} -o r\nDouble it.")
    assert run.error is None and not run.stderr, run.stderr
    assert_forced_once(posts(srv), expected)
    assert "double" in run.stdout  # the tool line
    assert "Tool results: double -> 0" in ip.user_ns["r"].text  # a text answer ended the turn
    assert get_magics(ip).session.conversation.thread().head == ip.user_ns["r"].id


@pytest.mark.parametrize("choice", ["required", {"type": "function", "name": "double"}])
def test_forced_tool_choice_is_not_resent_through_respond(srv, choice):
    import agcloud_magic

    client = make_client(srv)
    result = agcloud_magic.respond("Double it.", client=client, tools=[double], tool_choice=choice)
    assert_forced_once(posts(srv), choice)
    assert result.status == "completed" and "Tool results: double -> 0" in result.text
    srv.clear()
    result = asyncio.run(
        agcloud_magic.arespond("Double it.", client=client, tools=[double], tool_choice=choice)
    )
    assert_forced_once(posts(srv), choice)
    assert "Tool results: double -> 0" in result.text


# -- 8. Ctrl-C closes the HTTP connection (the server stops writing) -----------------------


def test_interrupt_closes_the_connection_promptly(ip, srv):
    srv.drip(0.05)
    timer = interrupt_after(0.6)
    run = run_cell(ip, "%%respond\n" + " ".join(f"w{i}" for i in range(200)))
    returned = time.monotonic()
    timer.join()
    assert "interrupted" in run.stdout + run.stderr
    assert len(srv.streams) == 1
    record = srv.streams[0]
    # The server notices at its next write (one drip later) that the client hung up.
    assert wait_for(lambda: record.outcome is not None, 1.0), record
    assert record.outcome == "client_gone"
    assert record.ended - returned < 0.5
    assert record.sent < record.total / 4  # far from the whole answer
    sent = record.sent
    time.sleep(0.3)
    assert record.sent == sent and len(posts(srv)) == 1  # nothing more went out


# -- the stand-in faults and records these tests rely on -----------------------------------


def test_standin_stall_ignore_stream_and_stream_records(srv):
    import httpx

    url, auth = srv.base_url + "/responses", {"Authorization": f"Bearer {KEY}"}
    body = {"model": "echo", "input": "hi", "stream": True}
    srv.ignore_stream()
    whole = httpx.post(url, json=body, headers=auth)
    assert whole.headers["content-type"].startswith("application/json")
    assert whole.json()["status"] == "completed" and not srv.streams
    srv.ignore_stream()
    mismatch = httpx.post(url, json={**body, "stream": False}, headers=auth)
    assert mismatch.status_code == 500 and "standin_fault_mismatch" in mismatch.text
    srv.clear()  # (the queued fault was used by the mismatch; clear() also forgets streams)
    srv.stall_after(5, 0.4)
    arrivals = []
    started = time.monotonic()
    with httpx.stream("POST", url, json=body, headers=auth) as response:
        for line in response.iter_lines():
            if line.startswith("event:"):
                arrivals.append(time.monotonic() - started)
    assert arrivals[4] < 0.3 and arrivals[5] >= 0.4  # five events, then the pause
    (record,) = srv.streams
    assert record.outcome == "completed" and record.sent == record.total == len(arrivals)
    srv.cut_after(3)
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream("POST", url, json=body, headers=auth) as response,
    ):
        response.read()
    assert srv.streams[-1].outcome == "cut" and srv.streams[-1].sent == 3
