"""First contact: what the faces say to a newcomer (issue "First contact").

Each test drives a face the way a user would: magics through a real IPython shell against the
stand-in over loopback, the CLI as a subprocess.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from IPython.core.error import UsageError

from agcloud_magic.ipython.control import OFFLINE_KEY
from agcloud_magic.ipython.extension import get_magics

from .magic_support import interrupt_once_streaming, posts, run_cell

# -- 1. an interrupted answer's footer gives the real elapsed time ---------------------------


def test_interrupted_footer_gives_the_real_elapsed_time(ip, srv):
    srv.drip(0.05)
    fired: list[float] = []
    started = time.monotonic()
    thread = interrupt_once_streaming(srv, fired)
    run = run_cell(ip, "%%respond --format text -o r\n" + " ".join(f"w{i}" for i in range(200)))
    ended = time.monotonic()
    thread.join()
    footer = [line for line in run.stdout.splitlines() if "interrupted" in line]
    assert footer, run.stdout
    seconds = float(re.search(r"(\d+(?:\.\d+)?) s\b", footer[-1]).group(1))
    # A dozen events at 0.05 s each came before the Ctrl-C: at least half a second passed.
    assert 0.5 <= seconds <= ended - started + 0.1, footer[-1]
    # The result itself (-o r, the Python API's view) carries the same time.
    assert ip.user_ns["r"].elapsed is not None
    assert abs(ip.user_ns["r"].elapsed - seconds) < 0.11
    assert get_magics(ip).session.conversation.thread().head is None


# -- 2. an option typo is worded the same by both magics, with the closest option -----------

TYPO = "Unknown option --temprature; did you mean --temperature? (%respond --help lists them)"


@pytest.mark.parametrize(
    "cell",
    [
        "%%respond --temprature 0.5\nhi",
        "%respond --temprature 0.5 hi",
        "%%respond --temprature=0.5\nhi",
        "%respond --temprature=0.5 hi",
        "%%respond --model echo --temprature 0.5\nhi",
    ],
)
def test_option_typo_is_one_wording_with_a_suggestion(ip, srv, cell):
    run = run_cell(ip, cell)
    assert isinstance(run.error, UsageError)
    assert str(run.error) == TYPO
    assert posts(srv) == []


@pytest.mark.parametrize("cell", ["%%respond --xyzzy\nhi", "%respond --xyzzy hi"])
def test_unknown_option_without_a_close_one_names_the_help(ip, srv, cell):
    run = run_cell(ip, cell)
    assert str(run.error) == "Unknown option --xyzzy (%respond --help lists them)"


def test_text_on_the_cell_magic_line_is_refused_in_one_line(ip, srv):
    run = run_cell(ip, "%%respond hello there\nhi")
    assert isinstance(run.error, UsageError)
    assert "hello there" in str(run.error) and "cell" in str(run.error)
    assert posts(srv) == []


@pytest.mark.parametrize("cell", ["%respond --help", "%%respond --help\nhi", "%respond -h"])
def test_help_option_lists_the_options_and_sends_nothing(ip, srv, cell):
    run = run_cell(ip, cell)
    assert run.error is None, run.error
    assert "--temperature" in run.stdout and "--tools" in run.stdout
    assert posts(srv) == []


def test_abbreviated_option_is_read_alike_by_both_magics(ip, srv):
    # argparse (the cell magic) accepts a unique prefix; the line magic must agree.
    run_cell(ip, "%%respond --temp 0.5\nhi")
    run_cell(ip, "%respond --temp 0.5 hi")
    assert [body["temperature"] for body in posts(srv)] == [0.5, 0.5]
    ambiguous = [run_cell(ip, "%%respond --t 0.5\nhi"), run_cell(ip, "%respond --t 0.5 hi")]
    assert str(ambiguous[0].error) == str(ambiguous[1].error)
    assert "--temperature" in str(ambiguous[0].error)


def test_agcloud_subcommand_typo_suggests_the_command(ip, srv):
    run = run_cell(ip, "%agcloud confg")
    assert isinstance(run.error, UsageError)
    assert str(run.error) == (
        "Unknown %agcloud command confg; did you mean config? (%agcloud help lists them)"
    )


def test_agcloud_offline_word_typo_suggests_the_word(ip, srv):
    run = run_cell(ip, "%agcloud offline delya=1")
    assert isinstance(run.error, UsageError)
    assert "did you mean delay=SECONDS?" in str(run.error)
    assert "%agcloud help" in str(run.error)


# -- 6. %agcloud help is made from the table that dispatches ---------------------------------


def test_agcloud_help_lists_every_dispatchable_subcommand_and_word(ip, srv):
    from agcloud_magic.ipython.control import COMMANDS, SETTABLE, SUBCOMMANDS

    shown = run_cell(ip, "%agcloud help").stdout
    # Every name the dispatcher accepts is on a line of the help ...
    for name in COMMANDS:
        assert re.search(rf"%agcloud (\S+ \| )*{name}\b", shown), name
    # ... with every word its subcommand accepts after it, and every settable name.
    for sub in SUBCOMMANDS:
        for word in sub.words:
            assert re.search(rf"%agcloud {sub.name}\b.*{re.escape(word)}", shown), word
    for name in SETTABLE:
        assert name in shown, name
    # Those the issue found missing, by name (the table is not a tautology).
    for text in ("%agcloud offline auto", "delay=SECONDS", "%agcloud logout", "%agcloud help",
                 "%agcloud history [THREAD]", "%agcloud chat NAME"):
        assert text in shown, text
    # And nothing in the help that the dispatcher would refuse.
    for name in re.findall(r"^%agcloud (\w+)", shown, flags=re.M):
        assert name in COMMANDS, name


def test_every_offline_word_in_the_table_is_accepted(ip, srv, monkeypatch):
    from agcloud_magic.ipython.control import SUBCOMMANDS

    monkeypatch.delenv("AGCLOUD_STANDIN_URL", raising=False)
    offline = next(sub for sub in SUBCOMMANDS if sub.name == "offline")
    assert set(offline.words) == {"auto", "delay=SECONDS", "stop"}
    try:
        for line in ("%agcloud offline delay=0", "%agcloud offline auto", "%agcloud offline stop"):
            run = run_cell(ip, line)
            assert run.error is None, (line, run.error)
    finally:
        run_cell(ip, "%agcloud offline stop")


# -- 3. a builtin named as a tool: say it is a builtin and how to offer it -------------------

BUILTIN = "len is a Python builtin; wrap it in a def with type hints to offer it as a tool"


@pytest.mark.parametrize("cell", ["%respond --tools len how long is 'abc'",
                                  "%%respond --tools f,len\nhow long is 'abc'"])
def test_a_builtin_tool_says_it_is_a_builtin_and_how_to_wrap_it(ip, srv, cell):
    ip.user_ns["f"] = lambda: None
    run = run_cell(ip, cell)
    assert isinstance(run.error, UsageError)
    assert BUILTIN in str(run.error)
    assert "not defined" not in str(run.error)
    assert posts(srv) == []


def test_a_name_defined_nowhere_still_says_define_it(ip, srv):
    run = run_cell(ip, "%respond --tools lenn hi")
    assert "'lenn' is not defined in the notebook" in str(run.error)


def test_the_panel_tools_field_says_the_same_of_a_builtin(ip, srv):
    from agcloud_magic.panel import Panel

    panel = Panel()
    try:
        panel.tools.value = "len"
        panel.prompt.value = "hi"
        panel.send.click()
        assert panel.wait(5) is None
        assert BUILTIN in panel.error.value
    finally:
        panel.close()
    assert posts(srv) == []


# -- 5. %agcloud login while offline says when the key will be used --------------------------


def test_login_while_offline_says_the_key_waits_for_offline_stop(ip, srv, monkeypatch):
    typed = "sk-test-typed-while-offline-abcd"
    monkeypatch.setattr("getpass.getpass", lambda prompt="": typed)
    monkeypatch.setenv("AGCLOUD_STANDIN_URL", srv.base_url)  # share srv: start no server
    magics = get_magics(ip)
    try:
        run_cell(ip, "%agcloud offline")
        login = run_cell(ip, "%agcloud login")
        in_force = magics.settings().api_key
    finally:
        run_cell(ip, "%agcloud offline stop")
    assert "sk-…abcd" in login.stdout and typed not in login.everything
    assert "offline mode is on" in login.stdout
    assert "%agcloud offline stop" in login.stdout
    # It is true: offline, the stand-in's key is the one in force; after stop, the typed one.
    assert in_force == OFFLINE_KEY
    assert magics.settings().api_key == typed


def test_login_online_says_nothing_of_offline_mode(ip, srv, monkeypatch):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "sk-test-typed-online-wxyz")
    login = run_cell(ip, "%agcloud login")
    assert "sk-…wxyz" in login.stdout and "offline" not in login.stdout


# -- 7. long response ids are shortened in %agcloud history; --continue takes either ---------


def _long_id(tag: str) -> str:
    # LiteLLM-style: a base64-ish blob of 450 characters.
    return "resp_" + (tag * 500)[:445 - 6] + tag[-1] * 6


def _record_long_turns(ip) -> list[str]:
    from agcloud_magic.engine.conversation import Turn

    thread = get_magics(ip).session.conversation.thread()
    ids = [_long_id("bGl0ZWxsbTox"), _long_id("bGl0ZWxsbToy")]
    parent = None
    for number, response_id in enumerate(ids, 1):
        thread.record(Turn(response_id, parent, model="echo", prompt=f"question {number}"))
        parent = response_id
    return ids


def test_history_shortens_a_450_character_id(ip, srv):
    ids = _record_long_turns(ip)
    assert all(len(i) == 450 for i in ids)
    shown = run_cell(ip, "%agcloud history").stdout
    for response_id in ids:
        assert response_id not in shown
        assert f"{response_id[:12]}…{response_id[-6:]}" in shown
    assert max(len(line) for line in shown.splitlines()) < 160
    chats = run_cell(ip, "%agcloud chats").stdout
    assert ids[1] not in chats and f"{ids[1][:12]}…{ids[1][-6:]}" in chats


def test_history_keeps_an_ordinary_id_whole(ip, srv):
    run_cell(ip, "%%respond\nfirst")
    head = get_magics(ip).session.conversation.thread().head
    assert head in run_cell(ip, "%agcloud history").stdout


def test_continue_takes_the_full_id_or_the_shortened_form(ip, srv):
    ids = _record_long_turns(ip)
    shortened = f"{ids[0][:12]}…{ids[0][-6:]}"
    for given in (ids[0], shortened, shortened.replace("…", "...")):
        run = run_cell(ip, f"%respond --dry-run --continue {given} go on")
        assert run.error is None, run.error
        assert f'"previous_response_id": "{ids[0]}"' in run.stdout
    assert posts(srv) == []


def _twin(response_id: str) -> str:
    """An id with the same head and last 6 characters as ``response_id`` (a gateway's ids
    can end alike: base64 padding, a model id encoded last)."""
    return response_id[:-20] + "Q" + response_id[-19:]


def test_history_tells_apart_ids_alike_at_both_ends(ip, srv):
    from agcloud_magic.engine.conversation import Turn

    ids = _record_long_turns(ip)
    thread = get_magics(ip).session.conversation.thread()
    thread.record(Turn(_twin(ids[0]), ids[1], model="echo", prompt="question 3"))
    lines = run_cell(ip, "%agcloud history").stdout.splitlines()[1:]
    shown = [line.split()[1] for line in lines]
    assert len(set(shown)) == 3, shown
    assert all(len(s) < 100 for s in shown)
    # Each one shown is accepted by --continue and means that turn.
    for form, response_id in zip(shown, [*ids, _twin(ids[0])], strict=True):
        run = run_cell(ip, f"%respond --dry-run --continue {form} go on")
        assert f'"previous_response_id": "{response_id}"' in run.stdout, form


def test_continue_with_an_ambiguous_or_unknown_shortened_id_is_one_line(ip, srv):
    from agcloud_magic.engine.conversation import Turn

    ids = _record_long_turns(ip)
    thread = get_magics(ip).session.conversation.thread()
    thread.record(Turn(_twin(ids[0]), ids[1], model="echo", prompt="question 3"))
    ambiguous = run_cell(ip, f"%respond --dry-run --continue {ids[0][:12]}…{ids[0][-6:]} go on")
    assert isinstance(ambiguous.error, UsageError) and "2 turns" in str(ambiguous.error)
    unknown = run_cell(ip, "%respond --dry-run --continue resp_nothing…atall go on")
    assert isinstance(unknown.error, UsageError) and "full id" in str(unknown.error)
    assert posts(srv) == []


# -- 8. agcloud-magic --version, and a LICENSE matching pyproject ----------------------------

ROOT = Path(__file__).resolve().parent.parent


def _pyproject(pattern: str) -> str:
    """One value of pyproject.toml's [project] table (a regex: tomllib is 3.11+)."""
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    return re.search(pattern, text, flags=re.M).group(1)


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_cli_version_prints_the_package_version(flag):
    import agcloud_magic

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "agcloud_magic.cli", flag],
        capture_output=True, text=True, timeout=60, env=env, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"agcloud-magic {agcloud_magic.__version__}"
    assert agcloud_magic.__version__ == _pyproject(r'^version = "([^"]+)"')


def test_license_file_names_the_license_pyproject_declares():
    declared = _pyproject(r'^license = \{ text = "([^"]+)" \}')
    lines = (ROOT / "LICENSE").read_text("utf-8").splitlines()
    assert lines[0].strip() == f"{declared} License"
    assert any("agcloud-magic developers" in line and "2026" in line for line in lines)


def test_agcloud_ignores_a_trailing_comment(ip, srv):
    # The README writes "%agcloud offline      # or: no key at all ..."; IPython passes the
    # comment to the magic.
    run = run_cell(ip, "%agcloud history   # the current thread")
    assert run.error is None and "'main'" in run.stdout and "'#'" not in run.stdout


def test_agcloud_config_typo_suggests_the_setting(ip, srv):
    run = run_cell(ip, "%agcloud config temprature=0.5")
    assert str(run.error) == (
        "Unknown setting temprature; did you mean temperature? (%agcloud help lists them)"
    )
    assert get_magics(ip).temperature is None
