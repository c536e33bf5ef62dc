"""Settings and options that would bypass a check: each is refused with one line, through
``%agcloud config``, ``%config RespondMagics.…`` and the magic's options in a real IPython
shell; the setting keeps its value and nothing is sent."""

from __future__ import annotations

import pytest

import agcloud_magic
from agcloud_magic.ipython.extension import get_magics

from .magic_support import posts, run_cell

# (setting, value as typed, words the one line must hold)
BAD_SETTINGS = [
    ("timeout", "nan", "finite"),
    ("timeout", "-1", "more than 0"),
    ("timeout", "0", "more than 0"),
    ("timeout", "inf", "finite"),
    ("timeout", "1e300", "at most"),  # overflows every clock (socket, Event.wait)
    ("timeout", "100000000", "at most"),
    ("summary_budget", "1", "at least 500"),
    ("max_tool_rounds", "0", "between 1 and 100"),
    ("max_retries", "-5", "between 0 and 10"),
    ("max_output_tokens", "100000000000000000000000", "2,147,483,647"),
    ("max_output_tokens", "2147483648", "2,147,483,647"),
    ("max_output_tokens", "15", "16"),
]


@pytest.fixture()
def clean_config(ip):
    """``%config`` merges a statement into the shell's shared config even when a trait refuses
    it: drop what these tests put there, so later extension loads do not read it."""
    yield ip
    section = ip.config.get("RespondMagics")
    if section is not None:
        for name, _, _ in BAD_SETTINGS:
            section.pop(name, None)


def said(run, caplog) -> str:
    return run.stdout + run.stderr + caplog.text


def assert_refused_in_one_line(text: str, name: str, words: str) -> None:
    lines = [line for line in text.splitlines() if name in line]
    assert lines, text
    assert words in lines[0], lines
    assert "Traceback" not in text


@pytest.mark.parametrize(("name", "value", "words"), BAD_SETTINGS)
def test_agcloud_config_refuses(clean_config, ip, srv, caplog, name, value, words):
    before = getattr(get_magics(ip), name)
    with caplog.at_level("ERROR"):
        run = run_cell(ip, f"%agcloud config {name}={value}")
    assert_refused_in_one_line(said(run, caplog), name, words)
    assert getattr(get_magics(ip), name) == before
    assert posts(srv) == []


@pytest.mark.parametrize(("name", "value", "words"), BAD_SETTINGS)
def test_config_magic_refuses(clean_config, ip, srv, caplog, name, value, words):
    before = getattr(get_magics(ip), name)
    literal = f"float({value!r})" if value in ("nan", "inf") else value
    with caplog.at_level("ERROR"):
        run = run_cell(ip, f"%config RespondMagics.{name} = {literal}")
    assert_refused_in_one_line(said(run, caplog), name, words)
    assert getattr(get_magics(ip), name) == before
    # The session's copy did not change either, and a request still goes out with defaults.
    assert getattr(get_magics(ip).session.prefs, name) == before
    assert posts(srv) == []


@pytest.mark.parametrize(("option", "words"), [
    ("--max-output-tokens 10**23", "invalid int value"),
    ("--max-output-tokens 100000000000000000000000", "2,147,483,647"),
    ("--max-output-tokens 2147483648", "2,147,483,647"),
    ("--max-output-tokens 15", "at least 16"),
    ("--max-rounds 0", "between 1 and 100"),
    ("--budget 1", "500"),
])
def test_respond_options_are_refused_and_nothing_is_sent(ip, srv, caplog, option, words):
    ip.user_ns["tiny_frame"] = __import__("pandas").DataFrame({"a": [1, 2]})
    extra = " --df tiny_frame" if option.startswith("--budget") else ""
    with caplog.at_level("ERROR"):
        run = run_cell(ip, f"%%respond {option}{extra}\nhello")
    text = said(run, caplog)
    assert words in text and "Traceback" not in text, text
    assert len([line for line in text.splitlines() if line.strip()]) == 1, text
    assert posts(srv) == []


def test_a_huge_max_output_tokens_is_refused_by_the_api(srv, monkeypatch):
    monkeypatch.setenv("AGCLOUD_BASE_URL", srv.base_url)
    monkeypatch.setenv("AGCLOUD_API_KEY", "sk-test-api-0000000000")
    with pytest.raises(agcloud_magic.AGCloudError) as info:
        agcloud_magic.respond("hi", max_output_tokens=10**23)
    assert "2,147,483,647" in str(info.value)
    assert posts(srv) == []


def test_the_largest_values_allowed_still_work(clean_config, ip, srv):
    run = run_cell(ip, "%agcloud config timeout=86400 max_output_tokens=2147483647")
    assert run.error is None, run.stderr
    run = run_cell(ip, "%%respond\nhello")
    assert "You said: hello" in run.stdout, run.stdout + run.stderr
    assert posts(srv)[-1]["max_output_tokens"] == 2147483647
