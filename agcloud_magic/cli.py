"""The ``agcloud-magic`` command line.  Subcommands are argparse subparsers; add new ones in
:func:`build_parser` with ``set_defaults(run=...)``.
"""

from __future__ import annotations

import argparse
import sys

from agcloud_magic._version import __version__

__all__ = ["build_parser", "main"]


def _run_serve(args: argparse.Namespace) -> int:
    # Imported here so that `agcloud-magic --help` stays instant.
    from agcloud_magic.standin.main import run_serve

    return run_serve(args)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per command."""
    from agcloud_magic.standin.main import add_serve_arguments

    parser = argparse.ArgumentParser(
        prog="agcloud-magic",
        description="AGCloud's Responses API in Jupyter: command-line helpers.",
    )
    parser.add_argument(
        "-V", "--version", action="version", version=f"%(prog)s {__version__}",
        help="print the version and exit",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="run the offline stand-in Responses server (no real model)",
        description="Serve an offline stand-in of POST /v1/responses on loopback: "
        "deterministic echo/lorem models, no real model is called.",
    )
    add_serve_arguments(serve)
    serve.set_defaults(run=_run_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``agcloud-magic`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        return 2
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
