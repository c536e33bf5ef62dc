"""A real IPython shell with the extension loaded, pointed at a stand-in over loopback."""

from __future__ import annotations

import _thread
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from agcloud_magic.engine.conversation import Conversation
from agcloud_magic.ipython.extension import get_magics

KEY = "sk-test-magic-SECRET-0123456789abcdef"


def shell() -> InteractiveShell:
    """The process's InteractiveShell with agcloud_magic loaded."""
    ip = InteractiveShell.instance()
    if get_magics(ip) is None:
        ip.run_line_magic("load_ext", "agcloud_magic")
    return ip


def reset(ip: InteractiveShell) -> Any:
    """Fresh conversation and default traits, so tests do not leak into each other."""
    magics = get_magics(ip)
    magics.session.conversation = Conversation()
    magics.session.last = None
    for name, trait in magics.traits(config=True).items():
        setattr(magics, name, trait.default())
    magics.max_retries = 0
    magics.login_key = None
    return magics


@dataclass
class Run:
    """What one cell did: its ExecutionResult and everything it printed or displayed."""

    result: Any
    stdout: str
    stderr: str
    outputs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def error(self) -> BaseException | None:
        return self.result.error_in_exec or self.result.error_before_exec

    @property
    def everything(self) -> str:
        shown = [str(v) for out in self.outputs for v in out["data"].values()]
        shown += [repr(out.get("metadata")) for out in self.outputs]
        return "\n".join([self.stdout, self.stderr, *shown])

    @property
    def html(self) -> str:
        return "\n".join(out["data"].get("text/html", "") for out in self.outputs)


def run_cell(ip: InteractiveShell, code: str, cell_id: str | None = None) -> Run:
    """Run ``code`` as a cell (with the cell id a front end would send) and capture it all."""
    with capture_output() as captured:
        result = ip.run_cell(code, store_history=False, cell_id=cell_id)
    outputs = [{"data": o.data, "metadata": o.metadata} for o in captured.outputs]
    return Run(result, captured.stdout, captured.stderr, outputs)


def posts(srv: Any) -> list[dict[str, Any]]:
    """The JSON bodies the stand-in received, in order."""
    return [r.body for r in srv.requests if r.method == "POST"]


@contextlib.contextmanager
def pointed_at(srv: Any, monkeypatch: Any, key: str = KEY) -> Iterator[InteractiveShell]:
    monkeypatch.setenv("AGCLOUD_BASE_URL", srv.base_url)
    monkeypatch.setenv("AGCLOUD_API_KEY", key)
    monkeypatch.delenv("AGCLOUD_MODEL", raising=False)
    ip = shell()
    reset(ip)
    yield ip


def interrupt_once_streaming(srv: Any, fired: list[float]) -> threading.Thread:
    """Ctrl-C the main thread once the stand-in has written a dozen events of its first stream
    (not at a fixed time, which on a loaded machine could land before the request started);
    the moment is appended to ``fired``.  Join the returned thread after the cell."""

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
