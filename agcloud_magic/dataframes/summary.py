"""``summarize()``: a budget-bounded, deterministic text summary of a DataFrame or Series.

Budget plan (all sizes in characters, every section made of whole lines):

1. Header (title, index, duplicates, labels, dtypes, withheld, legend): at most 45% of the budget.
2. Column lines: up to 80% of what is left (65% when some columns can only be named). Tiers
   are prefixes in frame order: full lines, then compact lines, then names only. Sizes are
   estimated before any statistics are computed, so only the columns that will be shown are
   profiled (a 2,000-column frame profiles a few dozen); then the plan is corrected with the
   real line lengths.
3. The remaining columns as names grouped by dtype, then sample rows (fewer columns, then fewer
   rows, until they fit), then alerts with whatever is left.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from . import format as fmt
from . import header as hdr
from ._text import clip, fmt_int, fmt_label
from .plan import ColumnPlan
from .profile import ColumnProfile, Context
from .sampling import sample_positions

__all__ = ["DUP_CELLS_EXACT", "DUP_ROWS_EXACT", "HEADER_SHARE", "MIN_BUDGET", "summarize"]

MIN_BUDGET = 300
HEADER_SHARE = 0.45
DUP_ROWS_EXACT = 200_000  # duplicate rows are counted exactly up to this many rows ...
DUP_CELLS_EXACT = 2_400_000  # ... and this many cells


def summarize(obj: Any, *, name: str | None = None, budget: int = 6000, sample_rows: int = 5,
              columns: Sequence | None = None, exclude: Sequence | None = None,
              sample_size: int = 100_000, seed: int = 0) -> str:
    """Describe a DataFrame or Series for a language model, in at most ``budget`` characters.

    Markdown-flavoured text: a header (shape, memory, index, legend), one ``|``-separated line per
    column (dtype, non-null share, distinct count, statistics), the names of columns that did not
    fit, a few real sample rows and alerts. Null counts, min, max, mean and sd are exact; figures
    estimated from the fixed-seed ``sample_size``-row sample are marked ``~``. The same frame
    and options always give the same text.

    ``columns`` / ``exclude`` are allow / deny lists of column labels (unknown labels raise
    ``ValueError``); ``sample_rows=0`` leaves out sample rows (frequent values and min/max still
    quote data). Withheld parts are stated in the header.
    """
    _check_options(budget, sample_rows, sample_size, seed)
    if isinstance(obj, pd.DataFrame):
        kind, labels, dtypes = "DataFrame", list(obj.columns), obj.dtypes.tolist()
    elif isinstance(obj, pd.Series):
        kind, labels, dtypes = "Series", [obj.name], [obj.dtype]
        if name is None and isinstance(obj.name, str):
            name = obj.name
    else:
        raise TypeError(f"summarize() needs a pandas DataFrame or Series, not {type(obj).__name__}")
    sel = _select(labels, columns, exclude)
    cache: dict[Any, str] = {}  # str(dtype) is slow enough to matter on 2,000 columns
    names = [cache[dt] if dt in cache else cache.setdefault(dt, str(dt)) for dt in dtypes]
    rows = len(obj)
    ctx = Context(rows, sample_positions(rows, sample_size, seed))
    builder = ColumnPlan(obj, kind, labels, dtypes, names, sel, ctx)

    memory, shallow = hdr.memory_of(obj)
    title = hdr.title_line(kind, name, rows, len(labels), memory, shallow,
                           names[0] if kind == "Series" else None)
    withheld = hdr.withheld_line(len(labels) - len(sel), len(labels), sample_rows)
    legend = hdr.legend_line(ctx.sampled, sample_size, seed)
    optional = [(1, hdr.index_line(obj.index, sample_size))]
    if kind == "DataFrame":
        labels_text = hdr.labels_line(obj.columns)
        if labels_text:
            optional.append((3, labels_text))
        if len(sel) > 12:
            optional.append((4, hdr.dtypes_line([names[j] for j in sel])))
    head_guess = _header(title, [*optional, (2, "x" * 70)], withheld, legend, budget)

    lines = builder.column_section(budget - len("\n".join(head_guess)) - 1)
    dup_text = _duplicates(obj, kind, sel, builder.profiled())
    if dup_text:
        optional.append((2, f"duplicate rows: {dup_text}"))
    out = _header(title, optional, withheld, legend, budget) + lines
    used = len("\n".join(out))

    alerts = fmt.alert_lines(builder.profiled(), _dup_count(dup_text), _dup_labels(labels, sel))
    alert_room = min(len("\n".join(alerts)) + 1, (budget - used) // 3) if alerts else 0
    table = bool(sample_rows and rows and builder.profiled())
    rest = builder.names_left()
    if rest:  # the names share what is left with the sample rows, when there are any
        room = budget - used - 1 - alert_room
        out += fmt.names_section(rest, int(room * 0.6) if table else room)
        used = len("\n".join(out))
    if table:
        out += builder.sample_section(sample_rows, seed, budget - used - 1 - alert_room)
        used = len("\n".join(out))
    for line in alerts:
        if used + 1 + len(line) > budget:
            break
        out.append(line)
        used += 1 + len(line)
    if out and out[-1] == "### alerts":
        out.pop()
    return _fit("\n".join(out), budget)


def _check_options(budget: int, sample_rows: int, sample_size: int, seed: int) -> None:
    if not isinstance(budget, int) or budget < MIN_BUDGET:
        raise ValueError(f"budget must be an int >= {MIN_BUDGET} characters, got {budget!r}")
    if not isinstance(sample_rows, int) or sample_rows < 0:
        raise ValueError(f"sample_rows must be an int >= 0, got {sample_rows!r}")
    if not isinstance(sample_size, int) or sample_size < 1:
        raise ValueError(f"sample_size must be an int >= 1, got {sample_size!r}")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")


def _select(labels: list, columns: Sequence | None, exclude: Sequence | None) -> list[int]:
    """Positions of the described columns, in frame order (duplicate labels all match)."""
    def as_list(items: Sequence | None, what: str) -> list | None:
        if items is None:
            return None
        items = [items] if isinstance(items, (str, tuple)) else list(items)
        unknown = [x for x in items if not any(_matches(lab, x) for lab in labels)]
        if unknown:
            names = ", ".join(fmt_label(x, 40) for x in unknown[:10])
            more = f" (+{len(unknown) - 10} more)" if len(unknown) > 10 else ""
            raise ValueError(f"unknown column label(s) in {what}=: {names}{more}")
        return items

    allow, deny = as_list(columns, "columns"), as_list(exclude, "exclude")
    return [j for j, lab in enumerate(labels)
            if (allow is None or any(_matches(lab, x) for x in allow))
            and not (deny and any(_matches(lab, x) for x in deny))]


def _matches(label: Any, item: Any) -> bool:
    """A label matches an item equal to it, or (MultiIndex columns) equal to its first level."""
    try:
        if bool(label == item):
            return True
        return isinstance(label, tuple) and not isinstance(item, tuple) and bool(label[0] == item)
    except (TypeError, ValueError, IndexError):
        return False


def _header(title: str, optional: list[tuple[int, str]], withheld: str | None, legend: str,
            budget: int) -> list[str]:
    """Title, then optional lines by priority while they fit 45% of the budget, then the
    withheld note and the legend (never dropped)."""
    fixed = [title] + ([withheld] if withheld else []) + [legend]
    limit = int(budget * HEADER_SHARE)
    used = len("\n".join(fixed))
    chosen: list[tuple[int, str]] = []
    for prio, line in sorted(optional, key=lambda x: x[0]):
        line = clip(line, 300)
        if used + 1 + len(line) <= limit:
            chosen.append((prio, line))
            used += 1 + len(line)
    body = [line for _, line in sorted(chosen, key=lambda x: x[0])]
    return [title, *body, *fixed[1:]]


def _duplicates(obj: Any, kind: str, sel: list[int], profiles: list[ColumnProfile]) -> str | None:
    rows = len(obj)
    if kind != "DataFrame" or rows == 0 or not sel:
        return None
    for p in profiles:
        if p.distinct_exact and p.nulls == 0 and p.distinct == rows:
            return f"0 (column {fmt_label(p.label, 40)} is unique)"
    if rows > DUP_ROWS_EXACT or rows * len(sel) > DUP_CELLS_EXACT:
        return "not checked (no column is proven unique; too large to compare rows)"
    sub = obj if len(sel) == obj.shape[1] else obj.iloc[:, sel]
    try:
        return fmt_int(int(sub.duplicated().sum()))
    except TypeError:
        return "not checked (unhashable cells)"
    except Exception:  # e.g. arrow list columns have no hash kernel
        return "not checked (values cannot be compared)"


def _dup_count(text: str | None) -> int | None:
    if not text or not text[0].isdigit():
        return None
    return int(text.split(" ")[0].replace(",", ""))


def _dup_labels(labels: list, sel: list[int]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for j in sel:
        key = fmt_label(labels[j], 40)
        counts[key] = counts.get(key, 0) + 1
    return [(k, c) for k, c in counts.items() if c > 1]


def _fit(text: str, budget: int) -> str:
    """Last guard: drop whole trailing lines until the text fits (never cuts a line)."""
    if len(text) <= budget:
        return text
    lines = text.split("\n")
    while lines and len("\n".join(lines)) > budget:
        lines.pop()
    return "\n".join(lines)
