"""Threads that outlive the kernel: the per-notebook store, ``%agcloud store`` and
``%agcloud forget`` in a shell; two real kernels in a row (a restart) continue one thread."""

from __future__ import annotations

import json

import pytest

from agcloud_magic.engine.conversation import Conversation
from agcloud_magic.engine.threadstore import ThreadStore, notebook_store
from agcloud_magic.standin import serve

from .magic_support import KEY, posts, run_cell
from .test_conversation_client import user_texts


@pytest.fixture()
def fresh(ip):
    assert run_cell(ip, "%agcloud new").error is None
    yield ip
    from agcloud_magic.ipython.extension import get_magics

    get_magics(ip).session.store = None
    run_cell(ip, "%agcloud new")


def test_a_named_store_is_written_after_every_turn_and_holds_no_key(fresh, srv, tmp_path):
    path = tmp_path / "course.json"
    assert "Threads kept in" in run_cell(fresh, f"%agcloud store {path}").stdout
    assert run_cell(fresh, "%%respond\nFirst.").error is None
    assert run_cell(fresh, "%%respond\nSecond.").error is None
    text = path.read_text("utf-8")
    assert KEY not in text and "sk-test" not in text
    document = json.loads(text)
    (main,) = [t for t in document["threads"] if t["thread"] == document["current"]]
    assert [t["prompt"] for t in main["turns"]] == ["First.", "Second."]
    again = Conversation()
    assert ThreadStore(path).load(again) == 2  # a new kernel's conversation
    assert [t.prompt for t in again.thread(document["current"]).path()] == ["First.",
                                                                           "Second."]
    forgot = run_cell(fresh, "%agcloud forget")
    assert "forgotten" in forgot.stdout
    assert ThreadStore(path).load(Conversation()) == 0


def test_the_notebook_names_its_store(monkeypatch, tmp_path):
    monkeypatch.setenv("AGCLOUD_THREADS_DIR", str(tmp_path))
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "course" / "lesson 1.ipynb"))
    one = notebook_store({})
    assert one is not None and one.path.parent == tmp_path
    assert one.path.name.startswith("lesson_1-") and one.path.suffix == ".json"
    vscode = notebook_store({"__vsc_ipynb_file__": str(tmp_path / "other.ipynb")})
    assert vscode is not None and vscode.path != one.path
    monkeypatch.setenv("AGCLOUD_THREADS_FILE", str(tmp_path / "mine.json"))
    assert notebook_store({}).path == tmp_path / "mine.json"  # a file named by the user wins
    monkeypatch.delenv("AGCLOUD_THREADS_FILE")
    monkeypatch.delenv("JPY_SESSION_NAME")
    assert notebook_store({}) is None  # no front end says: nothing is stored


def test_a_broken_store_is_one_line(tmp_path):
    path = tmp_path / "s.json"
    path.write_text("{broken", "utf-8")
    with pytest.raises(Exception, match="is not JSON"):
        ThreadStore(path).load(Conversation())


@pytest.mark.kernel
@pytest.mark.parametrize("server_restarted", [False, True])
def test_a_restarted_kernel_continues_the_thread(monkeypatch, tmp_path, server_restarted):
    from .test_notebook_kernel import execute

    monkeypatch.setenv("AGCLOUD_THREADS_DIR", str(tmp_path / "threads"))
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "lesson.ipynb"))
    srv = serve()
    try:
        execute(["%load_ext agcloud_magic", "%%respond\nMy name is Ada.",
                 "%%respond\nI like tea."], monkeypatch, srv)
        (stored,) = (tmp_path / "threads").glob("lesson-*.json")
        (thread,) = json.loads(stored.read_text("utf-8"))["threads"]
        head = thread["turns"][-1]["response_id"]  # the first kernel's last answer
        before = len(posts(srv))
        if server_restarted:  # a new stand-in on the same port: it knows no response
            port = srv.port
            srv.stop()
            srv, before = serve(port=port), 0
        second, _ = execute(["%load_ext agcloud_magic", "%%respond\nWhat is my name?"],
                            monkeypatch, srv)
        sent = posts(srv)[before:]
    finally:
        srv.stop()
    loaded = "".join(o.get("text", "") for o in second.cells[0].outputs)
    assert "restored 1 thread(s), 2 turn(s) of this notebook" in loaded
    answer = "".join(str(o.get("data", o.get("text", ""))) for o in second.cells[1].outputs)
    if server_restarted:  # the chained try, then the replay from the restored items
        assert len(sent) == 2 and "previous_response_id" not in sent[1]
        assert user_texts(sent[1]) == ["My name is Ada.", "I like tea.", "What is my name?"]
        assert "Replayed the thread" in answer
    else:  # the server still has it: chained onto the last turn of the first kernel
        assert len(sent) == 1 and sent[0]["previous_response_id"] == head
