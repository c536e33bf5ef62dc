"""Asking the person at the front end before a large batch spends anything.

A kernel's ``input()`` reaches the front end when it can ask (JupyterLab, Notebook, VS Code,
a terminal IPython): the question waits for an answer, so Run All stops at the cell instead of
spending.  A front end that cannot ask (nbclient or ``jupyter nbconvert --execute``, which
run without stdin) makes ``input()`` raise; that is a "no", with the line saying how to say
yes in the code instead.
"""

from __future__ import annotations

from agcloud_magic.errors import NotConfirmedError

__all__ = ["ask_yes_no"]

YES = ("y", "yes")


def ask_yes_no(question: str) -> bool:
    """``question`` with ``[y/N]``; True only for y or yes.  Raises
    :class:`~agcloud_magic.errors.NotConfirmedError` when nobody can be asked."""
    from IPython.core.error import StdinNotImplementedError

    try:
        answer = input(f"{question} [y/N] ")
    except (StdinNotImplementedError, EOFError, OSError):
        # OSError: a process whose stdin is captured or closed (pytest, a daemon).
        raise NotConfirmedError(
            f"Not sent: {question[0].lower()}{question[1:].rstrip('?')}, and this front end "
            "cannot ask. Pass confirm=True (or --yes with --each), or raise the threshold "
            "with %agcloud config confirm_rows=N."
        ) from None
    return answer.strip().lower() in YES
