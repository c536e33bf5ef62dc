"""``%agcloud`` subcommands: settings, login, offline mode, threads, history, usage."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from traitlets import TraitError

from agcloud_magic.errors import ConfigError, one_line, printable
from agcloud_magic.http.settings import ENV_BASE_URL, ENV_KEY, ENV_MODEL, clean_key, mask_key
from agcloud_magic.ipython.budget import WORDS, run_budget
from agcloud_magic.ipython.budget import status as budget_status
from agcloud_magic.ipython.export import run_export, run_import
from agcloud_magic.ipython.inputs import known_response_ids, short_response_id
from agcloud_magic.ipython.lessons import run_record, run_replay
from agcloud_magic.ipython.options import unknown
from agcloud_magic.ipython.persist import run_forget, run_store

__all__ = [
    "COMMANDS",
    "HELP",
    "OFFLINE_KEY",
    "SETTABLE",
    "STANDIN_URL_ENV",
    "SUBCOMMANDS",
    "Subcommand",
    "help_text",
    "run_control",
]

OFFLINE_KEY = "sk-test-offline-standin"
HELP_HINT = "(%agcloud help lists them)"


@dataclass(frozen=True)
class Subcommand:
    """One ``%agcloud`` subcommand: what dispatches it and what ``%agcloud help`` says of it.

    The help is made from this table, and so is the dispatch (:data:`COMMANDS`), so neither
    can list what the other lacks.  ``forms`` are ``(words after the name, what it does)``;
    ``words`` the fixed words the subcommand accepts after its name (a ``NAME=`` word takes a
    value), which its handler checks against, so a typo there gets the closest one too."""

    name: str
    run: Callable[[Any, list[str]], Any]
    forms: tuple[tuple[str, str], ...]
    aliases: tuple[str, ...] = ()
    words: tuple[str, ...] = ()

SETTABLE = (
    "model",
    "base_url",
    "instructions",
    "temperature",
    "top_p",
    "max_output_tokens",
    "stream",
    "format",
    "timeout",
    "deadline",
    "max_answer_mb",
    "max_retries",
    "summary_budget",
    "max_tool_rounds",
    "max_tool_calls_per_round",
    "max_tool_calls",
    "allow_insecure_http",
    "confirm_rows",
    "prices",
    "budget_tokens",
    "budget_cost",
    "conversation",
)


def run_control(magics: Any, line: str) -> Any:
    """Dispatch one ``%agcloud`` line."""
    words = line.split()
    # IPython hands a line magic its comment too: "%agcloud offline  # no key" must not
    # read "#" as a word (no subcommand takes a word starting with "#").
    words = words[: next((i for i, w in enumerate(words) if w.startswith("#")), len(words))]
    command, rest = (words[0].lower(), words[1:]) if words else ("help", [])
    handler = COMMANDS.get(command)
    if handler is None:
        raise unknown("%agcloud command", command, list(COMMANDS), HELP_HINT)
    return handler(magics, rest)


def help_text(subcommands: tuple[Subcommand, ...] | None = None) -> str:
    """``%agcloud help``: one line per form of each subcommand, from :data:`SUBCOMMANDS`."""
    rows = []
    for sub in subcommands or SUBCOMMANDS:
        names = " | ".join((sub.name, *sub.aliases))
        for words, what in sub.forms:
            rows.append((f"%agcloud {names} {words}".rstrip(), what))
    width = max(len(usage) for usage, _ in rows) + 2
    lines = []
    for usage, what in rows:
        wrapped = textwrap.wrap(what, width=max(40, 99 - width)) or [""]
        lines.append(f"{usage:<{width}}{wrapped[0]}".rstrip())
        lines += [" " * width + more for more in wrapped[1:]]
    return "\n".join(lines)


def _help(_magics: Any, _rest: list[str]) -> None:
    print(help_text())


def _source(magics: Any, trait: str, env: str | None = None) -> str:
    if getattr(magics, trait) is not None:
        return "config"
    return "env" if env and os.environ.get(env) else "default"


def _config(magics: Any, rest: list[str]) -> None:
    if rest:
        for pair in rest:
            _set(magics, pair)
        return
    settings = magics.settings()
    key_source = (
        "offline"
        if magics.offline_key
        else "login"
        if magics.login_key
        else "env"
        if settings.api_key
        else "missing"
    )
    rows = [
        ("api_key", mask_key(settings.api_key), key_source),
        (
            "base_url",
            settings.base_url,
            "offline" if magics.offline_key else _source(magics, "base_url", ENV_BASE_URL),
        ),
        ("model", settings.model, _source(magics, "model", ENV_MODEL)),
    ]
    rows += [(name, repr(getattr(magics, name)), "config") for name in SETTABLE[3:]]
    width = max(len(r[0]) for r in rows)
    for name, value, source in rows:
        print(f"{name:<{width}}  {value}  ({source})")


def _set(magics: Any, pair: str) -> None:
    name, sep, raw = pair.partition("=")
    name = name.strip().replace("-", "_")
    if name in ("api_key", "key"):
        raise ConfigError("Never put the key on a line (it stays in history): use %agcloud login.")
    if sep and name not in SETTABLE:
            raise unknown("setting", name, SETTABLE, HELP_HINT)
    if not sep:
        raise ConfigError(f"Cannot set {pair!r}: use key=value with one of {', '.join(SETTABLE)}.")
    trait = magics.traits()[name]
    value: Any = raw.strip().strip("'\"")
    if value.lower() in ("none", "null", ""):
        # Unset: back to the default where the setting cannot be empty.
        value = None if trait.allow_none else trait.default()
    elif type(trait).__name__ == "Bool":
        words = {"1": True, "true": True, "yes": True, "on": True,
                 "0": False, "false": False, "no": False, "off": False}
        if value.lower() not in words:
            raise ConfigError(f"{name} must be true or false, got {raw!r}.")
        value = words[value.lower()]
    elif type(trait).__name__ in ("Float", "Int"):
        try:
            value = float(value) if type(trait).__name__ == "Float" else int(value)
        except ValueError:
            raise ConfigError(f"{name} needs a number, got {raw!r}.") from None
    if name == "base_url" and value is not None:
        from agcloud_magic.http.settings import check_base_url

        check_base_url(value, allow_insecure=magics.allow_insecure_http)
    try:
        setattr(magics, name, value)  # the trait's validator applies engine.rules
    except TraitError as exc:
        raise ConfigError(_first_line(exc)) from None
    print(f"{name} = {value!r}")


def _first_line(exc: Exception) -> str:
    """Our rules' own message, or traitlets' type complaint cut to its first sentence."""
    text = " ".join(str(exc).split())
    return text if text.endswith(".") and len(text) < 200 else f"{text[:197]}…"


def _login(magics: Any, _rest: list[str]) -> None:
    import getpass

    # Checked as it is typed (a pasted zero-width space), not at the first request.
    key = clean_key(getpass.getpass(f"AGCloud API key (kept in memory only; or set {ENV_KEY}): "))
    if not key:
        print("No key entered; nothing changed.")
        return
    magics.login_key = key
    if magics.offline_key:
        # Offline, the stand-in's key wins (Session.settings): "Key set" alone would let a
        # user think the next answer comes from the real server.
        print(
            f"Key set for this kernel: {mask_key(key)}; offline mode is on, so it will be used "
            "after %agcloud offline stop."
        )
        return
    print(f"Key set for this kernel: {mask_key(key)}")


def _logout(magics: Any, _rest: list[str]) -> None:
    magics.login_key = None
    print("Forgot the key typed with %agcloud login.")


STANDIN_URL_ENV = "AGCLOUD_STANDIN_URL"


def _offline_options(rest: list[str]) -> tuple[bool, float | None]:
    """``auto`` and ``delay=SECONDS`` from the words after ``%agcloud offline``."""
    auto, delay = False, None
    for word in rest:
        if word == "auto":
            auto = True
            continue
        name, sep, value = word.partition("=")
        if name != "delay" or not sep:
            accepted = {w.partition("=")[0]: w for w in _words_of("offline")}
            raise unknown("%agcloud offline word", word, accepted, HELP_HINT, compare=name)
        try:
            delay = float(value)
        except ValueError:
            raise ConfigError(f"delay needs a number of seconds, got {value!r}.") from None
        if not 0 <= delay <= 10:
            raise ConfigError(f"delay must be between 0 and 10 seconds, got {delay:g}.")
    return auto, delay


def _offline(magics: Any, rest: list[str]) -> None:
    """Use the stand-in: ``auto`` only when no key is set; ``delay=S`` paces its streaming
    (demos, the browser test); ``stop`` goes back.  A stand-in already running for this
    machine's demo (``AGCLOUD_STANDIN_URL``) is used instead of starting another."""
    if rest and rest[0] == "stop":
        if magics.offline is not None:
            magics.offline.stop()
        magics.offline = magics.offline_key = None
        magics.base_url = None
        print("Offline stand-in stopped; back to the configured server.")
        return
    auto, delay = _offline_options(rest)
    if auto and (magics.login_key or os.environ.get(ENV_KEY)) and not magics.offline_key:
        settings = magics.settings()
        print(
            f"Online: {ENV_KEY} is set, so answers come from {settings.base_url} "
            f"(model {settings.model})."
        )
        return
    shared = os.environ.get(STANDIN_URL_ENV)
    if shared and magics.offline is None and delay is None:
        from agcloud_magic.http.settings import check_base_url

        base_url = check_base_url(shared)
        pace = ""
    else:
        if magics.offline is None:
            magics.session.start_offline(delay or 0.0)
        elif delay is not None:
            magics.offline.token_delay = delay
        base_url = magics.offline.base_url
        seconds = magics.offline.token_delay
        pace = f" ({seconds:g} s per streamed event)" if seconds else ""
    magics.offline_key = OFFLINE_KEY
    magics.base_url = base_url
    print(
        f"Offline: no {ENV_KEY} in use, answers come from the local stand-in server at "
        f"{base_url}{pace}: a deterministic echo model, not a real model."
    )


def _history(magics: Any, rest: list[str]) -> None:
    thread = magics.session.conversation.thread(rest[0] if rest else None)
    path = thread.path()
    if not path:
        print(f"Thread {thread.name!r} has no turns yet.")
        return
    known = known_response_ids(magics.session.conversation)
    print(f"Thread {thread.name!r}: {len(path)} turn(s), root to head")
    for number, turn in enumerate(path, 1):
        cell = (turn.cell_id or "-")[:12]
        # A gateway's 400-character id would bury the line; --continue takes the short form.
        shown = printable(short_response_id(turn.response_id, known))
        print(
            f"{number:>3}. {shown}  cell {cell:<12}  {printable(turn.model or '?')}  "
            f"{turn.input_tokens} in / {turn.output_tokens} out  {one_line(turn.prompt, 60)}"
        )


def _new(magics: Any, _rest: list[str]) -> None:
    thread = magics.session.conversation.thread()
    thread.reset()
    print(f"Thread {thread.name!r} starts afresh; the next turn has no history.")


def _chats(magics: Any, _rest: list[str]) -> None:
    conversation = magics.session.conversation
    known = known_response_ids(conversation)
    for name, thread in conversation.threads.items():
        mark = "*" if name == conversation.current else " "
        head = printable(short_response_id(thread.head, known)) if thread.head else "-"
        print(f"{mark} {name}: {len(thread.path())} turn(s) on the path, head {head}")


def _chat(magics: Any, rest: list[str]) -> None:
    if not rest:
        raise ConfigError("Name the thread: %agcloud chat NAME.")
    magics.session.conversation.select(rest[0])
    print(f"Current thread: {rest[0]!r}")


def _usage(magics: Any, _rest: list[str]) -> None:
    conversation = magics.session.conversation
    for name, thread in conversation.threads.items():
        turns, tokens_in, tokens_out = thread.usage_totals()
        print(f"{name}: {turns} turn(s), {tokens_in} in / {tokens_out} out tokens")
    turns, tokens_in, tokens_out = conversation.usage_totals()
    print(f"kernel: {turns} turn(s), {tokens_in} in / {tokens_out} out tokens")
    print(budget_status(magics))  # every request (batches and the API too), and what is left


def _models(magics: Any, _rest: list[str]) -> None:
    """What the server in force offers this key; ``*`` marks the model the next turn uses."""
    settings = magics.session.checked_settings()
    models = magics.session.client(settings).models()
    print(f"{len(models)} models at {settings.base_url} (* = in use; choose with --model or "
          "%agcloud config model=NAME)")
    for model in models:
        print(f"{'*' if model == settings.model else ' '} {model}")
    if settings.model not in models:
        print(f"The model in use, {settings.model!r}, is not among them.")


def _panel(magics: Any, _rest: list[str]) -> Any:
    from agcloud_magic.panel import Panel

    return Panel(session=magics.session, shell=magics.shell)


def _last(magics: Any, _rest: list[str]) -> Any:
    if magics.session.last is None:
        print("No answer yet in this kernel.")
        return None
    return magics.session.last


_SETTINGS = ", ".join(SETTABLE)

SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand("help", _help, (("", "this list"),)),
    Subcommand(
        "config",
        _config,
        (
            ("", "show the settings in force (the key masked) and where each comes from"),
            ("key=value ...", f"set {_SETTINGS} (none = unset)"),
        ),
    ),
    Subcommand(
        "login", _login, (("", "type the API key (getpass; kept in this kernel's memory only)"),)
    ),
    Subcommand("logout", _logout, (("", "forget the key typed with %agcloud login"),)),
    Subcommand(
        "offline",
        _offline,
        (
            ("", "start the local stand-in server and use it (a deterministic echo model, "
                 "not a real model)"),
            ("auto", "the same, but only when no key is set (else say which server answers)"),
            ("delay=SECONDS", "pace the stand-in's streaming: SECONDS per event (0 to 10)"),
            ("stop", "stop the stand-in; back to the configured server"),
        ),
        words=("auto", "delay=SECONDS", "stop"),
    ),
    Subcommand("history", _history, (("[THREAD]", "a thread's turns, root to head"),)),
    Subcommand(
        "new", _new, (("", "start afresh in the current thread"),), aliases=("reset",)
    ),
    Subcommand("chats", _chats, (("", "list the threads (* marks the current one)"),)),
    Subcommand("chat", _chat, (("NAME", "switch to the thread NAME (made on first use)"),)),
    Subcommand("usage", _usage, (("", "tokens per thread and for the kernel"),)),
    Subcommand("models", _models, (("", "the models the server offers this key (* = in use)"),)),
    Subcommand("export", run_export, (
        ("[THREAD] [FILE] [--format json|md]", "a thread as JSON (items, ids, usage) or safe "
         "Markdown; printed without FILE"),
    )),
    Subcommand("import", run_import, (
        ("FILE [NAME]", "a JSON export back as a thread, selected; the next turn continues it"),
    )),
    Subcommand("record", run_record, (
        ("FILE | stop", "append every answered request to a cassette (JSON lines, no key)"),
    ), words=("stop",)),
    Subcommand("replay", run_replay, (
        ("FILE [fast] [live] | stop", "answer from a cassette (paced, or at once): no key, no "
         "network; live: what it lacks goes to the server"),
    ), words=("fast", "live", "stop")),
    Subcommand("store", run_store, (
        ("[PATH]", "where this notebook's threads are kept between kernels (or keep them in "
         "PATH)"),
    )),
    Subcommand("forget", run_forget, (
        ("[THREAD] | --all", "drop a thread (or all) here and from the store"),
    )),
    Subcommand("budget", run_budget, (
        ("", "tokens (and dollars) used by this kernel, and what is left of its budget"),
        ("tokens=N cost=USD", "refuse, before sending, any request that would pass it"),
        ("off | reset", "no limit | count from zero again"),
    ), words=WORDS),
    Subcommand("panel", _panel, (("", "open the chat panel"),)),
    Subcommand("last", _last, (("", "show the last result again"),)),
)

#: name -> handler, every name and alias of :data:`SUBCOMMANDS` (the one dispatch table).
COMMANDS: dict[str, Callable[[Any, list[str]], Any]] = {
    name: sub.run for sub in SUBCOMMANDS for name in (sub.name, *sub.aliases)
}

HELP = help_text()


def _words_of(name: str) -> tuple[str, ...]:
    return next(sub.words for sub in SUBCOMMANDS if sub.name == name)
