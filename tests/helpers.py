"""Shared test helpers: where the shared reference lives, fixture framing."""

from __future__ import annotations

import json
from pathlib import Path

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
