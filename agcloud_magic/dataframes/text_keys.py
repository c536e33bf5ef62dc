"""Bounded keys for counting long strings: the work per value stays the same however long it is.

Counting distinct values hashes each one (and compares it on a hash match); a 100 KB string
costs 100 KB of hashing, so a column of long documents took seconds per 10,000 sampled rows.
A string of more than :data:`LONG` characters is counted instead by the key
``(length, first KEY_CHARS characters, KEY_CHARS characters sampled at an even stride from the
middle, last KEY_CHARS characters)``; a shorter string is its own key, so short text (names,
codes, titles, most free text) is counted exactly as before.

The trade-off: two long strings of the same length that agree on their first and last
``KEY_CHARS`` characters and on every sampled middle character, but differ somewhere between
the sampled characters, are counted as one value.  Realistic long text differs in length, near
its start (ids, dates, titles) or near its end, or over whole stretches (a document's body),
which the stride (about ``length / KEY_CHARS`` characters) does not skip; what it misses is a
same-length template whose only difference is a few characters deep in the middle.  A key
(a tuple) never equals a string, so a short string cannot be confused with a long one's key.
"""

from __future__ import annotations

from typing import Any

__all__ = ["KEY_CHARS", "LONG", "bytes_key", "has_long_text", "text_key"]

KEY_CHARS = 1024
LONG = 3 * KEY_CHARS


def _stride(n: int) -> int:
    """The step that picks at most ``KEY_CHARS`` characters of a middle of ``n`` characters."""
    return max(1, -(-n // KEY_CHARS))


def text_key(value: Any) -> Any:
    """``value`` itself, or for a str longer than :data:`LONG` its bounded key."""
    if not isinstance(value, str):
        return value
    n = len(value)
    if n <= LONG:
        return value
    # Slicing with a step reads only the characters it returns (no copy of the middle).
    middle = value[KEY_CHARS : n - KEY_CHARS : _stride(n - 2 * KEY_CHARS)]
    return (n, value[:KEY_CHARS], middle, value[n - KEY_CHARS :])


def has_long_text(values: Any) -> bool:
    """Whether any value is a str longer than :data:`LONG` (``len`` is O(1))."""
    return any(isinstance(v, str) and len(v) > LONG for v in values)


def bytes_key(buf: memoryview, start: int, end: int) -> Any:
    """The key of the UTF-8 value ``buf[start:end]``: its bytes, or for a value longer than
    :data:`LONG` bytes the same bounded key as :func:`text_key` (in bytes)."""
    n = end - start
    if n <= LONG:
        return buf[start:end].tobytes()
    middle = buf[start + KEY_CHARS : end - KEY_CHARS : _stride(n - 2 * KEY_CHARS)].tobytes()
    head, tail = buf[start : start + KEY_CHARS], buf[end - KEY_CHARS : end]
    return (n, head.tobytes(), middle, tail.tobytes())
