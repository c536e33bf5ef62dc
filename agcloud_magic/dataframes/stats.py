"""Fast column statistics: chunked exact passes and sample-based estimates.

Exact figures (null counts, min, max, mean, sd, monotonicity) come from one pass over the column
in chunks of ``CHUNK`` rows: numpy reductions on a few MB at a time are several times faster
than pandas' NaN-aware reductions and keep temporaries small (whole-column temporaries of 80 MB
are dominated by page faults). Quantiles, frequent values and most distinct counts come from a
fixed-seed sample, sorted once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._text import stable_repr

__all__ = [
    "CHUNK",
    "MAX_RANGE",
    "QUANTILES",
    "SMALL_RANGE",
    "Moments",
    "count_values",
    "distinct_estimate",
    "int_counts",
    "quantile_counts",
    "quantile_sorted",
    "runs",
    "scan",
    "top_order",
    "use_counts",
]

CHUNK = 1 << 16
# Integer columns are counted exactly with bincount when their value range is small: up to
# SMALL_RANGE always, up to MAX_RANGE when the values repeat a lot (memory stays O(range)).
SMALL_RANGE = 1 << 16
MAX_RANGE = 1 << 20
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass
class Moments:
    """Result of one exact pass over a numeric (or int64-viewed temporal) column."""

    count: int = 0
    nulls: int = 0
    lo: float | int | None = None
    hi: float | int | None = None
    mean: float | None = None
    sd: float | None = None
    increasing: bool = True
    strictly_increasing: bool = True
    decreasing: bool = True
    strictly_decreasing: bool = True
    posinf: int = 0
    neginf: int = 0


def scan(values: np.ndarray, mask: np.ndarray | None = None, *, nan_null: bool = False,
         null_value: int | None = None, moments: bool = True, finite: bool = False) -> Moments:
    """One chunked pass: nulls, min, max, mean and sd (Chan's pairwise update), monotonicity.

    ``mask`` marks nulls (pandas masked arrays); ``nan_null`` treats NaN as null (floats);
    ``null_value`` is a sentinel (NaT in an int64 view); ``finite`` also drops +-inf from the
    moments and counts them (a second pass used only when a column holds infinities).
    """
    out = Moments()
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf in a chunk with infinities
        _scan_chunks(values, mask, nan_null, null_value, moments, finite, out)
    return out


def _scan_chunks(values: np.ndarray, mask: np.ndarray | None, nan_null: bool,
                 null_value: int | None, moments: bool, finite: bool, out: Moments) -> None:
    n_seen = 0
    mean = m2 = 0.0
    lo = hi = None
    prev = None
    # Reused buffers: fresh multi-MB temporaries per chunk cost more in page faults than the
    # arithmetic (and a BLAS dot on them was erratic), so kept values and deviations are
    # written in place.
    size = min(CHUNK, len(values))
    dev = np.empty(size, dtype=np.float64) if moments else None
    keep = np.empty(size, dtype=bool)
    kept = np.empty(size, dtype=values.dtype)
    for start in range(0, len(values), CHUNK):
        c = values[start:start + CHUNK]
        drop = _nulls_in(c, mask, start, null_value, nan_null)
        if drop is not None:
            k = int(np.count_nonzero(drop))
            if k:
                out.nulls += k
                c = _compress(c, drop, keep, kept, len(c) - k)
        if finite:
            inf = np.isinf(c)
            if inf.any():
                out.posinf += int(np.count_nonzero(c == np.inf))
                out.neginf += int(np.count_nonzero(c == -np.inf))
                c = c[~inf]
        if not c.size:
            continue
        c_lo, c_hi = c.min(), c.max()
        lo = c_lo if lo is None or c_lo < lo else lo
        hi = c_hi if hi is None or c_hi > hi else hi
        if out.increasing or out.decreasing:
            _order(out, c, prev)
            prev = c[-1]
        if dev is not None:
            cnt = c.size
            c_mean = float(np.add.reduce(c, dtype=np.float64)) / cnt
            d = np.subtract(c, c_mean, out=dev[:cnt], dtype=np.float64)
            np.multiply(d, d, out=d)
            c_m2 = float(d.sum())
            total = n_seen + cnt
            delta = c_mean - mean
            mean += delta * cnt / total
            m2 += c_m2 + delta * delta * n_seen * cnt / total
            n_seen = total
        else:
            n_seen += c.size
    out.count = n_seen
    out.lo = None if lo is None else lo.item()
    out.hi = None if hi is None else hi.item()
    if moments and n_seen:
        out.mean = mean
        out.sd = math.sqrt(m2 / (n_seen - 1)) if n_seen > 1 else None


def _nulls_in(c: np.ndarray, mask: np.ndarray | None, start: int, null_value: Any,
              nan_null: bool) -> np.ndarray | None:
    """Which values of the chunk ``c`` (at ``start``) are missing, or ``None`` if none can be:
    from the column's mask, a sentinel value (NaT as int64), or NaN."""
    if mask is not None:
        return mask[start:start + len(c)]
    if null_value is not None:
        return c == null_value
    if nan_null:
        return np.isnan(c)
    return None


def _compress(c: np.ndarray, drop: np.ndarray, keep: np.ndarray, kept: np.ndarray,
              n_keep: int) -> np.ndarray:
    """``c[~drop]`` written into reused buffers (no fresh temporaries per chunk)."""
    k = keep[: len(c)]
    np.logical_not(drop, out=k)
    return np.compress(k, c, out=kept[:n_keep])


def _order(out: Moments, c: np.ndarray, prev) -> None:
    """Update the monotonicity flags with one chunk (non-null values in row order)."""
    if prev is not None:
        out.strictly_increasing &= bool(prev < c[0])
        out.increasing &= bool(prev <= c[0])
        out.strictly_decreasing &= bool(prev > c[0])
        out.decreasing &= bool(prev >= c[0])
    a, b = c[:-1], c[1:]
    if out.increasing:
        if out.strictly_increasing and not bool((b > a).all()):
            out.strictly_increasing = False
        if not out.strictly_increasing:
            out.increasing = bool((b >= a).all())
    if out.decreasing:
        if out.strictly_decreasing and not bool((b < a).all()):
            out.strictly_decreasing = False
        if not out.strictly_decreasing:
            out.decreasing = bool((b <= a).all())
    out.strictly_increasing &= out.increasing
    out.strictly_decreasing &= out.decreasing


def int_counts(values: np.ndarray, lo: int, hi: int, mask: np.ndarray | None = None,
               null_value: int | None = None) -> np.ndarray:
    """Exact counts of every integer in ``lo..hi`` (chunked bincount; memory O(range))."""
    width = int(hi) - int(lo) + 1
    counts = np.zeros(width, dtype=np.int64)
    # Chunks of 4 x range keep the per-chunk O(range) add small; wide ranges use range-sized
    # chunks so the reused buffers stay within ~17 bytes x range.
    step = max(CHUNK, 4 * width if width <= SMALL_RANGE else width)
    size = min(step, len(values))
    keep, kept = np.empty(size, dtype=bool), np.empty(size, dtype=values.dtype)
    shifted = np.empty(size, dtype=np.intp)
    for start in range(0, len(values), step):
        c = values[start:start + step]
        drop = _nulls_in(c, mask, start, null_value, nan_null=False)
        if drop is not None:
            k = int(np.count_nonzero(drop))
            if k:
                c = _compress(c, drop, keep, kept, len(c) - k)
        if not c.size:
            continue
        # c - lo in the platform int: exact because lo <= c and c - lo < width; "unsafe" only
        # allows the (value-preserving) cast from the column's own integer type.
        d = shifted[: len(c)]
        np.subtract(c, c.dtype.type(lo), out=d, casting="unsafe") if c.dtype.itemsize == 8 \
            else np.subtract(c.astype(np.int64), int(lo), out=d, casting="unsafe")
        counts += np.bincount(d, minlength=width)
    return counts


def use_counts(lo: int, hi: int, count: int) -> bool:
    """Whether exact integer counts are cheap enough: a small range, or a range of at most
    ``MAX_RANGE`` that is dense (every value repeats ~16 times on average)."""
    width = hi - lo + 1
    return (width <= SMALL_RANGE and width <= 2 * count + 1024) or \
        (width <= MAX_RANGE and 16 * width <= count)


def quantile_sorted(sv: np.ndarray, p: float) -> float | int:
    """Linear-interpolated quantile (numpy's default method) of a sorted array."""
    h = (len(sv) - 1) * p
    i = math.floor(h)
    frac = h - i
    a = sv[i].item()
    if frac == 0 or i + 1 >= len(sv):
        return a
    b = sv[i + 1].item()
    if a == b:
        return a
    if isinstance(a, float) and not (math.isfinite(a) and math.isfinite(b)):
        return a if frac < 0.5 else b  # interpolating towards an infinity gives NaN
    return a + (b - a) * frac


def quantile_counts(counts: np.ndarray, lo: int, p: float) -> float:
    """Linear-interpolated quantile of integers ``lo + i`` occurring ``counts[i]`` times."""
    cum = np.cumsum(counts)
    total = int(cum[-1])
    h = (total - 1) * p
    i = math.floor(h)
    frac = h - i
    a = lo + int(np.searchsorted(cum, i, side="right"))
    if frac == 0:
        return a
    b = lo + int(np.searchsorted(cum, i + 1, side="right"))
    return a + (b - a) * frac


def runs(sv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of a sorted array and how often each occurs."""
    if not len(sv):
        return sv[:0], np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], sv[1:] != sv[:-1])))
    counts = np.diff(np.append(starts, len(sv)))
    return sv[starts], counts


def top_order(counts: np.ndarray, limit: int) -> np.ndarray:
    """Indices of the ``limit`` largest counts; ties keep their original (value/first-seen)
    order because the sort is stable, so the result never depends on hashing."""
    if len(counts) > 4 * limit:
        # Only candidates at or above the limit-th largest count need sorting. The threshold
        # comes from a histogram of the counts (O(n); np.partition was slow on the many ties
        # of a mostly-distinct sample).
        top = int(counts.max())
        if top <= 4 * len(counts) + 1024:
            hist = np.bincount(counts)
            reach = np.cumsum(hist[::-1])
            threshold = top - int(np.searchsorted(reach, limit))
        else:
            threshold = np.partition(counts, len(counts) - limit)[len(counts) - limit]
        above = np.flatnonzero(counts > threshold)  # fewer than ``limit`` of these
        tied = np.flatnonzero(counts == threshold)[:limit]
        idx = np.sort(np.concatenate((above, tied)))
        return idx[np.argsort(-counts[idx], kind="stable")][:limit]
    return np.argsort(-counts, kind="stable")[:limit]


def distinct_estimate(seen: int, singletons: int, sample_n: int, total_n: int) -> float:
    """Distinct values in ``total_n`` from a uniform sample of ``sample_n`` values.

    Haas et al.'s unsmoothed first-order jackknife (Duj1): d / (1 - (1 - q) f1 / n). Exact when
    the sample is everything; biased low for columns whose values repeat a few times each.
    """
    if sample_n >= total_n or sample_n == 0:
        return float(seen)
    if singletons == sample_n:  # nothing repeats in the sample: the estimate is "all distinct"
        return float(total_n)
    q = sample_n / total_n
    denom = 1.0 - (1.0 - q) * singletons / sample_n
    est = seen / denom if denom > 0 else float(total_n)
    return float(min(max(est, seen), total_n))


def count_values(values: list | np.ndarray,
                 originals: list | np.ndarray | None = None) -> tuple[list, np.ndarray, bool]:
    """Distinct values (first-seen order) and counts of arbitrary Python objects.

    Hashable values are factorized by pandas; unhashable ones (lists, dicts) are counted by a
    hash-order-free repr, and the first object seen stands for its group.  When ``values`` are
    keys standing for ``originals`` (bounded keys of long strings, see :mod:`.text_keys`),
    the first original of each group stands for it.  Returns ``(keys, counts, hashable)``.
    """
    arr = values if isinstance(values, np.ndarray) else _object_array(values)
    hashable = True
    try:
        codes, uniques = pd.factorize(arr, use_na_sentinel=True)
        keys = list(uniques)
    except TypeError:
        codes, _ = pd.factorize(_object_array([stable_repr(v) for v in arr]),
                                use_na_sentinel=True)
        hashable, originals = False, arr if originals is None else originals
    if originals is not None:
        first = np.unique(codes, return_index=True)[1]  # codes are 0..k-1 in first-seen order
        keys = [originals[i] for i in first[codes[first] >= 0]]
    codes = codes[codes >= 0]
    counts = np.bincount(codes, minlength=len(keys)).astype(np.int64)
    return keys, counts, hashable


def _object_array(values: list) -> np.ndarray:
    # np.array(list_of_lists) would build a 2-D array; fromiter keeps one object per element.
    return np.fromiter(values, dtype=object, count=len(values))
