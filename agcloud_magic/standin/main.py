"""Run the stand-in from a terminal (`agcloud-magic serve`, `python -m agcloud_magic.standin`)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any, TextIO

from .catalog import DEFAULT_MODELS
from .server import StandinServer

__all__ = ["add_serve_arguments", "main", "run_serve"]

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``serve`` options to ``parser`` (shared by both entry points)."""
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface to bind (default 127.0.0.1, loopback only)")
    parser.add_argument("--port", type=int, default=8765,
                        help="port to listen on; 0 picks a free one (default 8765)")
    parser.add_argument("--token-delay", type=float, default=0.0, metavar="SECONDS",
                        help="pause between streamed events, to watch streaming (default 0)")
    parser.add_argument("--api-key", default=None, metavar="KEY",
                        help="accept only this Bearer key (default: any non-empty key)")
    parser.add_argument("--models", default=None, metavar="NAME,NAME",
                        help="comma-separated model names to serve, replacing the default list "
                        f"({', '.join(DEFAULT_MODELS)}); others get the API's 404")
    parser.add_argument("--store-path", default=None, metavar="FILE",
                        help="keep stored responses in this JSON-lines file, so that a restart "
                        "continues conversations (default: memory only)")
    parser.add_argument("--first-token", type=float, default=0.0, metavar="SECONDS",
                        help="latency profile: wait before the first token (default 0)")
    parser.add_argument("--tokens-per-second", type=float, default=None, metavar="RATE",
                        help="latency profile: output tokens (~4 characters) per second "
                        "(default: no limit)")
    parser.add_argument("--rpm", type=int, default=None, metavar="N",
                        help="rate limit: requests per rolling minute, 429 beyond "
                        "(default: none)")
    parser.add_argument("--tpm", type=int, default=None, metavar="N",
                        help="rate limit: tokens per rolling minute, 429 beyond (default: none)")
    parser.add_argument("--quiet", action="store_true", help="do not log requests to stderr")


def run_serve(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """Serve until Ctrl-C or SIGTERM; return the process exit status."""
    out = out or sys.stdout
    if args.token_delay < 0:
        print("agcloud-magic serve: --token-delay must be >= 0", file=sys.stderr)
        return 2
    models = None
    if args.models is not None:
        models = [name.strip() for name in args.models.split(",") if name.strip()]
        if not models:
            print("agcloud-magic serve: --models needs at least one name", file=sys.stderr)
            return 2
    try:
        srv = StandinServer(args.api_key, args.host, args.port, args.token_delay,
                            log_requests=not args.quiet, models=models,
                            store_path=args.store_path)
    except OSError as exc:  # an unreadable --store-path
        print(f"agcloud-magic serve: cannot read {args.store_path}: {exc.strerror or exc}",
              file=sys.stderr)
        return 2
    try:
        srv.latency(args.first_token, args.tokens_per_second)
        srv.rate_limit(args.rpm, args.tpm)
    except ValueError as exc:
        print(f"agcloud-magic serve: {exc}", file=sys.stderr)
        return 2
    try:
        srv.start()
    except OSError as exc:
        print(f"agcloud-magic serve: cannot listen on {args.host}:{args.port}: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"Offline stand-in for the Responses API (no real model is called) at {srv.base_url}"
          " - Ctrl-C to stop", file=out, flush=True)
    key_hint = "the key given with --api-key" if args.api_key else "any key, e.g. sk-test-offline"
    print(f"Point agcloud-magic at it: AGCLOUD_BASE_URL={srv.base_url} and AGCLOUD_API_KEY = "
          f"{key_hint}", file=sys.stderr, flush=True)
    if args.host not in _LOOPBACK:
        print(f"warning: listening on {args.host}, not loopback: anyone who can reach this "
              "port can use the stand-in", file=sys.stderr, flush=True)
    stop = threading.Event()
    previous: dict[int, Any] = {}

    def _on_signal(signum: int, frame: object) -> None:
        stop.set()

    for name in ("SIGINT", "SIGTERM"):
        signum = getattr(signal, name, None)
        if signum is not None:
            previous[signum] = signal.signal(signum, _on_signal)
    try:
        # Short waits so that signals are handled promptly on every platform.
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    print("Stand-in stopped.", file=out, flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m agcloud_magic.standin [serve options]``."""
    parser = argparse.ArgumentParser(
        prog="python -m agcloud_magic.standin",
        description="Offline stand-in for the Responses API: deterministic, no real model.",
    )
    add_serve_arguments(parser)
    return run_serve(parser.parse_args(argv))
