"""Run the stand-in in a subprocess so its CPU does not share the measured process's GIL."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def standin_process(token_delay: float = 0.0) -> Iterator[str]:
    """Yield the base URL of a stand-in server running in its own process."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "agcloud_magic.cli", "serve", "--port", str(port),
         "--token-delay", str(token_delay)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.post(f"{base}/responses", json={"model": "echo", "input": "ping"},
                           headers={"Authorization": "Bearer sk-test-bench"}, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("stand-in did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)
