"""``%%respond`` / ``%respond`` and ``%agcloud``: translate lines into asks; nothing more.

``RespondMagics`` is a traitlets ``Configurable``: ``%config RespondMagics.model = "gpt-4.1"``
and ``c.RespondMagics.model`` in ``ipython_config.py`` both work.  Every expected failure ends
as one line: bad options and missing settings as ``UsageError`` (IPython prints those without a
traceback), failures after sending as an error line under the partial answer.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import magic_arguments
from traitlets import Bool, Float, Int, TraitError, Unicode, observe, validate

from agcloud_magic.engine.ask import Ask
from agcloud_magic.engine.interpolate import interpolate
from agcloud_magic.engine.preferences import Preferences
from agcloud_magic.engine.rules import check
from agcloud_magic.engine.session import Session
from agcloud_magic.errors import AGCloudError, ConfigError, RequestInterrupted
from agcloud_magic.http.settings import Settings
from agcloud_magic.ipython.options import option_names, respond_arguments, split_line

__all__ = ["RespondMagics"]


@magics_class
class RespondMagics(Magics):
    """Ask AGCloud's Responses API from a notebook; answers stream into the output."""

    model = Unicode(None, allow_none=True, help="Default model (else AGCLOUD_MODEL).").tag(
        config=True
    )
    base_url = Unicode(
        None, allow_none=True, help="Base URL incl. /v1 (else AGCLOUD_BASE_URL)."
    ).tag(config=True)
    instructions = Unicode(None, allow_none=True, help="Default instructions for new threads.").tag(
        config=True
    )
    temperature = Float(None, allow_none=True, help="Default temperature (0-2).").tag(config=True)
    top_p = Float(None, allow_none=True, help="Default top_p (0-1).").tag(config=True)
    max_output_tokens = Int(None, allow_none=True, help="Default max_output_tokens.").tag(
        config=True
    )
    stream = Bool(True, help="Stream answers (False = wait for the whole answer).").tag(config=True)
    format = Unicode("markdown", help="Default answer format: markdown, text, code, json.").tag(
        config=True
    )
    timeout = Float(60.0, help="Seconds to wait for the server (connect and between chunks).").tag(
        config=True
    )
    deadline = Float(
        900.0, help="Seconds one whole request may take, however steadily the server sends."
    ).tag(config=True)
    max_answer_mb = Int(64, help="Megabytes of answer read before a request is stopped.").tag(
        config=True
    )
    max_retries = Int(2, help="Retries before the first byte (429, 5xx, connection errors).").tag(
        config=True
    )
    summary_budget = Int(6000, help="Characters per DataFrame summary.").tag(config=True)
    max_tool_rounds = Int(8, help="Bound on tool-call rounds per turn.").tag(config=True)
    max_tool_calls_per_round = Int(
        16, help="Bound on the function calls run for one response (none run when it asks more)."
    ).tag(config=True)
    max_tool_calls = Int(64, help="Bound on the function calls run in one turn.").tag(
        config=True
    )
    allow_insecure_http = Bool(
        False, help="Allow http:// to non-loopback hosts (the key travels in clear)."
    ).tag(config=True)
    confirm_rows = Int(
        100, help="Rows a batch (df.respond.map, --each) may send before it asks first; 0: "
        "ask for every batch (a course's notebook cannot spend silently on Run All)."
    ).tag(config=True)
    conversation = Unicode(
        "server", help="Who carries a thread: server (previous_response_id) or client (the "
        "thread's items sent as input with store: false, for gateways that keep no state)."
    ).tag(config=True)
    budget_tokens = Int(
        None, allow_none=True, help="The kernel's spending limit in tokens: a request that "
        "would pass it is refused before it is sent (magic, panel, batches; %agcloud budget)."
    ).tag(config=True)
    budget_cost = Float(
        None, allow_none=True, help="The same limit in US dollars, for models in prices."
    ).tag(config=True)
    prices = Unicode(
        None, allow_none=True, help="USD per million input/output tokens by model prefix, "
        'e.g. "gpt-4o-mini=0.15/0.60, gpt-4o=2.50/10": batch estimates and budget_cost.'
    ).tag(config=True)

    def __init__(self, shell: Any = None, session: Session | None = None, **kwargs: Any) -> None:
        # Before the Configurable's init: loading the configuration fires _sync already.
        self.session = session or Session()
        _drop_invalid_config(shell)
        super().__init__(shell=shell, **kwargs)
        self.cell_id: str | None = None
        # The traits are the IPython-facing view of the session's preferences: copy what
        # the configuration set, then keep them in step (see _sync).
        for name in Preferences.names():
            setattr(self.session.prefs, name, getattr(self, name))

    @validate(*Preferences.names())
    def _check(self, proposal: Any) -> Any:
        """One rule per setting (engine.rules), at assignment: a bad value is refused here,
        in one line, instead of failing every later request."""
        name = proposal["trait"].name
        try:
            return check(name, proposal["value"])
        except ConfigError as exc:
            raise TraitError(str(exc)) from None

    @observe(*Preferences.names())
    def _sync(self, change: Any) -> None:
        setattr(self.session.prefs, change["name"], change["new"])

    # -- state that lives on the session -----------------------------------------------

    @property
    def login_key(self) -> str | None:
        """The key typed with ``%agcloud login`` (memory only)."""
        return self.session.login_key

    @login_key.setter
    def login_key(self, key: str | None) -> None:
        self.session.login_key = key

    @property
    def offline(self) -> Any:
        """The stand-in server ``%agcloud offline`` started, if any."""
        return self.session.offline

    @offline.setter
    def offline(self, server: Any) -> None:
        self.session.offline = server

    @property
    def offline_key(self) -> str | None:
        """The stand-in's key while offline mode is on."""
        return self.session.offline_key

    @offline_key.setter
    def offline_key(self, key: str | None) -> None:
        self.session.offline_key = key

    def settings(self) -> Settings:
        """The settings in force (the session's: preferences, login, environment)."""
        return self.session.settings()

    def request_defaults(self) -> dict[str, Any]:
        """Request fields configured through traits (the magic line overrides them)."""
        return self.session.prefs.request_defaults()

    def pre_run_cell(self, info: Any) -> None:
        """Remember the id of the cell being run (JupyterLab, Notebook 7 and VS Code send one)."""
        self.cell_id = getattr(info, "cell_id", None)

    # -- %%respond ---------------------------------------------------------------------

    @magic_arguments()
    @respond_arguments
    @no_var_expand
    @line_cell_magic
    def respond(self, line: str, cell: str | None = None) -> None:
        """Send the cell (or the rest of the line) to the Responses API and stream the answer.

        ``{name}`` in the text inserts a kernel variable (a DataFrame as its summary);
        ``{{name}}`` keeps literal braces.  The conversation continues from the thread's head;
        re-running a cell replaces its earlier turn instead of stacking a duplicate.
        """
        try:
            self._respond(line, cell)
        except ConfigError as exc:
            raise UsageError(str(exc)) from None

    def _parse(self, line: str, cell: str | None) -> tuple[Any, str]:
        """The options and the text.  Both magics check their options through ``split_line``
        first, so a typo is worded alike (argparse alone would say ``unrecognized arguments``).
        """
        parser = self.respond.parser
        values, flags = option_names(parser)
        if cell is None:
            line, cell = split_line(line, values, flags)
            return parser.parse_args(_argv(line)), cell
        argv = _argv(line)  # a quoting mistake first: split_line would call it text
        rest = split_line(line, values, flags)[1].strip()
        if rest:
            raise ConfigError(
                f"%%respond takes only options on its first line; put {rest!r} in the cell "
                "below it."
            )
        return parser.parse_args(argv), cell

    def _respond(self, line: str, cell: str | None) -> None:
        from agcloud_magic.ipython.inputs import build_ask, check_out_name

        args, text = self._parse(line, cell)
        if args.help:
            print(self.respond.parser.format_help())
            return
        check_out_name(args.out)
        if args.each is not None:
            from agcloud_magic.ipython.each import run_each

            run_each(self, args, text)
            return
        from agcloud_magic.ipython.each import refuse_each_only

        refuse_each_only(args)
        ask = build_ask(self, args, text)
        if args.dry_run:
            self._show_dry_run(ask)
            return
        self.session.checked_settings()
        self._run(ask, args.format or self.format, args.out)

    def _run(self, ask: Ask, fmt: str, out: str | None) -> None:
        from agcloud_magic.display.render import format_footer
        from agcloud_magic.ipython.renderers import make_renderer

        renderer = make_renderer(self.shell, fmt=fmt)
        renderer.start()
        result, note, failure = None, None, None
        partial = False  # only what streamed arrived: the renderer's copy is the answer
        try:
            result = self.session.run(ask, renderer)
        except RequestInterrupted as exc:
            result, note, partial = exc.partial, "interrupted", True
        except AGCloudError as exc:
            result, failure, partial = exc.partial, exc, True
            if getattr(exc, "code", None) == "max_output_tokens":
                note, failure, partial = "incomplete: max_output_tokens", None, False
        if result is not None and (result.text or failure is None):
            metadata = {
                "response_id": result.id,
                "model": result.model,
                "usage": result.usage,
                "status": result.status,
                "thread": self.session.conversation.current,
            }
            model = result.model or ask.fields.get("model") or self.settings().model
            footer = format_footer(model, result.usage, result.elapsed)
            left = self.session.meter.left()  # the kernel's budget, when one is set
            footer = f"{footer} · {left}" if left else footer
            # What the client did on the way (a thread replayed): one line each, shown.
            note = " · ".join(x for x in (note, *result.notes) if x) or None
            # The renderer has only seen deltas; an answer that came whole (--no-stream, a
            # gateway that answers JSON to a stream request) reaches it through ``text``.
            text = None if partial else result.text
            renderer.finish(footer=footer, metadata=metadata, note=note, text=text)
        if failure is not None:
            renderer.error(str(failure))
        if out and result is not None:
            self.shell.user_ns[out] = result
        if result is not None and fmt == "code" and failure is None:
            from agcloud_magic.display.markdown import extract_code

            code = extract_code(result.text)
            if code:
                self.shell.set_next_input(code, replace=False)

    def _show_dry_run(self, ask: Ask) -> None:
        settings = self.settings()
        body = self.session.preview(ask)
        print(f"Dry run: nothing was sent. POST {settings.base_url}/responses with:")
        print(json.dumps(_abbreviate(body), indent=2, ensure_ascii=False))

    # -- %agcloud ----------------------------------------------------------------------

    @no_var_expand
    @line_magic
    def agcloud(self, line: str) -> Any:
        """Control the extension; ``%agcloud help`` lists the subcommands.

        ``config``, ``login``, ``logout``, ``offline``, ``history``, ``new``/``reset``,
        ``chats``, ``chat NAME``, ``usage``, ``models``, ``panel``, ``last``, ``help``.
        """
        from agcloud_magic.ipython.control import run_control

        try:
            return run_control(self, line)
        except AGCloudError as exc:  # a bad setting, or the server refused (%agcloud models)
            raise UsageError(str(exc)) from None

    def interpolate(self, text: str) -> str:
        """``{name}`` -> the variable's model text (DataFrames as summaries)."""

        def render(name: str, value: Any) -> str:
            from agcloud_magic.dataframes import to_model_text

            return to_model_text(value, name=name, budget=self.summary_budget)

        return interpolate(text, self.shell.user_ns, render)


def _argv(line: str) -> list[str]:
    """The option words of a magic line, with POSIX quoting (so --instructions 'Be brief.'
    arrives without its quotes)."""
    try:
        return shlex.split(line, posix=True)
    except ValueError as exc:
        raise ConfigError(f"Cannot read the options ({exc}): check the quotes.") from None


def _drop_invalid_config(shell: Any) -> None:
    """Leave out (and say so, in one line each) configured values our rules refuse.

    ``%config RespondMagics.format = "xyz"`` is refused at assignment, but IPython keeps the
    value in the shell's configuration; without this, every later ``%load_ext`` would fail."""
    config = getattr(shell, "config", None)
    if config is None or "RespondMagics" not in config:
        return
    section = config["RespondMagics"]
    for name in [n for n in list(section) if n in Preferences.names()]:
        try:
            check(name, section[name])
        except ConfigError as exc:
            print(f"agcloud-magic: ignoring RespondMagics.{name} from the configuration: {exc}")
            del section[name]


def _abbreviate(value: Any) -> Any:
    """Shorten base64 data URLs in a preview (the rest is shown exactly)."""
    if isinstance(value, dict):
        return {k: _abbreviate(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_abbreviate(v) for v in value]
    if isinstance(value, str) and value.startswith("data:") and len(value) > 120:
        head = value[: value.find(",") + 1]
        return f"{head}<{len(value) - len(head):,} base64 characters>"
    return value
