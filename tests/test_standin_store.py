"""Stored responses kept on disk (``serve(store_path=...)``), so a restart keeps conversations."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from agcloud_magic.standin import serve

from .helpers import child_env
from .magic_support import KEY as MAGIC_KEY
from .magic_support import run_cell

KEY = "sk-test-store-SECRET-0123456789"


def _post(srv: Any, **body: Any) -> httpx.Response:
    return httpx.post(f"{srv.base_url}/responses", json={"model": "echo", **body},
                      headers={"Authorization": f"Bearer {KEY}"}, timeout=10)


def _text(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return response.json()["output"][0]["content"][0]["text"]


def test_a_restarted_server_finds_the_previous_response(tmp_path: Path) -> None:
    path = tmp_path / "store.jsonl"
    with serve(store_path=path) as srv:
        first = _post(srv, input="remember kumquat")
        first_id = first.json()["id"]
        streamed = _post(srv, input="and fig", stream=True, previous_response_id=first_id)
        second_id = re.findall(r'"id":"(resp_\w+)"', streamed.text)[-1]
        unstored = _post(srv, input="forget me", store=False).json()["id"]
    with serve(store_path=path) as again:
        third = _post(again, input="what was it?", previous_response_id=second_id)
        assert "Turn 3 of this conversation" in _text(third)
        fetched = httpx.get(f"{again.base_url}/responses/{first_id}",
                            headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
        assert fetched.status_code == 200 and fetched.json()["id"] == first_id
        assert unstored not in again.stored  # store: false is never written
        deleted = httpx.delete(f"{again.base_url}/responses/{first_id}",
                               headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
        assert deleted.status_code == 200
    with serve(store_path=path) as third_start:
        assert first_id not in third_start.stored  # a deletion is kept too
        assert second_id in third_start.stored


def test_the_store_file_is_json_lines_without_any_key(tmp_path: Path) -> None:
    path = tmp_path / "store.jsonl"
    with serve(store_path=path) as srv:
        _post(srv, input="hello")
    text = path.read_text("utf-8")
    records = [json.loads(line) for line in text.splitlines()]
    assert records and all(set(r) >= {"id", "response"} for r in records)
    assert KEY not in text and "Bearer" not in text and "uthorization" not in text
    if os.name == "posix":
        assert path.stat().st_mode & 0o077 == 0  # only the owner can read it


def test_the_store_is_bounded_and_survives_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "store.jsonl"
    with serve(store_path=path, max_stored=3) as srv:
        ids = [_post(srv, input=f"turn {i}").json()["id"] for i in range(8)]
        assert list(srv.stored) == ids[-3:]  # the oldest are forgotten first
    assert len(path.read_text("utf-8").splitlines()) <= 2 * 3  # compacted as it grows
    with path.open("a", encoding="utf-8") as f:
        f.write('{"id": "resp_torn", "respo')  # a crash mid-write
    with serve(store_path=path, max_stored=3) as again:
        assert list(again.stored) == ids[-3:]
        assert "Turn 2" in _text(_post(again, input="next", previous_response_id=ids[-1]))


def test_a_bad_store_setting_fails_at_once(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        serve(store_path=tmp_path / "s.jsonl", max_stored=0).stop()


# -- through the magics: %agcloud offline stop, then %agcloud offline ------------------------


def _session(ip: Any) -> Any:
    from agcloud_magic.ipython.extension import get_magics

    return get_magics(ip).session


def test_offline_restart_keeps_the_conversation(ip: Any, monkeypatch: Any) -> None:
    monkeypatch.delenv("AGCLOUD_STANDIN_URL", raising=False)
    try:
        assert run_cell(ip, "%agcloud offline").error is None
        first = run_cell(ip, "%respond remember the word kumquat")
        assert first.error is None and "Turn 1 of this conversation" in first.stdout
        path = Path(_session(ip).offline.store_path)
        assert path.parent == Path(__import__("tempfile").gettempdir())
        assert str(os.getpid()) in path.name  # one file per kernel process
        assert path.name.startswith("agcloud-standin-") and path.suffix == ".jsonl"
        assert run_cell(ip, "%agcloud offline stop").error is None
        assert run_cell(ip, "%agcloud offline delay=0.001").error is None
        assert _session(ip).offline.token_delay == 0.001  # the pace reaches the new server
        second = run_cell(ip, "%respond which word was it?")
        assert second.error is None, second.stderr
        assert "not found" not in second.everything, second.everything
        assert "Turn 2 of this conversation" in second.stdout
        text = path.read_text("utf-8")
        assert "kumquat" in text
        from agcloud_magic.ipython.control import OFFLINE_KEY

        for secret in (OFFLINE_KEY, MAGIC_KEY, "Bearer", "uthorization"):
            assert secret not in text
    finally:
        run_cell(ip, "%agcloud offline stop")


def test_unload_ext_deletes_the_offline_store(ip: Any, monkeypatch: Any) -> None:
    monkeypatch.delenv("AGCLOUD_STANDIN_URL", raising=False)
    from agcloud_magic.ipython.extension import get_magics

    try:
        assert run_cell(ip, "%agcloud offline").error is None
        assert run_cell(ip, "%respond hello").error is None
        path = Path(_session(ip).offline.store_path)
        assert path.exists()
        assert run_cell(ip, "%unload_ext agcloud_magic").error is None
        assert not path.exists()
    finally:
        if get_magics(ip) is None:
            ip.run_line_magic("load_ext", "agcloud_magic")


def test_the_offline_store_is_deleted_at_interpreter_exit(tmp_path: Path) -> None:
    code = (
        "from agcloud_magic.engine.session import Session\n"
        "s = Session()\n"
        "srv = s.start_offline()\n"
        "print(srv.store_path, flush=True)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=child_env(), capture_output=True,
                          text=True, timeout=30, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    path = Path(done.stdout.strip())
    assert path.name.startswith("agcloud-standin-")
    assert not path.exists()
