"""Run the stand-in in a subprocess so its CPU does not share the measured process's GIL.

``standin_process`` runs ``agcloud-magic serve`` (latency and rate-limit flags included).
``counted_standin`` runs this file as a script instead: the same server, plus a line protocol
on stdin/stdout to read its counters (``requests_served``, ``rate_limited``) and to reset them
with a fresh rate-limit window, which ``serve`` cannot expose across processes.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import IO, Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _profile_flags(first_token: float | None, tokens_per_second: float | None,
                   rpm: int | None, tpm: int | None) -> list[str]:
    flags: list[str] = []
    for name, value in (("--first-token", first_token), ("--tokens-per-second", tokens_per_second),
                        ("--rpm", rpm), ("--tpm", tpm)):
        if value is not None:
            flags += [name, str(value)]
    return flags


def _wait_ready(base: str, proc: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(f"{base}/models", headers={"Authorization": "Bearer sk-test-bench"},
                      timeout=1)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("stand-in did not start") from None
            time.sleep(0.1)


@contextlib.contextmanager
def standin_process(token_delay: float = 0.0, *, first_token: float | None = None,
                    tokens_per_second: float | None = None, rpm: int | None = None,
                    tpm: int | None = None) -> Iterator[str]:
    """Yield the base URL of a stand-in server running in its own process."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "agcloud_magic.cli", "serve", "--port", str(port),
         "--token-delay", str(token_delay), "--quiet",
         *_profile_flags(first_token, tokens_per_second, rpm, tpm)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_ready(base, proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


class CountedStandin:
    """A handle on a ``counted_standin`` process: its base URL, counters and reset."""

    def __init__(self, proc: subprocess.Popen[str], base: str) -> None:
        self.proc = proc
        self.base = base

    def _ask(self, command: str) -> dict[str, Any]:
        stdin: IO[str] = self.proc.stdin  # type: ignore[assignment]
        stdout: IO[str] = self.proc.stdout  # type: ignore[assignment]
        stdin.write(command + "\n")
        stdin.flush()
        return json.loads(stdout.readline())

    def counters(self) -> dict[str, int]:
        """``{"requests_served": ..., "rate_limited": ...}`` since the last reset."""
        return self._ask("counters")

    def reset(self) -> None:
        """Zero the counters and start the rate limits on an empty window."""
        self._ask("reset")


@contextlib.contextmanager
def counted_standin(*, first_token: float = 0.0, tokens_per_second: float | None = None,
                    rpm: int | None = None, tpm: int | None = None,
                    backlog: int | None = None) -> Iterator[CountedStandin]:
    """Yield a :class:`CountedStandin` whose server runs in its own process; ``backlog``:
    its listen backlog (default :data:`LISTEN_BACKLOG`)."""
    args = {"first_token": first_token, "tokens_per_second": tokens_per_second,
            "rpm": rpm, "tpm": tpm, "backlog": backlog}
    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), json.dumps(args)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        stdout: IO[str] = proc.stdout  # type: ignore[assignment]
        line = stdout.readline()
        if not line:
            raise RuntimeError("stand-in did not start")
        base = json.loads(line)["base_url"]
        _wait_ready(base, proc)
        yield CountedStandin(proc, base)
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait(10)


def _serve_counted(args: dict[str, Any]) -> None:
    from agcloud_magic.standin import serve

    with serve() as srv:
        def apply() -> None:
            srv.latency(args["first_token"], args["tokens_per_second"])
            if args["rpm"] is not None or args["tpm"] is not None:
                srv.rate_limit(args["rpm"], args["tpm"])
            else:
                srv.rate_limit()

        apply()
        print(json.dumps({"base_url": srv.base_url}), flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "reset":
                srv.clear()
                apply()
                print(json.dumps({"ok": True}), flush=True)
            elif command == "counters":
                print(json.dumps({"requests_served": srv.requests_served,
                                  "rate_limited": srv.rate_limited}), flush=True)
            else:
                print(json.dumps({"error": f"unknown command {command!r}"}), flush=True)


if __name__ == "__main__":
    _serve_counted(json.loads(sys.argv[1]))
