"""The chat panel driven from Python (no browser) against the stand-in over loopback.

Each test sets the prompt, clicks Send the way a front end would (``button.click()``) and waits
with ``panel.wait()``; the panel shares the magics' session, so ``%%respond`` cells run in the
same shell chain with it.
"""

from __future__ import annotations

import itertools
import struct
import threading
import time
import zlib

import pytest

from agcloud_magic.ipython.extension import get_magics
from agcloud_magic.panel import Panel
from agcloud_magic.panel.request import FLUSH_INTERVAL
from agcloud_magic.standin import serve

from .magic_support import pointed_at, posts, run_cell
from .panel_support import answers, send, wait_for

LONG = " ".join(f"word{i}" for i in range(60))
PAYLOAD = '<img src=x onerror="window.__agc_pwned=1"> <script>window.__agc_pwned=2</script>'
CLASSES = (
    "agc-panel",
    "agc-model",
    "agc-instructions",
    "agc-temperature",
    "agc-max-tokens",
    "agc-df-picker",
    "agc-df-preview",
    "agc-upload",
    "agc-prompt",
    "agc-send",
    "agc-stop",
    "agc-new",
    "agc-thread",
    "agc-transcript",
    "agc-usage",
    "agc-error",
)




def all_classes(widget) -> set[str]:
    found = set(widget._dom_classes)
    for child in getattr(widget, "children", ()):
        found |= all_classes(child)
    return found



# -- the basics --------------------------------------------------------------------------


def test_panel_uses_the_magics_session_and_carries_its_classes(ip, panel):
    assert panel.session is get_magics(ip).session
    assert set(CLASSES) <= all_classes(panel.root)
    bundle = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert panel.model_id in str(bundle) and panel.children == (panel.root,)


def test_panel_loads_the_extension_when_needed(ip):
    ip.run_line_magic("unload_ext", "agcloud_magic")
    assert get_magics(ip) is None
    panel = Panel()
    try:
        assert get_magics(ip) is not None and panel.session is get_magics(ip).session
    finally:
        panel.close()


def test_agcloud_panel_returns_a_panel(ip):
    panel = ip.run_line_magic("agcloud", "panel")
    assert isinstance(panel, Panel)
    assert panel.session is get_magics(ip).session
    panel.close()


def test_send_returns_at_once_and_the_answer_streams_in(panel, srv):
    srv.drip(0.02)
    seen: list[str] = []
    panel.prompt.value = LONG
    started = time.monotonic()
    panel.send.click()
    click_took = time.monotonic() - started
    # The answer takes seconds to drip in; the click must not wait for it (generous bound so
    # a loaded CI machine does not flake).
    assert click_took < 1.0
    assert panel.future is not None and not panel.future.done()
    assert panel.send.disabled and not panel.stop.disabled
    live_tail = panel._request.live.tail
    stamps: list[float] = []

    def watch(change):
        seen.append(change["new"])
        stamps.append(time.monotonic())

    live_tail.observe(watch, names="value")
    # While it streams, the transcript holds the answer so far (and the kernel is free).
    wait_for(lambda: len(answers(panel)) == 1 and len(answers(panel)[0]["text"]) > 20)
    partial = answers(panel)[0]
    assert partial["status"] == "in_progress"
    result = panel.wait()
    elapsed = time.monotonic() - started
    assert result is not None and result.status == "completed"
    final = answers(panel)[0]
    assert final["status"] == "completed" and final["response_id"] == result.id
    assert "Turn 1 of this conversation" in final["text"] and "word59" in final["text"]
    assert len(partial["text"]) < len(final["text"])
    # Streamed: several updates, coalesced to at most one per FLUSH_INTERVAL (about 20/s).
    assert len(seen) >= 3
    assert 3 <= panel.updates <= elapsed / FLUSH_INTERVAL + 2
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert min(gaps) > FLUSH_INTERVAL * 0.6, gaps  # never two updates back to back
    deltas = len(LONG.split())
    assert panel.updates < deltas
    assert not panel.send.disabled and panel.stop.disabled
    assert "tokens" in panel.usage.value and panel.error.value == ""
    assert "word59" in panel.ui.history.value and panel.ui.live.children == ()
    user = panel.transcript[0]
    assert user == {**user, "role": "user", "text": LONG, "thread": "main", "source": "panel"}


def test_the_kernel_stays_usable_while_an_answer_streams(ip, panel, srv):
    srv.drip(0.05)
    panel.prompt.value = LONG
    panel.send.click()
    run = run_cell(ip, "x_during_stream = 6 * 7")
    assert run.error is None and ip.user_ns["x_during_stream"] == 42
    assert not panel.future.done()
    panel.stop.click()


def test_request_fields_come_from_the_controls(panel, srv):
    panel.model.value = "echo"
    panel.instructions.value = "Be brief."
    panel.temperature_default.value = False
    panel.temperature.value = 0.4
    panel.max_tokens.value = 500
    send(panel, "hello")
    body = posts(srv)[0]
    assert body["model"] == "echo"
    assert body["instructions"] == "Be brief."
    assert body["temperature"] == pytest.approx(0.4)
    assert body["max_output_tokens"] == 500
    assert body["stream"] is True and body["input"] == "hello"
    panel.temperature_default.value = True
    panel.max_tokens.value = 0
    send(panel, "again")
    body = posts(srv)[1]
    assert "temperature" not in body and "max_output_tokens" not in body
    # Instructions are resent on every turn (the API does not inherit them).
    assert body["instructions"] == "Be brief."
    assert panel.prompt.value == ""


def test_answers_render_as_inert_html(panel):
    send(panel, PAYLOAD)
    html = panel.ui.history.value
    assert "<img" not in html and "<script" not in html
    assert "&lt;img" in html and "&lt;script&gt;" in html
    # The text itself is kept as written (for export), only its HTML is made safe.
    assert PAYLOAD in panel.transcript[0]["text"]


def test_to_markdown_exports_the_transcript(panel):
    send(panel, "first question")
    send(panel, "second question")
    md = panel.to_markdown()
    assert md.startswith("# AGCloud conversation: thread `main`")
    assert md.count("**You**:") == 2 and md.count("**Assistant**") == 2
    assert "> first question" in md and "Turn 2 of this conversation" in md


# -- Stop and New chat -------------------------------------------------------------------


def test_stop_cancels_within_half_a_second_and_keeps_the_head(panel, srv):
    first = send(panel, "before")
    head = panel.session.conversation.thread("main").head
    assert head == first.id
    srv.drip(0.05)
    panel.prompt.value = LONG
    panel.send.click()
    wait_for(lambda: len(answers(panel)) == 2 and answers(panel)[1]["text"])
    started = time.monotonic()
    panel.stop.click()
    # Required: within half a second; the margin keeps a loaded CI machine from flaking.
    assert panel.wait(1.0) is None
    assert time.monotonic() - started < 1.0
    assert panel.future.cancelled()
    stopped = answers(panel)[-1]
    assert stopped["status"] == "stopped" and stopped["text"] and "word59" not in stopped["text"]
    assert "stopped" in panel.ui.history.value and "stopped" in panel.usage.value
    assert not panel.send.disabled and panel.stop.disabled
    time.sleep(0.3)  # nothing records the cancelled turn afterwards either
    assert panel.session.conversation.thread("main").head == head
    # The next turn chains onto the head as it was.
    send(panel, "after")
    assert posts(srv)[-1]["previous_response_id"] == head
    assert "Turn 2 of this conversation" in answers(panel)[-1]["text"]


def test_new_chat_starts_the_thread_afresh(panel, srv):
    send(panel, "one")
    send(panel, "two")
    assert len(panel.transcript) == 4
    panel.new_chat.click()
    assert panel.transcript == []
    assert panel.session.conversation.thread("main").head is None
    send(panel, "three")
    assert "previous_response_id" not in posts(srv)[-1]
    assert "Turn 1 of this conversation" in answers(panel)[0]["text"]


def test_new_chat_while_streaming_stops_and_clears(panel, srv):
    send(panel, "one")
    srv.drip(0.05)
    panel.prompt.value = LONG
    panel.send.click()
    wait_for(lambda: len(answers(panel)) == 2 and answers(panel)[1]["text"])
    panel.new_chat.click()
    assert panel.future.cancelled() and not panel.busy
    assert panel.transcript == [] and panel.session.conversation.thread("main").head is None


# -- shared threads with %%respond ---------------------------------------------------------


def test_a_panel_turn_chains_onto_a_respond_cell(ip, panel, srv):
    run = run_cell(ip, "%%respond\nfrom the magic")
    assert run.error is None
    magic_id = get_magics(ip).session.last.id
    send(panel, "from the panel")
    assert posts(srv)[-1]["previous_response_id"] == magic_id
    assert "Turn 2 of this conversation" in answers(panel)[-1]["text"]
    first, second = panel.transcript[0], panel.transcript[2]
    assert first["source"] == "magic" and not first["excerpt"] and first["text"] == "from the magic"
    assert second["source"] == "panel" and not second["excerpt"]
    assert "from %%respond" in panel.ui.history.value


def test_a_respond_cell_chains_onto_a_panel_turn(ip, panel, srv):
    result = send(panel, "from the panel")
    run = run_cell(ip, "%%respond\nfrom the magic")
    assert run.error is None
    assert posts(srv)[-1]["previous_response_id"] == result.id
    assert "Turn 2 of this conversation" in run.stdout
    history = run_cell(ip, "%agcloud history").stdout
    assert result.id in history and "from the panel" in history
    # The panel shows the magic's turn after the cell ran, without a refresh.
    assert [e["source"] for e in panel.transcript] == ["panel", "panel", "magic", "magic"]
    assert "from %%respond" in panel.ui.history.value


def test_threads_can_be_created_picked_and_kept_apart(ip, panel, srv):
    send(panel, "in main")
    panel.thread_name.value = "side"
    assert panel.thread.value == "side" and "side" in panel.thread.options
    assert panel.transcript == []
    send(panel, "in side")
    assert "previous_response_id" not in posts(srv)[-1]
    assert "Turn 1 of this conversation" in answers(panel)[0]["text"]
    panel.thread.value = "main"
    assert [e["text"] for e in panel.transcript if e["role"] == "user"] == ["in main"]
    # %%respond --chat side continues the panel's side thread.
    side_head = panel.session.conversation.thread("side").head
    run_cell(ip, "%%respond --chat side\nmore")
    assert posts(srv)[-1]["previous_response_id"] == side_head


# -- errors land on the error line ----------------------------------------------------------


def test_no_key_shows_on_the_error_line_and_sends_nothing(panel, srv, monkeypatch, capsys):
    monkeypatch.delenv("AGCLOUD_API_KEY")
    panel.prompt.value = "hello"
    panel.send.click()
    assert "No API key" in panel.error.value
    assert posts(srv) == [] and not panel.busy and panel.future is None
    assert panel.prompt.value == "hello"  # kept for a retry
    assert capsys.readouterr().err == ""


def test_empty_prompt_is_refused(panel, srv):
    panel.prompt.value = "   "
    panel.send.click()
    assert "Nothing to send" in panel.error.value and posts(srv) == []


def test_wrong_key_401(monkeypatch, capsys):
    with (
        serve(api_key="sk-test-right") as server,
        pointed_at(server, monkeypatch, key="sk-test-wrong-0000"),
    ):
        panel = Panel()
        assert send(panel, "hello") is None
        assert "Authentication failed (401)" in panel.error.value
        assert "sk-test-wrong" not in panel.error.value
        assert answers(panel)[0]["status"] == "failed"
        assert panel.session.conversation.thread().head is None
        panel.close()
    assert capsys.readouterr().err == ""


def test_rate_limited_after_retries_429(ip, panel, srv):
    get_magics(ip).max_retries = 2
    srv.fail_next(429, times=3, retry_after=0)
    assert send(panel, "hello") is None
    assert len(posts(srv)) == 3
    assert "Rate limited (429)" in panel.error.value


def test_a_cut_stream_keeps_the_partial_text(panel, srv):
    srv.cut_after(6)
    assert send(panel, LONG) is None
    assert panel.error.value
    cut = answers(panel)[0]
    assert cut["status"] == "failed" and cut["text"] and "word59" not in cut["text"]
    assert "failed" in panel.ui.history.value
    assert panel.session.conversation.thread().head is None


def test_unexpected_exceptions_are_one_line_not_a_traceback(panel, monkeypatch, capsys):
    async def broken(ask, sink):
        raise RuntimeError("boom")

    monkeypatch.setattr(panel.session, "arun", broken)
    assert send(panel, "hello") is None
    assert "RuntimeError: boom" in panel.error.value
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out


# -- keyboard, DataFrames, uploads ----------------------------------------------------------


def test_the_keyboard_shortcut_message_sends(panel, srv):
    assert panel.ui.keys is not None, "anywidget is a dependency: the shortcut must exist"
    panel.prompt.value = "via keys"
    panel.ui.keys._handle_custom_msg({"event": "send"}, [])
    panel.wait()
    assert posts(srv)[0]["input"] == "via keys"
    # The browser sends the text on screen with the key press (its own value sync may lag).
    panel.prompt.value = "half typ"
    panel.ui.keys._handle_custom_msg({"event": "send", "prompt": "half typed, then more"}, [])
    panel.wait()
    assert posts(srv)[1]["input"] == "half typed, then more"


def test_dataframes_are_listed_previewed_and_sent(ip, panel, srv):
    pd = pytest.importorskip("pandas")
    ip.user_ns["sales"] = pd.DataFrame({"region": ["north", "south"], "amount": [10.5, 7.25]})
    ip.user_ns["not_a_frame"] = [1, 2]
    run_cell(ip, "pass")  # the picker lists new DataFrames after each cell
    assert "sales" in panel.df_picker.options and "not_a_frame" not in panel.df_picker.options
    panel.df_picker.value = ("sales",)
    assert "sales" in panel.df_preview.value and "amount" in panel.df_preview.value
    send(panel, "describe it")
    content = posts(srv)[0]["input"][0]["content"]
    assert content[0] == {"type": "input_text", "text": "describe it"}
    assert content[1]["type"] == "input_text" and "amount" in content[1]["text"]
    assert "DataFrame sales" in panel.ui.history.value
    assert panel.df_picker.value == ()


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_uploads_become_image_and_file_parts(panel, srv):
    png, csv = _png(), b"a,b\n1,2\n"
    # What the front end sends when files are picked (the widget's JSON state).
    panel.upload.set_state(
        {
            "value": [
                {
                    "name": "dot.png",
                    "type": "image/png",
                    "size": len(png),
                    "content": memoryview(png),
                    "last_modified": 0,
                },
                {
                    "name": "t.csv",
                    "type": "text/csv",
                    "size": len(csv),
                    "content": memoryview(csv),
                    "last_modified": 0,
                },
            ]
        }
    )
    send(panel, "look")
    content = posts(srv)[0]["input"][0]["content"]
    kinds = [part["type"] for part in content]
    assert kinds == ["input_text", "input_image", "input_file"]
    assert content[1]["image_url"].startswith("data:image/png;base64,")
    assert content[2]["filename"] == "t.csv"
    assert panel.upload.value == ()


def test_callbacks_from_another_thread_do_not_deadlock(panel, srv):
    # Stop pressed while the loop thread is flushing: both take the panel's lock.
    srv.drip(0.01)
    panel.prompt.value = LONG
    panel.send.click()
    stopper = threading.Timer(0.15, panel.stop.click)
    stopper.start()
    panel.wait(5)
    stopper.join()
    assert not panel.busy
