"""The header of a summary: what the object is, its shape, memory, index and column labels.

Every figure here is exact and cheap: memory is the shallow size of the arrays (no per-object
walk), index uniqueness is only claimed when it is proven by strict monotonicity or checked on
an index no larger than the sample size.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from . import stats
from ._text import clip, fmt_bytes, fmt_int, fmt_label, fmt_scalar, one_line

__all__ = [
    "LABEL_WIDTH",
    "dtypes_line",
    "index_line",
    "labels_line",
    "legend_line",
    "memory_of",
    "title_line",
    "withheld_line",
]

LABEL_WIDTH = 40


def title_line(kind: str, name: str | None, rows: int, ncols: int, memory: int,
               shallow: bool, dtype: str | None = None) -> str:
    """``## DataFrame `df`: 1,000 rows x 12 columns, memory 94.5 KiB``."""
    who = kind if not name else f"{kind} `{clip(one_line(name).replace('`', chr(39)), 40)}`"
    shape = f"{fmt_int(rows)} rows" + (f" x {fmt_int(ncols)} columns" if kind == "DataFrame"
                                       else f", dtype {dtype}")
    mem = f"memory {fmt_bytes(memory)}" + (" (object columns counted shallow)" if shallow else "")
    return f"## {who}: {shape}, {mem}"


def memory_of(frame: pd.DataFrame | pd.Series) -> tuple[int, bool]:
    """Shallow bytes of the data and index (pandas' ``memory_usage(deep=False)``), and whether
    object columns were counted shallow (pointers only, not the Python objects)."""
    if isinstance(frame, pd.Series):
        total, dtypes = int(frame.memory_usage(index=True, deep=False)), [frame.dtype]
    else:
        dtypes = frame.dtypes.tolist()
        try:
            # One nbytes per block instead of one Series per column: pandas' memory_usage()
            # builds 2,000 Series for a 2,000-column frame (~60 ms); the block arrays hold the
            # same bytes. Falls back to the public call if the internals ever change.
            total = int(frame.index.memory_usage(deep=False)) + \
                sum(int(a.nbytes) for a in frame._mgr.arrays)
        except (AttributeError, TypeError):
            total = int(frame.memory_usage(index=True, deep=False).sum())
    shallow = any((isinstance(dt, np.dtype) and dt.kind == "O")
                  or (isinstance(dt, pd.StringDtype) and dt.storage == "python") for dt in dtypes)
    return total, shallow


def index_line(index: pd.Index, sample_size: int) -> str:
    """The index: RangeIndex bounds, MultiIndex levels, or dtype, ends, order and uniqueness."""
    if isinstance(index, pd.RangeIndex):
        name = f", name={fmt_label(index.name, LABEL_WIDTH)}" if index.name is not None else ""
        return f"index: RangeIndex(start={index.start}, stop={index.stop}, step={index.step}{name})"
    n = len(index)
    ends = ""
    if n:
        ends = (f"; first {clip(one_line(fmt_scalar(index[0])), LABEL_WIDTH)}, "
                f"last {clip(one_line(fmt_scalar(index[-1])), LABEL_WIDTH)}")
    if isinstance(index, pd.MultiIndex):
        levels = ", ".join(
            f"{fmt_label(nm, LABEL_WIDTH)} ({lvl.dtype}, {fmt_int(len(lvl))} values)"
            for nm, lvl in zip(index.names, index.levels, strict=True))
        return f"index: MultiIndex, {index.nlevels} levels: {levels}{ends}"
    parts = [f"dtype {index.dtype}"]
    if index.name is not None:
        parts.append(f"name {fmt_label(index.name, LABEL_WIDTH)}")
    parts.extend(_index_order(index, sample_size))
    return "index: " + ", ".join(parts) + ends


def _index_order(index: pd.Index, sample_size: int) -> list[str]:
    n = len(index)
    dtype = index.dtype
    kind = dtype.kind if isinstance(dtype, np.dtype) else \
        "M" if isinstance(dtype, pd.DatetimeTZDtype) else "?"
    if kind in ("i", "u", "f", "m", "M") and n > 1:
        # One chunked pass proves order (and uniqueness when strict) without a hash table.
        if kind in ("m", "M"):
            values, null = np.asarray(index.asi8), np.iinfo(np.int64).min
        else:
            values, null = index.to_numpy(), None
        m = stats.scan(values, null_value=null, nan_null=kind == "f", moments=False)
        if not m.nulls and (m.strictly_increasing or m.strictly_decreasing):
            way = "increasing" if m.strictly_increasing else "decreasing"
            return [f"strictly {way} (unique)"]
        if not m.nulls and (m.increasing or m.decreasing):
            return ["increasing" if m.increasing else "decreasing", "has duplicates"]
    if n <= sample_size:
        return ["unique" if index.is_unique else "has duplicates"]
    return ["uniqueness not checked"]


def labels_line(columns: pd.Index) -> str | None:
    """How column labels are typed, when they are not plain strings (ints, tuples, mixed)."""
    if isinstance(columns, pd.MultiIndex):
        names = ", ".join(fmt_label(nm, LABEL_WIDTH) for nm in columns.names)
        return f"column labels: MultiIndex with {columns.nlevels} levels ({names}); shown as tuples"
    kinds = Counter(type(x).__name__ for x in columns)
    if not kinds or set(kinds) == {"str"}:
        return None
    ranked = sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
    return "column labels: " + ", ".join(f"{k} x{fmt_int(c)}" for k, c in ranked) + \
        " (non-strings shown as Python literals)"


def dtypes_line(dtype_names: list[str]) -> str:
    """``dtypes: float64 x1,000, int64 x500`` (most frequent first, ties in frame order)."""
    counts: dict[str, int] = {}
    for key in dtype_names:
        counts[key] = counts.get(key, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])  # stable: ties keep frame order
    return "dtypes: " + ", ".join(f"{clip(k, 40)} x{fmt_int(c)}" for k, c in ranked[:12]) + \
        (f", ... ({fmt_int(len(ranked))} dtypes)" if len(ranked) > 12 else "")


def legend_line(sampled: bool, sample_size: int, seed: int) -> str:
    """What ``~`` means, and the sample behind it."""
    if not sampled:
        return "all figures exact (every row read)"
    return (f"`~` = estimated from a {fmt_int(sample_size)}-row random sample (seed {seed}); "
            "counts, min, max, mean, sd exact")


def withheld_line(withheld_cols: int, total_cols: int, sample_rows: int) -> str | None:
    """Say what the caller kept out, so the model does not assume it has everything."""
    parts = []
    if withheld_cols:  # kept short: this line is never dropped, even at the minimum budget
        parts.append(f"{fmt_int(withheld_cols)} of {fmt_int(total_cols)} columns withheld "
                     "by the caller")
    if sample_rows == 0:
        parts.append("sample rows withheld (schema and statistics only)")
    return "; ".join(parts) if parts else None
