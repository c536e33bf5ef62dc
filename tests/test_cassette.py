"""Record and replay: a cassette recorded against the stand-in holds no key, re-records to
the same bytes, and replays in a fresh kernel whose server is a closed port: same answers,
no request to any server; a changed cell is one line naming what differs."""

from __future__ import annotations

import json
import socket

import pytest

from agcloud_magic.standin import serve

from .magic_support import KEY, posts, run_cell
from .test_notebook_kernel import execute

LESSON = ["%%respond\nName three penguin species.", "%%respond\nWhich is the largest?"]


@pytest.fixture()
def fresh(ip):
    assert run_cell(ip, "%agcloud new").error is None
    yield ip
    run_cell(ip, "%agcloud record stop")
    run_cell(ip, "%agcloud replay stop")
    run_cell(ip, "%agcloud new")


def record(ip, path) -> None:
    assert "Recording every answer" in run_cell(ip, f"%agcloud record {path}").stdout
    for cell in LESSON:
        assert run_cell(ip, cell).error is None
    assert "2 answers" in run_cell(ip, "%agcloud record stop").stdout


def test_a_cassette_holds_no_key_and_renames_ids(fresh, srv, tmp_path):
    path = tmp_path / "lesson.jsonl"
    record(fresh, path)
    text = path.read_text("utf-8")
    assert KEY not in text and "sk-test" not in text and "authorization" not in text.lower()
    first, second = (json.loads(line) for line in text.splitlines())
    assert second["request"]["previous_response_id"] == "resp_0001"
    completed = [e for _, e in first["events"] if e["type"] == "response.completed"]
    assert completed[0]["response"]["id"] == "resp_0001"
    assert completed[0]["response"]["created_at"] == 0


def test_recording_the_same_lesson_again_gives_the_same_bytes(ip, tmp_path):
    files = []
    for run in range(2):  # a fresh stand-in and a fresh thread each time
        with serve() as server:
            from .magic_support import pointed_at

            with pytest.MonkeyPatch.context() as patch, pointed_at(server, patch) as shell:
                run_cell(shell, "%agcloud new")
                record(shell, tmp_path / f"take{run}.jsonl")
                files.append((tmp_path / f"take{run}.jsonl").read_bytes())
    assert files[0] == files[1]


def test_replay_answers_as_recorded_and_a_changed_cell_is_one_line(fresh, srv, tmp_path):
    path = tmp_path / "lesson.jsonl"
    record(fresh, path)
    answers = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    sent_before = len(posts(srv))
    run_cell(fresh, "%agcloud new")
    assert "Replaying 2 recorded answers" in run_cell(fresh, f"%agcloud replay {path} fast").stdout
    replayed = [run_cell(fresh, cell) for cell in LESSON]
    assert all(r.error is None for r in replayed)
    assert len(posts(srv)) == sent_before  # nothing reached the recording server
    done = next(e for _, e in answers[1]["events"] if e["type"] == "response.completed")
    final_text = done["response"]["output"][0]["content"][0]["text"]
    assert final_text.splitlines()[0] in replayed[1].stdout
    changed = run_cell(fresh, "%%respond\nName four penguin species.")
    said = changed.stdout + changed.stderr
    assert "No recording for this request: its input differs" in said
    assert "'Name four penguin species.' sent" in said and "Traceback" not in said


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"  # nothing listens here once the socket is closed


@pytest.mark.kernel
def test_a_fresh_kernel_without_key_or_server_replays_the_lesson(monkeypatch, tmp_path):
    path = tmp_path / "lesson.jsonl"
    with serve() as srv:
        recorded, _ = execute(["%load_ext agcloud_magic", f"%agcloud record {path}",
                               *LESSON], monkeypatch, srv)
    # The classroom: no key, the configured server a closed port, the recording stand-in gone.
    monkeypatch.delenv("AGCLOUD_API_KEY", raising=False)

    class Closed:
        base_url = closed_port()

    nb, _ = execute(["%load_ext agcloud_magic", f"%agcloud replay {path} fast", *LESSON],
                    monkeypatch, Closed())
    monkeypatch.delenv("AGCLOUD_API_KEY", raising=False)

    def text(notebook, index):
        return "".join(json.dumps(o.get("data", o.get("text", ""))) for o in
                       notebook.cells[index].outputs)

    for index, (cell, turn) in zip((2, 3), ((LESSON[0], 1), (LESSON[1], 2)), strict=True):
        live, replayed = text(recorded, index), text(nb, index)
        assert "Error" not in replayed and "rror" not in replayed, replayed
        for part in (f"Turn {turn} of this conversation", cell.split("\n", 1)[1]):
            assert part in live and part in replayed  # the same answer, offline


def test_replay_live_sends_what_was_not_recorded_to_the_server(fresh, srv, tmp_path):
    path = tmp_path / "lesson.jsonl"
    record(fresh, path)
    sent = len(posts(srv))
    run_cell(fresh, "%agcloud new")
    started = run_cell(fresh, f"%agcloud replay {path} fast live")
    assert f"unrecorded requests go to {srv.base_url}" in started.stdout
    assert run_cell(fresh, LESSON[0]).error is None
    assert len(posts(srv)) == sent  # recorded: answered by the cassette
    extra = run_cell(fresh, "%%respond\nAnd the smallest?")
    said = extra.stdout + extra.stderr
    assert extra.error is None and "No recording" not in said
    live = posts(srv)[sent:]
    # Chained onto a cassette id the live server never saw: refused, then replayed from the
    # kernel's copy, with one line.
    assert [("previous_response_id" in b) for b in live] == [True, False]
    assert "Replayed the thread" in said
