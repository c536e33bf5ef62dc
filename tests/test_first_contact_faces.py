"""First contact: what the faces say to a newcomer (issue "First contact").

Each test drives a face the way a user would: magics through a real IPython shell against the
stand-in over loopback, the CLI as a subprocess.
"""

from __future__ import annotations

import _thread
import re
import threading
import time

from agcloud_magic.ipython.extension import get_magics

from .magic_support import run_cell

# -- 1. an interrupted answer's footer gives the real elapsed time ---------------------------


def _interrupt_once_streaming(srv, fired: list[float]) -> threading.Thread:
    """Ctrl-C once the stand-in has written a dozen events (not at a fixed time, which on a
    loaded machine could land before the request started)."""

    def fire() -> None:
        deadline = time.monotonic() + 10
        while not (srv.streams and srv.streams[0].sent >= 12) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        fired.append(time.monotonic())
        _thread.interrupt_main()

    thread = threading.Thread(target=fire)
    thread.start()
    return thread


def test_interrupted_footer_gives_the_real_elapsed_time(ip, srv):
    srv.drip(0.05)
    fired: list[float] = []
    started = time.monotonic()
    thread = _interrupt_once_streaming(srv, fired)
    run = run_cell(ip, "%%respond --format text -o r\n" + " ".join(f"w{i}" for i in range(200)))
    ended = time.monotonic()
    thread.join()
    footer = [line for line in run.stdout.splitlines() if "interrupted" in line]
    assert footer, run.stdout
    seconds = float(re.search(r"(\d+(?:\.\d+)?) s\b", footer[-1]).group(1))
    # A dozen events at 0.05 s each came before the Ctrl-C: at least half a second passed.
    assert 0.5 <= seconds <= ended - started + 0.1, footer[-1]
    # The result itself (-o r, the Python API's view) carries the same time.
    assert ip.user_ns["r"].elapsed is not None
    assert abs(ip.user_ns["r"].elapsed - seconds) < 0.11
    assert get_magics(ip).session.conversation.thread().head is None
