"""``%respond …?`` lines: the extension keeps a real magic line a question for the model (not
IPython's ``?`` help), and leaves every other line alone: lines inside a string literal, inside
brackets, and the body of a ``%%respond`` cell (which is the prompt, verbatim)."""

from __future__ import annotations

import pytest

from agcloud_magic.ipython.extension import protect_questions

from .magic_support import posts, run_cell


def sent_input(srv) -> list:
    return [body["input"] for body in posts(srv)]


@pytest.mark.parametrize("opening, closing", [('"""', '"""'), ("'''", "'''"), ('r"""', '"""'),
                                              ('f"""', '"""'), ('b"""', '"""')])
def test_a_string_literal_keeps_a_line_that_looks_like_a_question(ip, srv, opening, closing):
    cell = f"text = {opening}\n%respond what is 2+2?\n  %respond indented?\n{closing}\n"
    run = run_cell(ip, cell)
    assert run.error is None, run.stderr
    value = ip.user_ns["text"]
    expected = "\n%respond what is 2+2?\n  %respond indented?\n"
    assert (value.decode() if isinstance(value, bytes) else value) == expected
    assert posts(srv) == []  # nothing was sent: no magic ran


def test_escaped_quotes_do_not_end_the_literal(ip, srv):
    cell = 'text = """it\'s \\""" still open\n%respond no?\n"""\n'
    run = run_cell(ip, cell)
    assert run.error is None, run.stderr
    assert ip.user_ns["text"] == 'it\'s """ still open\n%respond no?\n'
    assert posts(srv) == []


def test_a_question_line_still_asks_the_model(ip, srv):
    run = run_cell(ip, "%respond what is 2+2?")
    assert run.error is None, run.stderr
    assert sent_input(srv) == ["what is 2+2?"]


def test_a_question_after_a_closed_literal_and_a_comment_still_asks(ip, srv):
    cell = ('note = """a\n%respond not me?\n"""\n'
            "# a comment's quote ''' does not open a string\n"
            "%respond what is 3+3?\n")
    run = run_cell(ip, cell)
    assert run.error is None, run.stderr
    assert ip.user_ns["note"] == "a\n%respond not me?\n"
    assert sent_input(srv) == ["what is 3+3?"]


def test_the_body_of_a_respond_cell_is_the_prompt_verbatim(ip, srv):
    run = run_cell(ip, "%%respond\nFirst line.\n%respond what is this?\n")
    assert run.error is None, run.stderr
    assert sent_input(srv) == ["First line.\n%respond what is this?"]


def test_lines_inside_brackets_are_not_magic_lines():
    lines = ["items = [\n", "%respond a?\n", "]\n", "call(x, \\\n", "%respond b?\n"]
    assert protect_questions(lines) == lines


def test_an_apostrophe_in_a_question_does_not_open_a_string():
    lines = ["%respond what's 2+2?\n", "%respond and what's 3+3?\n"]
    out = protect_questions(lines)
    assert out == [
        "get_ipython().run_line_magic('respond', \"what's 2+2?\")\n",
        "get_ipython().run_line_magic('respond', \"and what's 3+3?\")\n",
    ]


def test_quotes_right_after_a_keyword_and_prefixed_names_are_read_right():
    lines = ['def f():\n', '    return"""\n', '%respond inside?\n', '"""\n', 'bar = 1\n',
             '%respond outside?\n']
    out = protect_questions(lines)
    assert out[2] == lines[2]
    assert out[5] == "get_ipython().run_line_magic('respond', 'outside?')\n"
