"""Per-column profiles: which facts go into a column line, computed per dtype family.

This module holds the profile record, the dispatch on dtype and the numeric, boolean and
temporal families; text-like families (strings, objects, categories, anything else) live in
:mod:`.profile_text`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import stats
from ._text import fmt_exact, fmt_int, fmt_num, fmt_share
from .sampling import arrow_data

__all__ = [
    "TOP_LIMIT",
    "ColumnProfile",
    "Context",
    "finish_numbers",
    "order_notes",
    "profile_column",
    "profile_numbers",
    "set_top",
]

TOP_LIMIT = 5


@dataclass
class Context:
    """What every column shares: row count and the statistics sample."""

    rows: int
    positions: np.ndarray | None  # None: the sample is every row, so all figures are exact

    @property
    def sampled(self) -> bool:
        return self.positions is not None

    @property
    def sample_rows(self) -> int:
        return self.rows if self.positions is None else len(self.positions)


@dataclass
class ColumnProfile:
    """Facts about one column, formatted where the format depends on the dtype."""

    position: int
    label: Any
    dtype: str
    family: str  # numeric, bool, datetime, timedelta, category, string, object, other
    rows: int
    nulls: int = 0
    distinct: int | None = None
    distinct_exact: bool = True
    lo: str | None = None  # exact minimum, formatted
    hi: str | None = None
    mean: str | None = None
    sd: str | None = None
    quantiles: list[tuple[str, str]] = field(default_factory=list)
    quantiles_exact: bool = True
    top: list[tuple[str, float]] = field(default_factory=list)  # (value text, share of rows)
    top_exact: bool = True
    top_literal: bool = False  # top values are Python literals / numbers: never re-quote
    notes: list[str] = field(default_factory=list)
    flags: dict[str, Any] = field(default_factory=dict)  # facts used by the alerts
    error: str | None = None

    @property
    def non_null(self) -> int:
        return self.rows - self.nulls


def profile_column(position: int, label: Any, ser: pd.Series, ctx: Context) -> ColumnProfile:
    """Profile one column. Never raises: a failure becomes ``error`` on a minimal profile."""
    dtype = ser.dtype
    prof = ColumnProfile(position, label, str(dtype), "other", ctx.rows)
    try:
        _dispatch(ser, prof, ctx)
    except Exception as exc:  # a summary must not fail because one column is odd
        prof.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:120]
        try:
            prof.nulls = int(ser.isna().sum())
        except Exception:
            prof.nulls = 0
    return prof


def _dispatch(ser: pd.Series, prof: ColumnProfile, ctx: Context) -> None:
    from . import profile_text, profile_time  # local: both import this module

    dtype = ser.dtype
    arr = ser.array
    if isinstance(dtype, pd.CategoricalDtype):
        return profile_text.profile_category(arr, prof, ctx)
    if isinstance(dtype, np.dtype):
        kind = dtype.kind
        values = ser.to_numpy()  # a read-only view for numpy dtypes, never a copy
        if kind == "b":
            return _profile_bool(values, None, prof)
        if kind in "iuf":
            return profile_numbers(values, None, prof, ctx)
        if kind in "mM":
            return profile_time.profile_temporal(ser, prof, ctx)
        return profile_text.profile_objects(values, prof, ctx)  # object, complex, bytes...
    data = arrow_data(arr)
    if data is not None:
        from . import profile_arrow  # needs pyarrow, which arrow-backed data implies

        return profile_arrow.profile_arrow(data, prof, ctx)
    if isinstance(dtype, pd.DatetimeTZDtype):
        return profile_time.profile_temporal(ser, prof, ctx)
    data = getattr(arr, "_data", None)
    mask = getattr(arr, "_mask", None)
    if isinstance(data, np.ndarray) and isinstance(mask, np.ndarray):
        # pandas' masked arrays (Int64, Float64, boolean): read values and mask in place;
        # the public to_numpy() would copy the column.
        if data.dtype.kind == "b":
            return _profile_bool(data, mask, prof)
        return profile_numbers(data, mask, prof, ctx)
    inner = getattr(arr, "_ndarray", None)
    if isinstance(inner, np.ndarray) and inner.dtype == object:  # python-backed StringDtype
        return profile_text.profile_objects(inner, prof, ctx)
    return profile_text.profile_generic(arr, prof, ctx)


def profile_numbers(values: np.ndarray, mask: np.ndarray | None, prof: ColumnProfile,
                    ctx: Context) -> None:
    """Integers and floats: exact pass, exact counts for small-range integers, sample rest."""
    is_int = values.dtype.kind in "iu"
    m = stats.scan(values, mask, nan_null=not is_int and mask is None)
    if not is_int and m.count and (m.hi == np.inf or m.lo == -np.inf):
        finite = stats.scan(values, mask, nan_null=mask is None, finite=True)
        prof.flags["inf"] = finite.posinf + finite.neginf
        prof.notes.append(f"+inf {fmt_int(finite.posinf)}, -inf {fmt_int(finite.neginf)}"
                          "; mean/sd of finite values")
        m.mean, m.sd = finite.mean, finite.sd
    counts = sv = None
    unique = m.strictly_increasing or m.strictly_decreasing  # distinct is known already
    if m.count and is_int and not unique and stats.use_counts(m.lo, m.hi, m.count):
        counts = stats.int_counts(values, m.lo, m.hi, mask)
    elif m.count and m.lo != m.hi:
        sv = _sample_numbers(values, mask, ctx)
        if not m.increasing:  # sorted positions of an increasing column are already sorted
            sv.sort()
    finish_numbers(m, prof, ctx, is_int, counts=counts, sv=sv)


def finish_numbers(m: stats.Moments, prof: ColumnProfile, ctx: Context, is_int: bool, *,
                   counts: np.ndarray | None = None, sv: np.ndarray | None = None) -> None:
    """Fill a numeric profile from exact moments plus either exact integer ``counts`` (values
    ``m.lo + i``) or the sorted non-null sample ``sv``."""
    prof.family = "numeric"
    prof.nulls = m.nulls
    if m.count == 0:
        prof.distinct = 0
        return
    prof.lo, prof.hi = fmt_exact(m.lo, is_int), fmt_exact(m.hi, is_int)
    prof.mean = fmt_num(m.mean) if m.mean is not None else None
    prof.sd = fmt_num(m.sd) if m.sd is not None else None
    prof.flags.update(mean=m.mean, sd=m.sd, lo=m.lo, hi=m.hi)
    order_notes(m, prof)
    fmt = _int_text if is_int else _float_text
    if m.lo == m.hi:  # constant: every figure is exact without looking at a sample
        prof.distinct = 1
        prof.quantiles = [(f"p{round(p * 100)}", fmt_num(m.lo)) for p in stats.QUANTILES]
        prof.flags["median"] = m.lo
        set_top(prof, [(fmt(m.lo), m.count)], ctx.rows, m.count, True)
        _zero_notes(prof, float(m.lo == 0), False, True)
        return
    if counts is not None:
        prof.distinct = int(np.count_nonzero(counts))
        prof.quantiles = [(f"p{round(p * 100)}", fmt_num(stats.quantile_counts(counts, m.lo, p)))
                          for p in stats.QUANTILES]
        prof.flags["median"] = stats.quantile_counts(counts, m.lo, 0.5)
        order = stats.top_order(counts, TOP_LIMIT)
        set_top(prof, [(fmt(m.lo + int(i)), int(counts[i])) for i in order], ctx.rows, m.count,
                True)
        zeros = int(counts[-m.lo]) if m.lo <= 0 <= m.hi else 0
        neg = (m.lo < 0 < m.hi) and int(counts[: -m.lo].sum()) / m.count
        _zero_notes(prof, zeros / m.count, neg, True)
        return
    assert sv is not None
    exact = not ctx.sampled
    prof.quantiles_exact = exact
    if len(sv):
        prof.quantiles = [(f"p{round(p * 100)}", fmt_num(stats.quantile_sorted(sv, p)))
                          for p in stats.QUANTILES]
        prof.flags["median"] = stats.quantile_sorted(sv, 0.5)
    uniq, run_counts = stats.runs(sv)
    if m.strictly_increasing or m.strictly_decreasing:
        prof.distinct = m.count
    else:
        est = stats.distinct_estimate(len(uniq), int(np.count_nonzero(run_counts == 1)),
                                      len(sv), m.count)
        prof.distinct, prof.distinct_exact = round(est), exact
    order = stats.top_order(run_counts, TOP_LIMIT)
    set_top(prof, [(fmt(uniq[i].item()), int(run_counts[i])) for i in order],
            ctx.sample_rows, len(sv), exact)
    if len(sv):
        zeros = int(np.count_nonzero(sv == 0)) / len(sv)
        neg = m.lo < 0 < m.hi and int(np.searchsorted(sv, 0, side="left")) / len(sv)
        _zero_notes(prof, zeros, neg, exact)
        if not is_int and bool(np.all(np.floor(sv) == sv)):
            prof.notes.append("all integral" if exact else "all integral~")


def _int_text(v: int) -> str:
    return fmt_int(v)


def _float_text(v: float) -> str:
    return fmt_num(v, 6)


def _sample_numbers(values: np.ndarray, mask: np.ndarray | None, ctx: Context) -> np.ndarray:
    """Non-null sample values as a fresh (writable, sortable) array."""
    if ctx.positions is None:
        sv = values if mask is None else values[~mask]
    else:
        sv = values[ctx.positions]
        if mask is not None:
            sv = sv[~mask[ctx.positions]]
    if sv.dtype.kind == "f":
        sv = sv[~np.isnan(sv)]
    return np.array(sv, copy=True)


def set_top(prof: ColumnProfile, items: list[tuple[str, int]], rows: int, non_null: int,
            exact: bool) -> None:
    """Keep frequent values only when informative: few distinct values, or a clear leader
    (at least max(1%, 2/distinct) of the non-null values). Shares are of all ``rows``."""
    items = [(text, count) for text, count in items if count > 0]
    if not items or rows == 0 or non_null == 0 or prof.distinct is None:
        return
    lead = items[0][1]
    if prof.distinct <= 10 or (lead > 1 and lead / non_null >= max(0.01, 2.0 / prof.distinct)):
        prof.top = [(text, count / rows) for text, count in items]
        prof.top_exact = exact


def _zero_notes(prof: ColumnProfile, zeros: float, negative: float | bool, exact: bool) -> None:
    mark = "" if exact else "~"
    if zeros >= 0.01:
        prof.notes.append(f"zeros{mark} {fmt_share(zeros)}")
    if negative:
        prof.notes.append(f"negative{mark} {fmt_share(float(negative))}")


def order_notes(m: stats.Moments, prof: ColumnProfile) -> None:
    if m.count < 2:
        return
    skip = " (nulls skipped)" if prof.nulls else ""
    if m.strictly_increasing:
        prof.notes.append("strictly increasing" + skip)
    elif m.increasing and m.lo != m.hi:
        prof.notes.append("increasing" + skip)
    elif m.strictly_decreasing:
        prof.notes.append("strictly decreasing" + skip)
    elif m.decreasing and m.lo != m.hi:
        prof.notes.append("decreasing" + skip)
    prof.flags["monotonic"] = m.increasing or m.decreasing


def _profile_bool(values: np.ndarray, mask: np.ndarray | None, prof: ColumnProfile) -> None:
    prof.family = "bool"
    trues = nulls = 0
    for start in range(0, len(values), stats.CHUNK):
        c = values[start:start + stats.CHUNK]
        if mask is not None:
            m = mask[start:start + stats.CHUNK]
            nulls += int(np.count_nonzero(m))
            trues += int(np.count_nonzero(c & ~m))
        else:
            trues += int(np.count_nonzero(c))
    prof.nulls = nulls
    count = prof.rows - nulls
    prof.distinct = int(trues > 0) + int(count - trues > 0)
    if count:
        prof.notes.append(f"true {fmt_share(trues / count)} ({fmt_int(trues)})")
