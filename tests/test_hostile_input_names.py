"""Names a user gives that would break the kernel or leak a traceback (issue: hostile input)."""

from __future__ import annotations

import pytest

from .magic_support import posts, run_cell


@pytest.mark.parametrize(
    "name", ["__builtins__", "get_ipython", "In", "Out", "_", "_ih", "exit", "class", "2x", "a.b"]
)
def test_out_refuses_a_name_ipython_needs_or_python_rejects(ip, srv, name):
    run = run_cell(ip, f"%%respond -o {name}\nhello")
    out = run.stdout + run.stderr + str(run.error or "")
    assert f"-o {name}:" in out and "Traceback" not in out
    assert posts(srv) == []  # refused before anything was sent
    assert run_cell(ip, "1 + 1").error is None  # the next cell still runs
    assert callable(ip.user_ns["get_ipython"])


def test_out_takes_a_plain_name(ip, srv):
    assert run_cell(ip, "%%respond -o answer_2\nhello").error is None
    assert "hello" in ip.user_ns["answer_2"].text


def test_a_variable_whose_str_raises_is_named_in_one_line(ip, srv):
    run_cell(ip, "class Broken:\n    def __str__(self):\n        raise ValueError('nope')\n"
                 "thing = Broken()")
    run = run_cell(ip, "%%respond\nlook at {thing}")
    out = run.stdout + run.stderr + str(run.error or "")
    assert "{thing}" in out and "ValueError: nope" in out and "Traceback" not in out
    assert posts(srv) == []
