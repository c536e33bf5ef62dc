"""``%agcloud export`` / ``%agcloud import``: a thread as JSON (round trip, continued after
import by client replay) or as safe Markdown; bad files and paths are one line."""

from __future__ import annotations

import json

import pytest

from .magic_support import KEY, posts, run_cell
from .test_conversation_client import user_texts


@pytest.fixture()
def fresh(ip):
    assert run_cell(ip, "%agcloud new").error is None
    yield ip
    run_cell(ip, "%agcloud chat main")
    run_cell(ip, "%agcloud new")


def said(run) -> str:
    return run.stdout + run.stderr + str(run.error or "")


def test_json_round_trip_then_continue_by_replay(fresh, srv, tmp_path):
    assert run_cell(fresh, "%%respond\nMy name is Ada.").error is None
    assert run_cell(fresh, "%%respond\nI like tea.").error is None
    path = tmp_path / "thread.json"
    wrote = run_cell(fresh, f"%agcloud export {path}")
    assert "written to" in wrote.stdout and "2 turns" in wrote.stdout
    text = path.read_text("utf-8")
    assert KEY not in text and "sk-test" not in text
    document = json.loads(text)
    assert document["format"] == "agcloud-magic.thread" and len(document["turns"]) == 2
    assert document["turns"][1]["prompt"] == "I like tea."
    run_cell(fresh, f"%agcloud export {tmp_path / 'again.json'}")
    assert (tmp_path / "again.json").read_bytes() == path.read_bytes()  # stable bytes
    srv.stored.clear()  # a server that never saw these responses (another day, machine)
    imported = run_cell(fresh, f"%agcloud import {path} lesson")
    assert "Imported thread 'lesson' (2 turns), now current" in imported.stdout
    go_on = run_cell(fresh, "%%respond\nWhat is my name?")
    assert go_on.error is None, said(go_on)
    replay = posts(srv)[-1]
    assert user_texts(replay) == ["My name is Ada.", "I like tea.", "What is my name?"]
    assert "Replayed the thread from this kernel's copy" in said(go_on)
    history = run_cell(fresh, "%agcloud history lesson")
    assert "3 turn(s)" in history.stdout


def test_markdown_is_a_readable_report_with_inert_html(fresh, srv, tmp_path):
    srv.script([{"text": "Here: <script>alert(1)</script> and\n```html\n<b>code</b>\n```"}])
    assert run_cell(fresh, "%%respond\nShow <b>me</b> HTML.").error is None
    path = tmp_path / "report.md"
    assert "as md" in run_cell(fresh, f"%agcloud export {path}").stdout
    text = path.read_text("utf-8")
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "> Show &lt;b&gt;me&lt;/b&gt; HTML." in text
    assert "```html\n<b>code</b>\n```" in text  # a code block stays as written
    printed = run_cell(fresh, "%agcloud export --format md")
    assert printed.stdout.startswith("# Thread ")


@pytest.mark.parametrize("content, words", [
    ("not json", "the file is not JSON"),
    ('{"format": "other"}', 'no "format": "agcloud-magic.thread"'),
    ('{"format": "agcloud-magic.thread", "version": 9}', "version 9"),
    ('{"format": "agcloud-magic.thread", "version": 1, "turns": {}}', "must be a list"),
    ('{"format": "agcloud-magic.thread", "version": 1, "turns": [{}]}', "no response_id"),
    ('{"format": "agcloud-magic.thread", "version": 1, "turns": [{"response_id": "r", '
     '"input_items": ["x"]}]}', "input_items must be a list of objects"),
])
def test_a_bad_file_is_one_line(fresh, tmp_path, content, words):
    path = tmp_path / "bad.json"
    path.write_text(content, "utf-8")
    run = run_cell(fresh, f"%agcloud import {path}")
    assert words in said(run) and "Traceback" not in said(run)


def test_missing_files_threads_and_formats_are_one_line(fresh, tmp_path):
    assert "Cannot read" in said(run_cell(fresh, f"%agcloud import {tmp_path / 'none.json'}"))
    assert "Cannot write" in said(run_cell(fresh, f"%agcloud export {tmp_path}/no/dir/x.json"))
    assert "no thread named 'nope'" in said(run_cell(fresh, "%agcloud export nope"))
    pdf = run_cell(fresh, "%agcloud export --format pdf")
    assert "--format must be one of json, md" in said(pdf)
