"""Column profiles for arrow-backed columns (pandas' ``str`` dtype with pyarrow, ``int64[pyarrow]``,
nested types).

Only imported when a column is arrow-backed, which needs pyarrow to be installed: with pandas
alone, strings are python-backed and :mod:`.profile_text` profiles them. Strings are read
without conversion (null counts are O(1), the sample is taken per chunk).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import stats
from ._text import fmt_int, fmt_scalar, fmt_share
from .profile import TOP_LIMIT, ColumnProfile, Context, finish_numbers, set_top
from .profile_text import HINT_VALUES, length_note, python_values, record_distinct, text_hints
from .sampling import take_arrow

__all__ = ["profile_arrow"]


def profile_arrow(data: pa.ChunkedArray, prof: ColumnProfile, ctx: Context) -> None:
    """Arrow-backed columns (pandas' default ``str`` dtype, ``int64[pyarrow]``, nested types)."""
    typ = data.type
    prof.nulls = data.null_count
    sample = data if ctx.positions is None else take_arrow(data, ctx.positions)
    values = sample.drop_null()
    if pa.types.is_string(typ) or pa.types.is_large_string(typ) or _is_string_view(typ):
        prof.family = "string"
        return _arrow_strings(values, prof, ctx)
    if pa.types.is_integer(typ) or pa.types.is_floating(typ):
        return _arrow_numbers(data, values, prof, ctx)
    if pa.types.is_boolean(typ):
        prof.family = "bool"
        trues = int(pc.sum(data).as_py() or 0)
        count = prof.non_null
        prof.distinct = int(trues > 0) + int(count - trues > 0)
        if count:
            prof.notes.append(f"true {fmt_share(trues / count)} ({fmt_int(trues)})")
        return None
    if pa.types.is_temporal(typ) or pa.types.is_decimal(typ):
        try:
            lo_hi = pc.min_max(data)
            prof.lo = fmt_scalar(lo_hi["min"].as_py())
            prof.hi = fmt_scalar(lo_hi["max"].as_py())
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid, TypeError):
            pass
    return python_values(values.to_pylist(), prof, ctx)


def _is_string_view(typ: pa.DataType) -> bool:
    check = getattr(pa.types, "is_string_view", None)
    return bool(check and check(typ))


def _arrow_strings(values: pa.Array | pa.ChunkedArray, prof: ColumnProfile,
                   ctx: Context) -> None:
    vc = pc.value_counts(values)  # first-seen order, independent of hash seeds
    uniq = vc.field("values")
    counts = vc.field("counts").to_numpy(zero_copy_only=False).astype(np.int64)
    record_distinct(prof, ctx, len(counts), int(np.count_nonzero(counts == 1)), len(values))
    order = stats.top_order(counts, TOP_LIMIT)
    set_top(prof, [(uniq[int(i)].as_py(), int(counts[i])) for i in order], ctx.sample_rows,
            len(values), not ctx.sampled)
    if len(values):
        lengths = pc.utf8_length(values).to_numpy(zero_copy_only=False)
        length_note(prof, lengths, ctx)
        head = values.slice(0, HINT_VALUES).to_pylist()
        text_hints(head, prof, ctx)


def _arrow_numbers(data: pa.ChunkedArray, values: pa.Array | pa.ChunkedArray,
                   prof: ColumnProfile, ctx: Context) -> None:
    """Exact min/max/mean/sd with arrow kernels; quantiles and distincts from the sample."""
    is_int = pa.types.is_integer(data.type)
    sv = np.array(values.to_numpy(zero_copy_only=False), copy=True)
    if not is_int:
        sv = sv[~np.isnan(sv)]
    sv.sort()
    lo_hi = pc.min_max(data)
    sd = pc.stddev(data, ddof=1).as_py()
    m = stats.Moments(count=prof.non_null, nulls=prof.nulls, lo=lo_hi["min"].as_py(),
                      hi=lo_hi["max"].as_py(), mean=pc.mean(data).as_py(), sd=sd,
                      increasing=False, strictly_increasing=False, decreasing=False,
                      strictly_decreasing=False)
    finish_numbers(m, prof, ctx, is_int, sv=sv)
