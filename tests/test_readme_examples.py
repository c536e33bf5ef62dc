"""The README's Python examples, run as a reader would: one fenced block is one cell, in order,
in a real IPython shell that starts without the extension, against the stand-in over loopback.

A newcomer who pastes an example into a fresh kernel must not meet IPython's own help
(``Object `value` not found.``) or ``Line magic function `%respond` not found``: every block
that uses a magic loads the extension first, or comes right after the block that does.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agcloud_magic.ipython.extension import get_magics

from .magic_support import pointed_at, run_cell

README = Path(__file__).resolve().parent.parent / "README.md"
LOAD = "%load_ext agcloud_magic"
MAGIC = re.compile(r"^\s*%%?(respond|agcloud)\b", re.M)


def python_blocks() -> list[tuple[str, str]]:
    """``(section heading, code)`` of every fenced ``python`` block, in order."""
    blocks, heading = [], ""
    fence = re.compile(r"^```python\n(.*?)^```", re.M | re.S)
    position = 0
    for match in fence.finditer(README.read_text("utf-8")):
        before = README.read_text("utf-8")[position : match.start()]
        headings = re.findall(r"^#+ (.*)$", before, re.M)
        heading = headings[-1] if headings else heading
        blocks.append((heading, match.group(1)))
        position = match.end()
    return blocks


def test_the_readme_has_magic_examples():
    magic = [code for _, code in python_blocks() if MAGIC.search(code)]
    assert len(magic) >= 5
    assert any(re.search(r"^%respond .*\?$", code, re.M) for code in magic)


def test_every_magic_example_loads_the_extension_first_or_follows_one_that_does():
    blocks = python_blocks()
    for index, (heading, code) in enumerate(blocks):
        if not MAGIC.search(code):
            continue
        first = code.lstrip().splitlines()[0]
        if first.startswith(LOAD):
            # In the same cell a later "%respond ...?" line would already be IPython's help.
            assert not re.search(r"^%respond .*\?\s*$", code, re.M), code
            continue
        # Else: an earlier block of the same section loads it (a cell magic must be the first
        # line of its cell, so it cannot load the extension itself).
        earlier = [c for h, c in blocks[:index] if h == heading]
        assert any(c.lstrip().startswith(LOAD) for c in earlier), f"{heading}: {first}"


def test_every_readme_example_runs_in_a_fresh_shell(srv, monkeypatch):
    """Each block is one cell; before each block that loads the extension it is unloaded, so
    every such group starts as a fresh kernel would."""
    monkeypatch.setenv("AGCLOUD_STANDIN_URL", srv.base_url)  # %agcloud offline shares srv
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "sk-test-readme-typed-0123")
    with pointed_at(srv, monkeypatch) as ip:
        ran = 0
        try:
            for heading, code in python_blocks():
                if code.lstrip().startswith(LOAD) and get_magics(ip) is not None:
                    ip.run_line_magic("unload_ext", "agcloud_magic")
                    assert get_magics(ip) is None
                run = run_cell(ip, code)
                shown = run.stdout + run.stderr
                assert run.error is None, f"{heading}:\n{code}\n{run.error!r}\n{shown}"
                assert "not found" not in shown and "Traceback" not in shown, (code, shown)
                panel = getattr(run.result, "result", None)
                if hasattr(panel, "close"):
                    panel.close()
                ran += 1
        finally:
            if get_magics(ip) is not None:
                run_cell(ip, "%agcloud offline stop")
    assert ran == len(python_blocks())
    # The examples reached the stand-in (not only loaded the extension).
    assert sum(1 for r in srv.requests if r.method == "POST") >= 4


@pytest.mark.parametrize("fresh", [True, False])
def test_a_question_in_the_cell_that_loads_the_extension_is_explained(srv, monkeypatch, fresh):
    """IPython reads a trailing ``?`` while it splits the cell, before ``%load_ext`` in that cell
    runs; the extension cannot undo that, so it says what happened and what to do."""
    with pointed_at(srv, monkeypatch) as ip:
        ip.run_line_magic("unload_ext", "agcloud_magic")
        run = run_cell(ip, f"{LOAD}\n%respond --max-output-tokens 200 What is a p-value?")
        if not fresh:  # once loaded, the same cell asks the model
            run = run_cell(ip, f"{LOAD}\n%respond --max-output-tokens 200 What is a p-value?")
    shown = run.stdout + run.stderr
    if fresh:
        assert "run the cell again" in shown and "cell of its own" in shown
    else:
        assert "p-value?" in shown and "run the cell again" not in shown
