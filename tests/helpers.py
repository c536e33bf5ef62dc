"""Shared test helpers: the vendored reference, fixture framing, running code in a kernel."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


REFERENCE = REPO / "tests" / "reference"


def reference_path() -> Path:
    """The vendored copy of the shared reference (``scripts/sync_reference.py`` keeps it)."""
    return REFERENCE


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a Python child process that imports this checkout's package.

    ``PYTHONPATH`` starts with the repository, and mutmut's ``MUTANT_UNDER_TEST=stats`` is
    dropped: a child cannot report which tests reach which code to mutmut (its trampoline then
    fails), while a named mutant is kept so the child runs the mutated code too."""
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    if env.get("MUTANT_UNDER_TEST") == "stats":
        del env["MUTANT_UNDER_TEST"]
    return env


def fixture_files() -> list[Path]:
    return sorted(p for p in (REFERENCE / "fixtures").iterdir() if p.is_file())


def fixture_stream_bytes(path: Path) -> bytes:
    """The wire bytes of a recorded stream (.jsonl lines framed as INDEX.json describes)."""
    raw = path.read_bytes()
    if path.suffix != ".jsonl":
        return raw
    framed = []
    for line in raw.splitlines():
        if line.strip():
            kind = json.loads(line)["type"]
            framed.append(b"event: " + kind.encode() + b"\ndata: " + line + b"\n\n")
    return b"".join(framed)


def execute_in_kernel(kc: Any, code: str, timeout: float = 60) -> tuple[str, list[dict]]:
    """Run ``code`` through a kernel client and wait until the kernel is idle again.

    Returns the cell's stream text and its display messages (``display_data`` and
    ``update_display_data`` contents, each with its ``kind``) in order; an error in the cell
    fails the test with the kernel's traceback."""
    import pytest

    msg_id = kc.execute(code)
    text, displays = "", []
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "error":
            pytest.fail("\n".join(content["traceback"]))
        if kind == "stream":
            text += content["text"]
        if kind in ("display_data", "update_display_data"):
            displays.append({"kind": kind, **content})
        if kind == "status" and content["execution_state"] == "idle":
            return text, displays
