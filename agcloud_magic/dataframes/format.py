"""Rendering: column lines (full and compact tiers), grouped names, sample rows, alerts.

The format is Markdown-flavoured text: ``##``/``###`` headings, one ``|``-separated line per
column with a fixed field order (``name | dtype | non-null | distinct | stats``) and a small
Markdown table for the sample rows. Why: for current models the serialisation matters less than
what is included and what it costs in tokens; compact per-column lines are about half the
tokens of key-value or JSON, tables of facts beat prose, Markdown renders in the widget, and a
fixed field order lets a model (or a test) read any line the same way. Estimates carry ``~``.

Every function returns whole lines; the budget logic in :mod:`.summary` only ever keeps or
drops whole lines, so nothing is cut mid-line.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._text import cell, clip, field, fmt_approx_count, fmt_int, fmt_label, fmt_share, one_line
from .profile import ColumnProfile

__all__ = [
    "COLUMNS_TITLE",
    "COMPACT",
    "FULL",
    "NAME_WIDTH",
    "VALUE_WIDTH",
    "alert_lines",
    "column_line",
    "distinct_text",
    "names_section",
    "sample_table",
    "top_text",
    "value_text",
]

FULL = "full"
COMPACT = "compact"
COLUMNS_TITLE = "### columns (name | dtype | non-null | distinct | stats)"
NAME_WIDTH = 60
VALUE_WIDTH = 24
_NEEDS_QUOTES = set(",;|()")


def column_line(p: ColumnProfile, tier: str) -> str:
    """One line per column: ``- name | dtype | non-null | distinct | stats``."""
    head = f"- {fmt_label(p.label, NAME_WIDTH)} | {field(p.dtype, 40)}"
    if p.rows == 0:
        return f"{head} | no rows"
    full = tier == FULL
    if p.nulls == 0:
        nn = "non-null 100%"
    else:
        nn = f"non-null {fmt_share(p.non_null / p.rows)}"
        if full:
            nn += f" ({fmt_int(p.nulls)} null)"
    parts = [head, nn, f"distinct {distinct_text(p)}"]
    body = _full_stats(p) if full else _compact_stats(p)
    if body:
        parts.append(body)
    return " | ".join(parts)


def distinct_text(p: ColumnProfile) -> str:
    """``2,000``, ``unique``, ``~4.8M`` or ``~unique``."""
    if p.distinct is None:
        return "?"
    if p.distinct_exact:
        if p.distinct == p.non_null and p.non_null > 2 and p.family != "bool":
            return "unique"
        return fmt_int(p.distinct)
    if p.distinct >= p.non_null:
        return "~unique"
    return fmt_approx_count(p.distinct)


def _full_stats(p: ColumnProfile) -> str:
    if p.error:
        return f"stats unavailable ({field(p.error, 80)})"
    groups = []
    if p.lo is not None:
        rng = f"min {field(p.lo, 40)} max {field(p.hi or '', 40)}"
        if p.mean is not None:
            rng += f" mean {p.mean}" + (f" sd {p.sd}" if p.sd is not None else "")
        groups.append(rng)
    if p.quantiles and p.non_null > 1:
        mark = "" if p.quantiles_exact else "~"
        if len(p.quantiles) == 1:
            name, value = p.quantiles[0]
            groups.append(f"{name}{mark} {value}")
        else:
            groups.append(f"quantiles{mark} " + " ".join(f"{k} {v}" for k, v in p.quantiles))
    if p.top:
        groups.append(top_text(p, 5))
    groups.extend(field(n, 120) for n in p.notes)
    return "; ".join(groups)


def _compact_stats(p: ColumnProfile) -> str:
    if p.error:
        return "stats unavailable"
    if p.lo is not None and p.family in ("numeric", "datetime", "timedelta"):
        return f"{field(p.lo, 40)}..{field(p.hi or '', 40)}"
    if p.family == "bool" and p.notes:
        return field(p.notes[0], 60)
    if p.top:
        return top_text(p, 1)
    lengths = [n for n in p.notes if n.startswith("len")]
    return field(lengths[0], 60) if lengths else ""


def top_text(p: ColumnProfile, limit: int) -> str:
    """``top~ Anan (25.4%), Berqui (10.7%)``: values cut to 24 chars, quoted when ambiguous."""
    mark = "" if p.top_exact else "~"
    items = ", ".join(f"{value_text(v, p.top_literal)} ({fmt_share(s)})" for v, s in p.top[:limit])
    return f"top{mark} {items}"


def value_text(value: str, literal: bool = False) -> str:
    """A frequent value inside a line: cut, on one line, quoted if it could be misread
    (``literal`` values are already Python literals or numbers and are never re-quoted)."""
    text = one_line(value)
    if not literal and (not text or text != text.strip() or _NEEDS_QUOTES.intersection(text)):
        text = repr(clip(value, VALUE_WIDTH))
        text = one_line(text)
    return field(text, VALUE_WIDTH + 2)


def names_section(items: Sequence[tuple[object, str]], allowance: int) -> list[str]:
    """Columns not described, as names grouped by dtype, each group cut with ``(N total)``.

    ``items`` are ``(label, dtype)`` in frame order; groups appear in order of first dtype.
    Every group first gets its shortest line (``- dtype (N): ... (N total)``); the characters
    left are shared equally and filled with names in frame order. Groups that do not fit at
    all are summed up in a last line. Returns no lines when not even the title fits.
    """
    groups: dict[str, list[object]] = {}
    for label, dtype in items:
        groups.setdefault(dtype, []).append(label)
    title = f"### {fmt_int(len(items))} more columns, names only (by dtype)"
    heads = [(f"- {clip(dtype, 40)} ({fmt_int(len(labels))}): ", labels)
             for dtype, labels in groups.items()]
    shortest = [len(head) + len(f"... ({fmt_int(len(labels))} total)") for head, labels in heads]
    room = allowance - len(title)
    kept = 0
    while kept < len(heads):
        rest = len(heads) - kept - 1
        more = len(f"- ... {fmt_int(rest)} more dtype groups") + 1 if rest else 0
        if sum(shortest[: kept + 1]) + kept + 1 + more > room:
            break
        kept += 1
    rest = len(heads) - kept
    tail_line = f"- ... {fmt_int(rest)} more dtype groups" if rest else ""
    if kept == 0:
        return [title, tail_line] if tail_line and len(title) + 1 + len(tail_line) <= allowance \
            else []
    spare = room - sum(shortest[:kept]) - kept - (len(tail_line) + 1 if rest else 0)
    lines = [title]
    for (head, labels), base in zip(heads[:kept], shortest[:kept], strict=True):
        lines.append(_names_line(head, labels, base + spare // kept))
    if tail_line:
        lines.append(tail_line)
    return lines


def _names_line(head: str, labels: list[object], width: int) -> str:
    """``head`` plus as many names as fit ``width``, then ``... (N total)`` if any are left."""
    tail = f", ... ({fmt_int(len(labels))} total)"
    line = head
    for i, label in enumerate(labels):
        name = fmt_label(label, 40)
        sep = ", " if i else ""
        end = "" if i + 1 == len(labels) else tail
        if len(line) + len(sep) + len(name) + len(end) > width:
            return line + tail if i else head + tail[2:]
        line += sep + name
    return line


def sample_table(index_name: str, index_cells: list[str], headers: list[str],
                 columns: list[list[str]], allowance: int, seed: int, random: bool) -> list[str]:
    """A Markdown table of real rows that fits ``allowance``: drop columns from the right, then
    rows, until it fits; no lines when even one column of one row does not fit."""
    rows = len(index_cells)
    for r in range(rows, 0, -1):
        for c in range(len(columns), 0, -1):
            lines = _table(index_name, index_cells[:r], headers[:c], [col[:r] for col in
                                                                      columns[:c]],
                           r, c, len(columns), seed, random)
            if len("\n".join(lines)) <= allowance:
                return lines
    return []


def _table(index_name: str, index_cells: list[str], headers: list[str], columns: list[list[str]],
           r: int, c: int, total_cols: int, seed: int, random: bool) -> list[str]:
    how = f"random, seed {seed}" if random else "all rows"
    cols = "" if c == total_cols else f", first {c} of {total_cols} columns"
    lines = [f"### {r} sample rows ({how}, in frame order{cols}; first cell = index label)"]
    lines.append("| " + " | ".join([cell(index_name), *headers]) + " |")
    lines.append("|" + "---|" * (c + 1))
    for i in range(r):
        lines.append("| " + " | ".join([index_cells[i]] + [col[i] for col in columns]) + " |")
    return lines


def alert_lines(profiles: Sequence[ColumnProfile], duplicate_rows: int | None,
                duplicate_labels: Sequence[tuple[str, int]]) -> list[str]:
    """Short warnings computed from the profiles (no extra pass), one line per kind."""
    kinds: dict[str, list[str]] = {}

    def add(kind: str, text: str) -> None:
        kinds.setdefault(kind, []).append(text)

    for p in profiles:
        name = fmt_label(p.label, 40)
        if p.rows == 0 or p.error:
            continue
        if p.nulls == p.rows:
            add("all null", name)
            continue
        if p.distinct == 1 and p.distinct_exact:
            add("constant", name)
        if p.nulls / p.rows > 0.5:
            add(">50% null", f"{name} ({fmt_share(p.nulls / p.rows)})")
        unique = p.distinct is not None and p.non_null >= 20 and p.distinct >= p.non_null
        if unique and (p.family in ("string", "object") or
                       (p.family == "numeric" and p.dtype.lower().lstrip("u").startswith("int"))):
            add("likely ID (unique)", name)
        elif (p.family in ("string", "object") and p.non_null >= 100 and p.distinct
              and p.distinct >= 0.5 * p.non_null):
            mark = "" if p.distinct_exact else "~"
            add("high-cardinality text", f"{name} ({mark}{fmt_share(p.distinct / p.non_null)} "
                "distinct)")
        _skew(p, name, add)
        if "mixed_types" in p.flags:
            add("mixed Python types", f"{name} ({', '.join(p.flags['mixed_types'][:3])})")
        if p.flags.get("unhashable"):
            add("unhashable cells (lists/dicts)", name)
        if "numeric_text" in p.flags:
            add("numbers stored as text", name)
        if "date_text" in p.flags:
            add("dates stored as text", name)
        if p.flags.get("inf"):
            add("infinite values", f"{name} ({fmt_int(p.flags['inf'])})")
    if duplicate_rows:
        add("duplicate rows", fmt_int(duplicate_rows))
    for name, count in duplicate_labels:
        add("duplicate column labels", f"{name} x{count}")
    if not kinds:
        return []
    return ["### alerts"] + [_listing(f"- {kind}: ", items, 300) for kind, items in kinds.items()]


def _listing(head: str, items: list[str], width: int) -> str:
    """``head`` + comma-separated items, stopping before ``width`` with ``... (N total)``."""
    line = head
    for i, item in enumerate(items):
        tail = "" if i + 1 == len(items) else f", ... ({fmt_int(len(items))} total)"
        sep = ", " if i else ""
        if i and len(line) + len(sep) + len(item) + len(tail) > width:
            return line + f", ... ({fmt_int(len(items))} total)"
        line += sep + item
    return line


def _skew(p: ColumnProfile, name: str, add) -> None:
    """Pearson's second coefficient 3 (mean - median) / sd; |value| >= 0.75 is a heavy skew.
    Only for columns with many distinct values: on a handful of integers the median jumps."""
    mean, sd, median = p.flags.get("mean"), p.flags.get("sd"), p.flags.get("median")
    if p.family != "numeric" or mean is None or not sd or median is None or \
            (p.distinct or 0) < 50:
        return
    coef = 3 * (mean - median) / sd
    if abs(coef) >= 0.75:
        mark = "" if p.quantiles_exact else "~"
        add("skewed", f"{name} ({'right' if coef > 0 else 'left'}, {mark}{coef:+.2f})")
