"""Turn parsed ``%%respond`` options and text into an :class:`~agcloud_magic.engine.ask.Ask`.

Everything the user named is resolved here, before anything is sent: variables, DataFrames,
images, files and tools.  A name that does not resolve is a :class:`ConfigError` (one line).
"""

from __future__ import annotations

import keyword
from collections.abc import Iterable
from typing import Any

from agcloud_magic.engine.ask import Ask
from agcloud_magic.errors import ConfigError
from agcloud_magic.ipython.options import csv_list, request_fields

__all__ = [
    "attachment_parts",
    "build_ask",
    "check_out_name",
    "dataframe_parts",
    "expand_response_id",
    "known_response_ids",
    "short_response_id",
]

#: Ids longer than this are shown shortened (an OpenAI id, ``resp_`` + 48 hex, stays whole;
#: gateways such as LiteLLM send 400+ characters).
SHORTEN_OVER = 64
_HEAD, _TAIL = 12, 6
_ELLIPSES = ("…", "...")


def _alike(head: str, tail: str, known: Iterable[str]) -> list[str]:
    """The ids in ``known`` that the shortened form ``head…tail`` could stand for."""
    return [
        i for i in known
        if i.startswith(head) and i.endswith(tail) and len(i) >= len(head) + len(tail)
    ]


def short_response_id(response_id: str, known: Iterable[str] = ()) -> str:
    """``response_id`` as shown: whole when short, else its first 12 characters, ``…`` and
    its last 6, the tail grown until no other id in ``known`` looks the same (so every form
    shown is one :func:`expand_response_id` accepts)."""
    if len(response_id) <= SHORTEN_OVER:
        return response_id
    others = [i for i in known if i != response_id]
    head = response_id[:_HEAD]
    for size in range(_TAIL, len(response_id) - _HEAD - 8):
        tail = response_id[-size:]
        if not _alike(head, tail, others):
            return f"{head}…{tail}"
    return response_id  # alike almost to the end: only the whole id tells them apart


def expand_response_id(given: str, known: Iterable[str]) -> str:
    """The id ``--continue`` means: ``given`` itself, or the one id in ``known`` (the turns
    of this kernel) its shortened form ``head…tail`` (or ``head...tail``) stands for."""
    for mark in _ELLIPSES:
        head, sep, tail = given.partition(mark)
        if sep and head and tail:
            break
    else:
        return given
    matches = _alike(head, tail, set(known))
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ConfigError(
            f"--continue {given}: {len(matches)} turns match that shortened id; give more of "
            "it (see %agcloud history) or the full id."
        )
    raise ConfigError(
        f"--continue {given}: no turn of this kernel matches that shortened id; give the full "
        "id (after a kernel restart only the full id is known)."
    )


# Names IPython itself relies on in the notebook namespace: -o must not replace them.
_SHELL_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit", "display"})


def check_out_name(name: str | None) -> None:
    """Refuse an ``-o`` name that is not a plain identifier or that IPython needs (``_``,
    ``_ih``, ``__builtins__``, ``get_ipython``, ...): storing the result there would break
    every later cell."""
    if name is None:
        return
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ConfigError(f"-o {name}: not a Python name; use a plain name such as answer")
    if name.startswith("_") or name in _SHELL_NAMES:
        raise ConfigError(
            f"-o {name}: IPython uses that name; choose another, such as answer"
        )


def dataframe_parts(magics: Any, args: Any) -> list[dict[str, Any]]:
    """One ``input_text`` part per ``--df NAME``: the frame's summary."""
    if not args.df:
        return []
    from agcloud_magic.dataframes import summarize

    namespace = magics.shell.user_ns
    parts = []
    for name in args.df:
        if name not in namespace:
            raise ConfigError(f"--df {name}: no variable of that name; define the DataFrame first.")
        value = namespace[name]
        kind = type(value).__name__
        if kind not in ("DataFrame", "Series") or "pandas" not in type(value).__module__:
            raise ConfigError(f"--df {name}: is a {kind}, not a pandas DataFrame or Series.")
        try:
            text = summarize(
                value,
                name=name,
                budget=args.budget or magics.summary_budget,
                sample_rows=0 if args.no_sample_rows else 5,
                columns=csv_list(args.columns),
                exclude=csv_list(args.exclude_columns),
            )
        except ValueError as exc:
            raise ConfigError(f"--df {name}: {exc}") from None
        parts.append({"type": "input_text", "text": text})
    return parts


def attachment_parts(magics: Any, args: Any) -> list[dict[str, Any]]:
    """``input_image`` / ``input_file`` parts for ``--image`` and ``--file``."""
    if not args.image and not args.file:
        return []
    from agcloud_magic.engine.attachments import file_part, image_part

    namespace = magics.shell.user_ns
    parts = [image_part(src, namespace=namespace, detail=args.detail) for src in args.image]
    parts += [file_part(src, namespace=namespace) for src in args.file]
    return parts


def build_ask(magics: Any, args: Any, text: str) -> Ask:
    """Validate everything and build the ask (nothing is sent here)."""
    fields = request_fields(args, magics.request_defaults())
    text = text.strip()
    prompt = magics.interpolate(text) if text else ""
    parts = dataframe_parts(magics, args) + attachment_parts(magics, args)
    tools = None
    if args.tools:
        from agcloud_magic.tools.options import resolve_tools, tool_choice_value

        tools = resolve_tools(args.tools, magics.shell.user_ns)
        if args.tool_choice:
            fields["tool_choice"] = tool_choice_value(args.tool_choice, tools)
    elif args.tool_choice:
        if args.tool_choice not in ("auto", "none", "required"):
            raise ConfigError(
                f"--tool-choice {args.tool_choice}: name the function with --tools too."
            )
        fields["tool_choice"] = args.tool_choice
    return Ask(
        text=prompt,
        parts=parts,
        role=args.role or "user",
        fields=fields,
        thread=args.chat,
        new=args.new,
        continue_id=_continue_id(magics, args.continue_id),
        cell_id=magics.cell_id,
        tools=tools,
        max_rounds=magics.max_tool_rounds if args.max_rounds is None else args.max_rounds,
        max_calls_per_round=magics.max_tool_calls_per_round,
        max_calls=magics.max_tool_calls,
        stateless=args.stateless,
    )


def _continue_id(magics: Any, given: str | None) -> str | None:
    """``--continue`` as given, or the full id a shortened one from the history stands for."""
    if not given:
        return given
    return expand_response_id(given, known_response_ids(magics.session.conversation))


def known_response_ids(conversation: Any) -> list[str]:
    """Every response id the kernel's threads hold."""
    return [i for thread in conversation.threads.values() for i in thread.turns]
