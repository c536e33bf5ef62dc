"""SSE parse time of one big event: is :class:`~agcloud_magic.wire.sse.SSEParser` linear?

    .venv/bin/python bench/bench_sse.py [--sizes 1,4,16,64] [--runs 5] [--before REV]

One ``data:`` line of N MB (a ``response.output_text.delta`` of N MB of ``x``) and its blank
line are fed to a fresh parser in 64 KiB chunks, as httpx hands them over; each row is the
median of ``--runs`` parses.  MB/s stays flat when parsing is linear in the bytes; a parser that
re-joins its whole buffer with each chunk loses speed as the event grows.  The caps are raised
to fit the largest size (the 64 MB row is past the default 32 MiB line cap).

``--before REV`` also times the parser of git revision ``REV`` (``wire/sse.py`` loaded from
``git show``; it may predate the caps), sizes up to 16 MB only: a quadratic parser needs about
a minute for 64 MB.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agcloud_magic.wire.sse import SSEParser  # noqa: E402

CHUNK = 64 * 1024
MB = 1_000_000
BEFORE_MAX_MB = 16


def event_bytes(megabytes: int) -> bytes:
    """One SSE event whose data line is ``megabytes`` MB long."""
    head = b'data: {"type": "response.output_text.delta", "delta": "'
    tail = b'"}\n\n'
    return head + b"x" * (megabytes * MB - len(head) - len(tail)) + tail


def parse_seconds(make_parser: Any, raw: bytes) -> float:
    """Seconds to feed ``raw`` to a fresh parser in 64 KiB chunks (checked: one event)."""
    parser = make_parser()
    chunks = [raw[at : at + CHUNK] for at in range(0, len(raw), CHUNK)]
    events = []
    started = time.perf_counter()
    for chunk in chunks:
        events += parser.feed(chunk)
    elapsed = time.perf_counter() - started
    if len(events) != 1 or len(events[0].data) != len(raw) - 8:
        raise RuntimeError("the parser did not return the one event")
    return elapsed


def parser_at(rev: str) -> Any:
    """The ``SSEParser`` class of ``agcloud_magic/wire/sse.py`` at git revision ``rev``."""
    source = subprocess.run(
        ["git", "show", f"{rev}:agcloud_magic/wire/sse.py"], cwd=REPO, check=True,
        capture_output=True, text=True,
    ).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(source)
    spec = importlib.util.spec_from_file_location("sse_before", handle.name)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    Path(handle.name).unlink()
    return module.SSEParser


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1,4,16,64", help="event sizes in MB")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--before", default=None, metavar="REV", help="also time this revision")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    cap = max(sizes) * MB + CHUNK
    contenders = [("ours", lambda: SSEParser(max_line=cap, max_event=cap))]
    if args.before:
        contenders.insert(0, (f"before ({args.before})", parser_at(args.before)))
    print(f"One event in {CHUNK // 1024} KiB chunks; median of {args.runs} runs.\n")
    print("| parser | event MB | parse ms | MB/s |")
    print("|---|---:|---:|---:|")
    for name, make in contenders:
        for size in sizes:
            if name != "ours" and size > BEFORE_MAX_MB:
                continue
            raw = event_bytes(size)
            seconds = statistics.median(parse_seconds(make, raw) for _ in range(args.runs))
            print(f"| {name} | {size} | {seconds * 1000:,.1f} | {size / seconds:,.0f} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
