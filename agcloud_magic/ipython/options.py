"""The options of ``%%respond`` / ``%respond``: declaration, line splitting, validation.

Declared with IPython's ``magic_arguments`` so ``%%respond?`` shows real help and a bad option is
a one-line ``UsageError``.  Values are checked here, before anything is sent.
"""

from __future__ import annotations

import difflib
import shlex
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from IPython.core.magic_arguments import argument

from agcloud_magic.engine.rules import EFFORTS, FORMATS, ROLES, SUMMARIES, check
from agcloud_magic.errors import ConfigError

__all__ = [
    "EFFORTS",
    "FORMATS",
    "HELP_HINT",
    "RESPOND_ARGUMENTS",
    "ROLES",
    "SUMMARIES",
    "canonical_option",
    "closest",
    "csv_list",
    "option_names",
    "parse_reasoning",
    "request_fields",
    "respond_arguments",
    "split_line",
    "unknown",
]


HELP_HINT = "(%respond --help lists them)"

RESPOND_ARGUMENTS = [
    argument("-h", "--help", action="store_true", help="show these options; send nothing"),
    argument("-m", "--model", help="model id (request field `model`)"),
    argument(
        "--instructions",
        "--system",
        dest="instructions",
        help="system/developer instructions, resent on every turn of the thread",
    ),
    argument("--max-output-tokens", type=int, help="cap on output tokens (>= 16)"),
    argument("-t", "--temperature", type=float, help="sampling temperature, 0 to 2"),
    argument("--top-p", type=float, help="nucleus sampling, 0 to 1"),
    argument("--no-stream", action="store_true", help="wait for the whole answer (stream: false)"),
    argument("--reasoning", help="reasoning effort[,summary], e.g. `low` or `high,auto`"),
    argument("--truncation", choices=("auto", "disabled"), help="request field `truncation`"),
    argument("--role", choices=ROLES, help="role of the input message (default user)"),
    argument(
        "--tools", help="comma-separated kernel functions (or JSON tool specs) the model may call"
    ),
    argument("--tool-choice", help="auto, none, required, or a function name"),
    argument("--max-rounds", type=int, help="bound on tool-call rounds (default 8)"),
    argument(
        "--image",
        action="append",
        default=[],
        metavar="PATH/URL/VAR",
        help="attach an image: a file, an http(s) URL, or a figure / PIL image / bytes "
        "variable (repeatable)",
    ),
    argument("--detail", choices=("low", "high", "auto"), help="image detail"),
    argument(
        "--file",
        action="append",
        default=[],
        metavar="PATH/URL",
        help="attach a file: a local path or an http(s) URL (repeatable)",
    ),
    argument(
        "--df",
        action="append",
        default=[],
        metavar="NAME",
        help="add a summary of the DataFrame NAME to the input (repeatable)",
    ),
    argument("--budget", type=int, help="characters per DataFrame summary (default 6000)"),
    argument("--no-sample-rows", action="store_true", help="summaries without sample rows"),
    argument("--columns", help="comma-separated columns to summarise (allow list)"),
    argument("--exclude-columns", help="comma-separated columns to leave out of summaries"),
    argument(
        "--dry-run", action="store_true", help="show exactly what would be sent; send nothing"
    ),
    argument("--new", action="store_true", help="start a fresh conversation in this thread"),
    argument("--stateless", action="store_true",
             help="carry the conversation in the client: send the thread's items as input, "
             "store: false (see %%agcloud config conversation=client)"),
    argument("--chat", metavar="NAME", help="use (and select) the conversation thread NAME"),
    argument(
        "--continue",
        dest="continue_id",
        metavar="RESP_ID",
        help="chain onto a stored response id (e.g. after a kernel restart)",
    ),
    argument("-o", "--out", metavar="VAR", help="store the result object in VAR"),
    argument(
        "--each",
        metavar="DF",
        help="send the cell once per row of the DataFrame or Series DF ({column} / {value}); "
        "the result is a DataFrame",
    ),
    argument(
        "--schema",
        metavar="NAME",
        help="with --each: a schema (dict, dataclass, TypedDict, pydantic model, JSON schema) "
        "giving one typed column per field",
    ),
    argument("--concurrency", type=int, metavar="N",
             help="with --each: the most requests in flight (default 64; adapts to 429s)"),
    argument("--rows-per-request", type=int, metavar="N",
             help="with --each and --schema: rows sharing one request (default 20)"),
    argument("--budget-tokens", type=int, metavar="N",
             help="with --each: stop once the requests used N tokens (the rest: not run)"),
    argument("--budget-cost", type=float, metavar="USD",
             help="with --each: stop once the requests cost USD (needs %%agcloud config "
             "prices=...)"),
    argument("--rpm", type=int, metavar="N", help="with --each: at most N requests a minute"),
    argument("--tpm", type=int, metavar="N", help="with --each: at most N tokens a minute"),
    argument("--text-format", action="store_true",
             help="with --each and --schema: send the schema as text.format json_schema, not "
             "a forced tool"),
    argument("--no-cache", action="store_true",
             help="with --each: neither read nor write the row cache"),
    argument("--yes", action="store_true",
             help="with --each: send without asking, however many rows (see confirm_rows)"),
    argument("--format", choices=FORMATS, help="how to show the answer (default markdown)"),
]


def respond_arguments(func: Callable[..., Any]) -> Callable[..., Any]:
    """Apply every ``%%respond`` option to ``func`` (decorators apply bottom-up)."""
    for decorator in reversed(RESPOND_ARGUMENTS):
        func = decorator(func)
    return func


def closest(word: str, known: Iterable[str]) -> str | None:
    """The one entry of ``known`` closest to the typo ``word`` (difflib), if any is close."""
    matches = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return matches[0] if matches else None


def unknown(
    what: str, word: str, known: Iterable[str] | Mapping[str, str], hint: str,
    *, compare: str | None = None,
) -> ConfigError:
    """One wording for every typo: ``Unknown WHAT WORD; did you mean X? HINT``.

    ``known`` may map what is compared to what is shown (``delay`` -> ``delay=SECONDS``);
    ``compare`` is the part of ``word`` to compare (its name without ``=value``)."""
    shown = dict(known) if isinstance(known, Mapping) else {k: k for k in known}
    guess = closest(compare or word, shown)
    suggestion = f"; did you mean {shown[guess]}?" if guess else ""
    return ConfigError(f"Unknown {what} {word}{suggestion} {hint}")


def option_names(parser: Any) -> tuple[set[str], set[str]]:
    """``(options that take a value, flags)`` of an argparse parser."""
    values = {o for a in parser._actions if a.nargs != 0 for o in a.option_strings}
    flags = {o for a in parser._actions if a.nargs == 0 for o in a.option_strings}
    return values, flags


def canonical_option(name: str, known: Collection[str]) -> str:
    """``name`` as declared: itself, or the one long option it abbreviates (argparse accepts a
    unique prefix, so the line magic must too); otherwise one line naming the closest option.
    """
    if name in known:
        return name
    if name.startswith("--"):
        longer = sorted(o for o in known if o.startswith(name))
        if len(longer) == 1:
            return longer[0]
        if longer:
            raise ConfigError(
                f"Ambiguous option {name}: it could be {', '.join(longer)} {HELP_HINT}"
            )
    raise unknown("option", name, (o for o in known if o.startswith("--")), HELP_HINT)


def split_line(line: str, value_options: set[str], flag_options: set[str]) -> tuple[str, str]:
    """Split a ``%respond`` line into its options and the free text after them.

    The text keeps its spelling (quotes, apostrophes, braces); only leading options are parsed,
    each checked here (:func:`canonical_option`), so ``%%respond``, which splits its line the
    same way, words a typo alike.  ``--`` ends the options explicitly.
    """
    lexer = shlex.shlex(line, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    options_end = 0
    expect_value = False
    while True:
        start = options_end + len(line[options_end:]) - len(line[options_end:].lstrip())
        try:
            token = lexer.get_token()
        except ValueError:  # an unbalanced quote: the rest is free text
            return line[:options_end], line[start:]
        if token is None or token == "":
            return line[:options_end], ""
        position = min(lexer.instream.tell(), len(line))
        if expect_value:
            expect_value = False
        elif token == "--":
            return line[:options_end], line[position:].strip()
        elif token.startswith("-") and len(token) > 1:
            name = canonical_option(token.split("=", 1)[0], value_options | flag_options)
            expect_value = name in value_options and "=" not in token
        else:
            return line[:options_end], line[start:]
        options_end = position


def parse_reasoning(text: str | None) -> dict[str, str] | None:
    """``effort[,summary]`` -> the request's ``reasoning`` object (its values are checked with
    every other field, by :mod:`agcloud_magic.engine.rules`, when the Ask is built)."""
    if not text:
        return None
    effort, _, summary = (part.strip() for part in text.partition(","))
    return {"effort": effort, "summary": summary} if summary else {"effort": effort}


def request_fields(args: Any, defaults: dict[str, Any]) -> dict[str, Any]:
    """Request fields from parsed options over ``defaults`` (the session's preferences).

    The values are checked by the Ask they go into (one set of rules for every face); the
    summary budget, which is not a request field, is checked here by the same rules."""
    fields = dict(defaults)
    given = {
        "model": args.model,
        "instructions": args.instructions,
        "max_output_tokens": args.max_output_tokens,
        "temperature": args.temperature,
        "top_p": args.top_p,
        "truncation": args.truncation,
        "reasoning": parse_reasoning(args.reasoning),
    }
    fields.update({k: v for k, v in given.items() if v is not None})
    if args.no_stream:
        fields["stream"] = False
    check("summary_budget", args.budget)
    return {k: v for k, v in fields.items() if v is not None}


def csv_list(text: str | None) -> list[str] | None:
    """``a, b,c`` -> ``["a", "b", "c"]`` (``None`` stays ``None``)."""
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]
