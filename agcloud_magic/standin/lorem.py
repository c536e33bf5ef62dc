"""Deterministic Markdown filler for the ``lorem`` / ``lorem-N`` models (benchmarks, rendering)."""

from __future__ import annotations

import itertools
import re

from .common import split_pieces

__all__ = ["DEFAULT_DELTAS", "lorem_count", "lorem_pieces"]

DEFAULT_DELTAS = 500
# A ceiling so that a typo such as ``lorem-99999999999`` cannot make the server build gigabytes.
MAX_DELTAS = 1_000_000
_MODEL = re.compile(r"^lorem(?:-(\d+))?$")
_WORDS = (
    "lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do",
    "eiusmod", "tempor", "incididunt", "ut", "labore", "et", "dolore", "magna", "aliqua", "ut",
    "enim", "ad", "minim", "veniam", "quis", "nostrud", "exercitation", "ullamco", "laboris",
    "nisi", "aliquip", "ex", "ea", "commodo", "consequat", "duis", "aute", "irure", "in",
    "reprehenderit", "voluptate", "velit", "esse", "cillum", "fugiat", "nulla", "pariatur",
    "excepteur", "sint", "occaecat", "cupidatat", "non", "proident", "sunt", "culpa", "qui",
    "officia", "deserunt", "mollit", "anim", "id", "est", "laborum",
)


def lorem_count(model: str) -> int | None:
    """Number of deltas asked for by a ``lorem``/``lorem-N`` model name, else None."""
    match = _MODEL.match(model)
    if match is None:
        return None
    n = int(match[1]) if match[1] else DEFAULT_DELTAS
    return max(1, min(n, MAX_DELTAS))


def _sentence(words: itertools.cycle, length: int) -> str:
    text = " ".join(next(words) for _ in range(length))
    return text[0].upper() + text[1:] + "."


def _blocks(words: itertools.cycle):
    """Endless Markdown blocks: heading, paragraph, list, paragraph, code, table, paragraph."""
    for section in itertools.count(1):
        yield f"## Section {section}: {_sentence(words, 3)[:-1]}"
        yield " ".join(_sentence(words, 9) for _ in range(3))
        yield "\n".join(f"- **Item {k}**: {_sentence(words, 5)}" for k in range(1, 5))
        yield " ".join(_sentence(words, 11) for _ in range(2))
        yield (
            "```python\n"
            f"def section_{section}(values):\n"
            "    # Filler code: sums the values.\n"
            "    total = 0\n"
            "    for value in values:\n"
            "        total += value\n"
            "    return total\n"
            "```"
        )
        rows = [f"| {k} | {next(words)} | {section * k * 1.5:.1f} |" for k in range(1, 4)]
        yield "\n".join(["| # | name | value |", "|---|------|------:|", *rows])
        yield _sentence(words, 12)


def lorem_pieces(n: int) -> list[str]:
    """Exactly ``n`` deltas of Markdown; whole blocks while they fit, then a closing paragraph."""
    words = itertools.cycle(_WORDS)
    pieces: list[str] = []
    for block in _blocks(words):
        block_pieces = split_pieces(("\n\n" if pieces else "") + block)
        # Keep at least one delta for the final paragraph so the text never ends inside a
        # code fence or a table.
        if len(pieces) + len(block_pieces) >= n:
            break
        pieces.extend(block_pieces)
    filler = words
    lead = "\n\n" if pieces else ""
    for k in range(n - len(pieces)):
        word = next(filler)
        if k == 0:
            pieces.append(lead + word.capitalize())
        else:
            pieces.append(" " + word)
    pieces[-1] += "."
    return pieces
