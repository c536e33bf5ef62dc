"""``agcloud-magic serve`` and ``python -m agcloud_magic.standin`` as real processes."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from agcloud_magic.cli import main

REPO = Path(__file__).resolve().parents[1]


def _start(*args: str) -> subprocess.Popen[str]:
    env = dict(os.environ)
    # The package may not be installed; make the checkout importable in the child.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, *args], cwd=REPO, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize("entry", [["-m", "agcloud_magic.cli", "serve"],
                                   ["-m", "agcloud_magic.standin"]])
def test_serve_prints_url_answers_and_exits_cleanly(entry: list[str]) -> None:
    proc = _start(*entry, "--port", "0", "--api-key", "sk-test-cli-key")
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert "offline stand-in" in line.lower() and "no real model" in line
        match = re.search(r"(http://127\.0\.0\.1:\d+/v1)\b", line)
        assert match, line
        response = httpx.post(f"{match[1]}/responses", json={"model": "echo", "input": "ping"},
                              headers={"Authorization": "Bearer sk-test-cli-key"}, timeout=10)
        assert response.status_code == 200
        assert "You said: ping" in response.json()["output"][0]["content"][0]["text"]
    finally:
        proc.send_signal(signal.SIGTERM if sys.platform != "win32" else signal.CTRL_C_EVENT)
        out, err = proc.communicate(timeout=10)
    if sys.platform != "win32":
        assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "sk-test-cli-key" not in out + err  # the key never shows up in logs
    assert "POST /v1/responses" in err  # one log line per request (not --quiet)


def test_port_in_use_is_a_one_line_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = _start("-m", "agcloud_magic.cli", "serve", "--port", str(port), "--quiet")
        _out, err = proc.communicate(timeout=10)
    assert proc.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in err and "Traceback" not in err


def test_main_without_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "serve" in capsys.readouterr().out


def test_serve_models_option_sets_the_list() -> None:
    proc = _start("-m", "agcloud_magic.standin", "--port", "0", "--quiet",
                  "--models", "house-model, echo")
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        match = re.search(r"(http://127\.0\.0\.1:\d+/v1)\b", line)
        assert match, line
        auth = {"Authorization": "Bearer sk-test-cli-key"}
        listed = httpx.get(f"{match[1]}/models", headers=auth, timeout=10).json()
        assert [m["id"] for m in listed["data"]] == ["house-model", "echo"]
        typo = httpx.post(f"{match[1]}/responses", json={"model": "gpt-4o-mini", "input": "x"},
                          headers=auth, timeout=10)
        assert typo.status_code == 404 and typo.json()["error"]["code"] == "model_not_found"
    finally:
        proc.send_signal(signal.SIGTERM if sys.platform != "win32" else signal.CTRL_C_EVENT)
        proc.communicate(timeout=10)


def test_serve_models_option_refuses_an_empty_list() -> None:
    proc = _start("-m", "agcloud_magic.standin", "--port", "0", "--models", " , ")
    _out, err = proc.communicate(timeout=10)
    assert proc.returncode == 2
    assert "--models" in err and "Traceback" not in err


def _url(proc: subprocess.Popen[str]) -> str:
    line = proc.stdout.readline() if proc.stdout else ""
    match = re.search(r"(http://127\.0\.0\.1:\d+/v1)\b", line)
    assert match, line
    return match[1]


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM if sys.platform != "win32" else signal.CTRL_C_EVENT)
    proc.communicate(timeout=10)


def test_serve_store_path_keeps_responses_across_restarts(tmp_path: Path) -> None:
    store = tmp_path / "store.jsonl"
    auth = {"Authorization": "Bearer sk-test-cli-key"}
    proc = _start("-m", "agcloud_magic.standin", "--port", "0", "--quiet",
                  "--store-path", str(store))
    try:
        first = httpx.post(f"{_url(proc)}/responses", json={"model": "echo", "input": "one"},
                           headers=auth, timeout=10).json()
    finally:
        _stop(proc)
    proc = _start("-m", "agcloud_magic.standin", "--port", "0", "--quiet",
                  "--store-path", str(store))
    try:
        second = httpx.post(f"{_url(proc)}/responses", headers=auth, timeout=10,
                            json={"model": "echo", "input": "two",
                                  "previous_response_id": first["id"]})
        assert second.status_code == 200, second.text
        assert "Turn 2" in second.json()["output"][0]["content"][0]["text"]
    finally:
        _stop(proc)
    assert "sk-test-cli-key" not in store.read_text("utf-8")


def test_serve_profile_options_set_latency_and_rate_limits() -> None:
    proc = _start("-m", "agcloud_magic.standin", "--port", "0", "--quiet", "--rpm", "1",
                  "--first-token", "0.3", "--tokens-per-second", "1000")
    try:
        url = _url(proc)
        auth = {"Authorization": "Bearer sk-test-cli-key"}
        body = {"model": "echo", "input": "x"}
        first = httpx.post(f"{url}/responses", json=body, headers=auth, timeout=10)
        assert first.status_code == 200
        assert first.elapsed.total_seconds() >= 0.29
        second = httpx.post(f"{url}/responses", json=body, headers=auth, timeout=10)
        assert second.status_code == 429 and int(second.headers["Retry-After"]) >= 1
    finally:
        _stop(proc)


def test_serve_refuses_a_bad_profile() -> None:
    proc = _start("-m", "agcloud_magic.standin", "--port", "0", "--rpm", "0")
    _out, err = proc.communicate(timeout=10)
    assert proc.returncode == 2
    assert "rpm" in err and "Traceback" not in err
