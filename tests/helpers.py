"""Shared test helpers: where the shared reference lives, fixture framing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """The shared/ folder beside the clone (CI lays it there too)."""
    for candidate in (REPO.parent / "shared", REPO / "shared"):
        if (candidate / "reference").is_dir():
            return candidate
    raise RuntimeError(
        f"shared/reference not found beside {REPO.name}; it must sit next to the clone"
    )


def fixture_files() -> list[Path]:
    return sorted((shared_dir() / "reference" / "fixtures").iterdir())


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
