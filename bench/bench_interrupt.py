"""Interrupt latency in a real kernel after 1, 10 and 30 s of a fast stream.

    .venv/bin/python bench/bench_interrupt.py [--runs 3] [--after 1,10,30]

An endless server (``_endless_server.py``) runs in its own process and streams text deltas
as fast as the socket takes them (the fastest a runaway server can send); a real ipykernel
runs ``%%respond`` with the answer cap raised to 4 GB (so the cap does not end it first); after the
given seconds of streaming the bench interrupts the kernel (SIGINT, as Jupyter's stop
button) and times how long until the kernel is idle again, which is when the user can run the
next cell.  It also reports how much answer had arrived (the characters of the partial answer
the interrupt kept) and whether the cell ended with the one-line "Interrupted" message.
Medians over ``--runs``.
"""

from __future__ import annotations

import argparse
import contextlib
import queue
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from _standin_proc import free_port
from jupyter_client.manager import start_new_kernel

KEY = "sk-test-bench-interrupt"

SETUP = """
import os
os.environ["AGCLOUD_API_KEY"] = {key!r}
os.environ["AGCLOUD_BASE_URL"] = {base!r}
%load_ext agcloud_magic
%agcloud config max_answer_mb=4096 deadline=3600
"""

CELL = "%%respond -o partial_answer --new\nGo on for ever."


@contextlib.contextmanager
def endless_server() -> Iterator[str]:
    """The base URL of an endless stream served by another process."""
    port = free_port()
    script = Path(__file__).with_name("_endless_server.py")
    proc = subprocess.Popen([sys.executable, str(script), str(port)])
    try:
        time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(10)


def wait_idle(kc, msg_id: str, timeout: float = 120) -> tuple[float, str]:
    """Seconds until the kernel is idle after ``msg_id``, and what it printed or showed."""
    shown = ""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            shown += content["text"]
        elif kind in ("display_data", "update_display_data"):
            shown += content["data"].get("text/html", "")[-400:]
        elif kind == "error":
            shown += "\n".join(content["traceback"])
        elif kind == "status" and content["execution_state"] == "idle":
            return time.monotonic(), shown
    raise RuntimeError("the kernel did not come back within the timeout")


def one(km, kc, after: float) -> tuple[float, int, bool]:
    """(seconds from interrupt to idle, characters kept, ended with the one line?)"""
    msg_id = kc.execute(CELL)
    time.sleep(after)
    fired = time.monotonic()
    km.interrupt_kernel()
    idle, shown = wait_idle(kc, msg_id)
    kept = int(_printed(kc, "print(len(partial_answer.text))"))
    return idle - fired, kept, "interrupted" in shown and "Traceback" not in shown


def _printed(kc, code: str) -> str:
    """What ``code`` prints (``-1`` when nothing)."""
    text = ""
    msg_id = kc.execute(code)
    while True:
        msg = kc.get_iopub_msg(timeout=30)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            text += msg["content"]["text"]
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return text.strip() or "-1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--after", default="1,10,30")
    args = parser.parse_args()
    afters = [float(a) for a in args.after.split(",")]
    rows = []
    with endless_server() as base:
        km, kc = start_new_kernel(kernel_name="python3")
        try:
            kc.execute_interactive(SETUP.format(key=KEY, base=base), timeout=60)
            for after in afters:
                samples = [one(km, kc, after) for _ in range(args.runs)]
                latency = statistics.median(s[0] for s in samples)
                kept = statistics.median(s[1] for s in samples)
                clean = all(s[2] for s in samples)
                rows.append((after, latency, kept, clean))
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
    print(f"Interrupt latency, real kernel, median of {args.runs} runs\n")
    print("| streamed for | interrupt -> idle | answer kept | one line, no traceback |")
    print("|---|---|---|---|")
    for after, latency, kept, clean in rows:
        print(f"| {after:g} s | {latency:.2f} s | {kept / 1e6:.1f} M chars | "
              f"{'yes' if clean else 'NO'} |")


if __name__ == "__main__":
    main()
