"""Parameter descriptions and summaries from docstrings (Google, numpydoc and Sphinx styles)."""

from __future__ import annotations

import inspect
import re

from agcloud_magic.tools.schema import first_paragraph

__all__ = ["param_descriptions", "summary_line"]

_GOOGLE_HEADERS = {"args:", "arguments:", "parameters:", "params:", "keyword args:"}
_NUMPY_HEADERS = {"parameters", "other parameters"}
_ENTRY_RE = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_NUMPY_ENTRY_RE = re.compile(r"^\*{0,2}(\w+)\s*(?::.*)?$")
_SPHINX_RE = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _is_underline(line: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= 3 and set(stripped) == {"-"}


def param_descriptions(doc: str | None) -> dict[str, str]:
    """Parameter descriptions from a Google (``Args:``), numpydoc (``Parameters``) or Sphinx
    (``:param x:``) docstring; continuation lines are joined onto one line."""
    lines = inspect.cleandoc(doc or "").splitlines()
    found: dict[str, list[str]] = {}
    current: str | None = None
    mode: str | None = None
    base = 0  # indent of the section header
    entry: int | None = None  # indent of the entries of a Google section
    for i, line in enumerate(lines):
        stripped, ind = line.strip(), _indent(line)
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if match := _SPHINX_RE.match(stripped):
            mode, current = "sphinx", match.group(1)
            found[current] = [match.group(2)]
        elif stripped.lower() in _GOOGLE_HEADERS:
            mode, base, entry, current = "google", ind, None, None
        elif stripped.lower() in _NUMPY_HEADERS and _is_underline(following):
            mode, base, current = "numpy", ind, None
        elif mode is None or not stripped or _is_underline(line):
            continue
        elif mode == "sphinx":
            if current is not None and ind > 0:
                found[current].append(stripped)
            else:
                current = None
        elif mode == "google":
            if ind <= base:  # dedent: the section is over
                mode = current = None
                continue
            entry = ind if entry is None else entry
            if ind <= entry:
                match = _ENTRY_RE.match(stripped)
                current = match.group(1) if match else None
                if match:
                    found[current] = [match.group(2)]
            elif current is not None:
                found[current].append(stripped)
        elif _is_underline(following):  # numpy: the next section's header
            mode = current = None
        elif ind <= base:
            match = _NUMPY_ENTRY_RE.match(stripped)
            current = match.group(1) if match else None
            if current:
                found[current] = []
        elif current is not None:
            found[current].append(stripped)
    return {k: " ".join(p for p in v if p) for k, v in found.items() if any(v)}


def summary_line(doc: str | None) -> str:
    text = first_paragraph(doc)
    first = text.split(" ", 1)[0].lower() if text else ""
    # A docstring that opens with its Args section has no summary to offer.
    return "" if first in {"args:", "arguments:", "parameters", "params:"} else text


