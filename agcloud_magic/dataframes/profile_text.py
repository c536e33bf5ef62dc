"""Column profiles for text-like and other non-numeric dtypes.

Object columns are scanned once for nulls and otherwise profiled from the sample,
including cells that cannot be hashed (lists, dicts), which are counted by a stable repr.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from . import stats
from ._text import fmt_int, fmt_num, fmt_scalar, fmt_share, stable_repr
from .profile import TOP_LIMIT, ColumnProfile, Context, set_top
from .sampling import take_values
from .text_keys import has_long_text, text_key

__all__ = [
    "HINT_VALUES",
    "length_note",
    "profile_category",
    "profile_generic",
    "profile_objects",
    "python_values",
    "record_distinct",
    "text_hints",
]

HINT_VALUES = 250
_DATE_LIKE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}")


def profile_category(arr: Any, prof: ColumnProfile, ctx: Context) -> None:
    """Categoricals: exact counts per category from the codes (one bincount pass)."""
    prof.family = "category"
    codes = np.asarray(arr.codes)
    cats = arr.categories
    counts = stats.int_counts(codes, -1, len(cats) - 1)
    prof.nulls = int(counts[0])
    observed = counts[1:]
    prof.distinct = int(np.count_nonzero(observed))
    note = f"{fmt_int(len(cats))} categories" + (", ordered" if arr.ordered else "")
    if prof.distinct < len(cats):
        note += f" ({fmt_int(len(cats) - prof.distinct)} unused)"
    prof.notes.append(note)
    order = [i for i in stats.top_order(observed, TOP_LIMIT) if observed[i]]
    set_top(prof, [(fmt_scalar(cats[i]), int(observed[i])) for i in order], ctx.rows,
            prof.non_null, True)
    if arr.ordered and prof.distinct:
        seen = np.flatnonzero(observed)
        prof.lo, prof.hi = fmt_scalar(cats[seen[0]]), fmt_scalar(cats[seen[-1]])


def profile_objects(values: np.ndarray, prof: ColumnProfile, ctx: Context) -> None:
    """object columns, python-backed strings and other numpy kinds (complex, bytes): exact
    null count in one chunked pass, the rest from the sample."""
    prof.family = "string" if prof.dtype.startswith("string") else "object"
    nulls = 0
    for start in range(0, len(values), stats.CHUNK):
        nulls += int(np.count_nonzero(pd.isna(values[start:start + stats.CHUNK])))
    prof.nulls = nulls
    sample = values if ctx.positions is None else values[ctx.positions]
    # Only the sample becomes Python objects (complex or bytes columns are not copied whole).
    sample = sample[~pd.isna(sample)].astype(object, copy=False)
    python_values(sample, prof, ctx)


def profile_generic(arr: Any, prof: ColumnProfile, ctx: Context) -> None:
    """Any other extension array (period, interval, sparse, third-party): counts and values."""
    prof.nulls = int(np.count_nonzero(np.asarray(arr.isna(), dtype=bool)))
    sample = list(arr) if ctx.positions is None else take_values(arr, ctx.positions)
    python_values([v for v in sample if not _is_null(v)], prof, ctx)


def _is_null(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, (float, np.floating)):
        return bool(value != value)
    return False


def python_values(values: list | np.ndarray, prof: ColumnProfile, ctx: Context) -> None:
    """Types, distinct count, frequent values and (for strings) lengths of non-null values."""
    mark = "~" if ctx.sampled else ""
    types = Counter(type(v) for v in values)
    ranked = sorted(((c, _type_name(t)) for t, c in types.items()), key=lambda x: (-x[0], x[1]))
    if len(ranked) > 1:
        prof.flags["mixed_types"] = [name for _, name in ranked]
        shares = ", ".join(f"{name} {fmt_share(c / len(values))}" for c, name in ranked[:6])
        if len(ranked) > 6:
            shares += f", ... ({len(ranked)} types)"
        prof.notes.append(f"types{mark} {shares}")
    elif ranked and ranked[0][1] != "str" and prof.family == "object":
        prof.notes.append(f"type{mark} {ranked[0][1]}")
    mixed = len(ranked) > 1
    # Long strings are counted by a bounded key (see text_keys: the work per value is bounded,
    # at the price of rare same-length near-duplicates counted as one).
    key = text_key if has_long_text(values) else None
    if mixed:
        # 1, 1.0 and True are equal in Python; count them apart when the column mixes types.
        tagged = [(type(v).__name__, v if key is None else key(v)) for v in values]
        keys, counts, hashable = stats.count_values(tagged, values)
    elif key is not None:
        keys, counts, hashable = stats.count_values([key(v) for v in values], values)
    else:
        keys, counts, hashable = stats.count_values(values)
    if not hashable:
        prof.flags["unhashable"] = True
        prof.notes.append("unhashable cells, counted by repr")
    record_distinct(prof, ctx, len(keys), int(np.count_nonzero(counts == 1)), len(values))
    order = stats.top_order(counts, TOP_LIMIT)
    show = fmt_scalar if hashable and not mixed else _repr_text
    set_top(prof, [(show(keys[i]), int(counts[i])) for i in order], ctx.sample_rows,
            len(values), not ctx.sampled)
    prof.top_literal = mixed or not hashable or bool(ranked and ranked[0][1] != "str")
    if ranked and len(ranked) == 1 and ranked[0][1] == "str":
        lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
        length_note(prof, lengths, ctx)
        text_hints(list(values[:HINT_VALUES]), prof, ctx)


def _repr_text(value: Any) -> str:
    return stable_repr(value, 400)


def _type_name(t: type) -> str:
    return t.__name__ if t.__module__ == "builtins" else t.__qualname__


def record_distinct(prof: ColumnProfile, ctx: Context, seen: int, singletons: int,
                    sample_n: int) -> None:
    """The distinct count from ``seen`` values (``singletons`` seen once) of ``sample_n``."""
    est = stats.distinct_estimate(seen, singletons, sample_n, prof.non_null)
    prof.distinct, prof.distinct_exact = round(est), not ctx.sampled
    prof.flags["singletons"] = singletons


def length_note(prof: ColumnProfile, lengths: np.ndarray, ctx: Context) -> None:
    """The ``len lo-hi (mean m)`` note of a text column."""
    mark = "~" if ctx.sampled else ""
    lo, hi, mean = int(lengths.min()), int(lengths.max()), float(lengths.mean())
    prof.notes.append(f"len{mark} {fmt_int(lo)}-{fmt_int(hi)} (mean {fmt_num(mean, 3)})")
    prof.flags["len_max"] = hi


def text_hints(head: list, prof: ColumnProfile, ctx: Context) -> None:
    """Flag strings that are really numbers or ISO dates (from up to 250 sample values)."""
    if not head:
        return
    mark = "~" if ctx.sampled or len(head) < prof.non_null else ""
    probe = pd.Series(head, dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        share = float(pd.to_numeric(probe, errors="coerce").notna().mean())
        if share >= 0.95:
            prof.flags["numeric_text"] = share
            prof.notes.append(f"looks numeric{mark}")
            return
        if not _DATE_LIKE.match(str(head[0])):
            return
        try:
            parsed = pd.to_datetime(probe, errors="coerce", format="ISO8601", utc=True)
            share = float(parsed.notna().mean())
        except (ValueError, TypeError):
            return
    if share >= 0.95:
        prof.flags["date_text"] = share
        prof.notes.append(f"looks like ISO dates{mark}")
