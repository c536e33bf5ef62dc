"""Loading and unloading the IPython extension."""

from __future__ import annotations

import contextlib
import os
import re
import sys
from typing import Any

__all__ = ["get_magics", "load", "protect_questions", "statement_starts", "unload"]


def get_magics(ipython: Any) -> Any:
    """The loaded :class:`~agcloud_magic.ipython.magics.RespondMagics` of ``ipython``, or
    ``None``."""
    return ipython.magics_manager.registry.get("RespondMagics")


def _register_accessor_when_pandas_loads(ipython: Any) -> None:
    # Registering the df.respond accessor needs pandas; importing pandas at load would cost
    # ~0.3 s, so register as soon as the user has imported it.  The check stays until dask's
    # DataFrames have it too (a dict lookup a cell while dask is not imported).
    def check(*_args: Any) -> None:
        if "pandas" in sys.modules:
            from agcloud_magic.accessor import register_pandas_accessor

            register_pandas_accessor()  # dask's too, once dask.dataframe is imported
            if "dask.dataframe" in sys.modules:
                with contextlib.suppress(ValueError):
                    ipython.events.unregister("post_run_cell", check)

    ipython.events.register("post_run_cell", check)
    check()


def protect_questions(lines: list[str]) -> list[str]:
    """Keep ``%respond What is X?`` a question for the model, not IPython's ``X?`` help.

    IPython reads a line ending in ``?`` as a request for help on the last name.  For a
    ``%respond`` line with a prompt, write the call out as Python before that rule sees it
    (``%respond?`` alone still shows the help).  Only a line IPython would run as the magic is
    rewritten: one that starts a statement (not inside a string literal, brackets or a
    backslash continuation, see :func:`statement_starts`), in a cell that is not a cell
    magic's body (a ``%%respond`` cell's lines are its prompt, sent as written).
    """
    if lines and lines[0].lstrip().startswith("%%"):
        return lines
    out = []
    for line, starts in zip(lines, statement_starts(lines), strict=True):
        if starts and _is_question(line):
            indent = line[: len(line) - len(line.lstrip())]
            argument = line.strip()[len("%respond ") :]
            line = f"{indent}get_ipython().run_line_magic('respond', {argument!r})\n"
        out.append(line)
    return out


def _is_question(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith("%respond ") and stripped.endswith("?")


# A string literal's opening: an optional prefix (r, b, f, u and their pairs), then quotes.
_OPENING = re.compile(r"""(?i:[rbfu]|br|rb|fr|rf)?('''|\"\"\"|'|\")""")
_ESCAPES = ("%", "!", "?")  # a statement starting with one of these is IPython's, not Python


def statement_starts(lines: list[str]) -> list[bool]:
    """For each line, whether it starts a new statement at the top level of the cell: not
    inside a (triple-quoted) string literal, open brackets or a backslash continuation.

    A small scanner rather than :mod:`tokenize`: a cell is IPython syntax, not Python (a
    ``%respond what's up?`` line holds an unmatched quote), which tokenize rejects, or reads
    differently across Python versions.  A line starting with an IPython escape (``%``, ``!``,
    ``?``) is not scanned: IPython takes all of it as the command's text."""
    starts = []
    quote = ""  # the open string's quotes ("" when none)
    depth = 0  # open brackets
    joined = False  # the previous line ended in a backslash
    for line in lines:
        top = not quote and depth == 0 and not joined
        starts.append(top)
        if top and line.lstrip().startswith(_ESCAPES):
            continue
        quote, depth, joined = _scan(line, quote, depth)
    return starts


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _scan(line: str, quote: str, depth: int) -> tuple[str, int, bool]:
    """The string, bracket and continuation state after ``line``, given the state before."""
    i, n = 0, len(line)
    while i < n:
        if quote:
            if line[i] == "\\":
                i += 2  # an escaped character cannot close the string (raw strings alike)
            elif line.startswith(quote, i):
                i, quote = i + len(quote), ""
            else:
                i += 1
            continue
        char = line[i]
        if char == "#":
            break
        opening = _OPENING.match(line, i)
        # A prefix letter opens a string only as a word of its own (not the "r" of "bar").
        if opening and (opening.start(1) == i or i == 0 or not _word_char(line[i - 1])):
            i, quote = opening.end(), opening.group(1)
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        i += 1
    continued = line.rstrip("\r\n").endswith("\\")
    if quote in ("'", '"') and not continued:
        # A one-quote string cannot span lines without a backslash: an unterminated one is
        # Python's error to report, not a state to carry on.
        quote = ""
    return quote, depth, continued and not quote


def _questions_after_load(ipython: Any) -> list[str]:
    """The ``%respond ...?`` lines of the running cell after its ``%load_ext`` line.

    IPython splits a cell (and turns a trailing ``?`` into its help) before running any of it,
    so in the cell that loads the extension such a line is already ``pinfo`` of its last word
    (``Object `value` not found.``): too late for :func:`protect_questions`.  The running
    cell's text is on the display hook's current result (set before the cell runs)."""
    info = getattr(getattr(ipython.displayhook, "exec_result", None), "info", None)
    lines = (getattr(info, "raw_cell", None) or "").splitlines()
    loads = [i for i, line in enumerate(lines) if "load_ext" in line and "agcloud_magic" in line]
    if not loads:
        return []
    after = lines[loads[0] + 1 :]
    return [line.strip() for line, starts in zip(after, statement_starts(after), strict=True)
            if starts and _is_question(line)]


def _ask_yes_no(question: str) -> bool:
    from agcloud_magic.ipython.confirm import ask_yes_no  # loads with the first question

    return ask_yes_no(question)


def _may_have_a_store(ipython: Any) -> bool:
    """Whether anything names a thread store (see engine.threadstore), before importing it."""
    return bool(os.environ.get("AGCLOUD_THREADS_FILE") or os.environ.get("JPY_SESSION_NAME")
                or ipython.user_ns.get("__vsc_ipynb_file__"))


def load(ipython: Any) -> None:
    """Register the magics and the cell-id hook on ``ipython``; their session becomes the one
    the Python API and the panel share."""
    from agcloud_magic.engine.session import set_current_session
    from agcloud_magic.ipython.magics import RespondMagics

    if get_magics(ipython) is not None:
        return
    magics = RespondMagics(shell=ipython)
    ipython.register_magics(magics)
    magics.session.confirm = _ask_yes_no  # a batch over confirm_rows asks here first
    ipython.events.register("pre_run_cell", magics.pre_run_cell)
    ipython.input_transformers_cleanup.append(protect_questions)
    _register_accessor_when_pandas_loads(ipython)
    set_current_session(magics.session)
    if _may_have_a_store(ipython):
        from agcloud_magic.ipython.persist import restore

        restored = restore(magics)  # the notebook's threads of earlier kernels, if any
        if restored:
            print(restored)
    if _questions_after_load(ipython):
        print(
            "agcloud-magic: loaded, but IPython read the `%respond ...?` line of this cell as "
            "its help (`?`) before the extension could see it: run the cell again, or load "
            "the extension in a cell of its own."
        )


def unload(ipython: Any) -> None:
    """Undo :func:`load`: unregister ``%respond``/``%%respond``/``%agcloud``, unhook, close
    the session's clients, stop the stand-in it started, and stop the loop thread."""
    from agcloud_magic.engine.runner import get_runner
    from agcloud_magic.engine.session import current_session, set_current_session

    magics = get_magics(ipython)
    if magics is None:
        return
    with contextlib.suppress(ValueError):
        ipython.events.unregister("pre_run_cell", magics.pre_run_cell)
    if protect_questions in ipython.input_transformers_cleanup:
        ipython.input_transformers_cleanup.remove(protect_questions)
    table = ipython.magics_manager.magics
    for kind, name in (("line", "respond"), ("cell", "respond"), ("line", "agcloud")):
        bound = table[kind].get(name)
        if getattr(bound, "__self__", None) is magics:
            del table[kind][name]
    ipython.magics_manager.registry.pop("RespondMagics", None)
    magics.session.close()
    if current_session() is magics.session:
        set_current_session(None)
    get_runner().stop()
