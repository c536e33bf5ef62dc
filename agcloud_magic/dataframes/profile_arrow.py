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
from .text_keys import LONG, bytes_key

__all__ = ["profile_arrow"]


def profile_arrow(data: pa.ChunkedArray, prof: ColumnProfile, ctx: Context) -> None:
    """Arrow-backed columns (pandas' default ``str`` dtype, ``int64[pyarrow]``, nested types)."""
    typ = data.type
    prof.nulls = data.null_count
    if (pa.types.is_string(typ) or pa.types.is_large_string(typ)) and _has_long(data, ctx):
        prof.family = "string"
        return _long_strings(data, prof, ctx)
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


def _has_long(data: pa.ChunkedArray, ctx: Context) -> bool:
    """Whether a sampled value is longer than ``LONG`` bytes: read from the offsets of the
    sampled rows only (O(1) each, no array the size of the column)."""
    for index, rows in _sampled_rows(data, ctx):
        offsets, _ = _buffers(data.chunk(index))
        if int((offsets[rows + 1] - offsets[rows]).max()) > LONG:
            return True
    return False


def _long_strings(data: pa.ChunkedArray, prof: ColumnProfile, ctx: Context) -> None:
    """Strings some of which are long: counted by bounded keys read straight from the arrow
    buffers (see text_keys), so the sample is never copied and no value is hashed in full.
    Lengths in characters stay exact: one pass of numpy over each value's bytes, in place
    (an ASCII check, and for other text a count of UTF-8 continuation bytes), far cheaper than
    hashing it."""
    keys: list = []
    lengths: list[int] = []
    where: list[tuple[int, int]] = []  # (chunk, row in chunk) of each non-null sampled value
    for index, rows in _sampled_rows(data, ctx):
        chunk = data.chunk(index)
        offsets, buf = _buffers(chunk)
        raw = np.frombuffer(buf, dtype=np.uint8)
        valid = chunk.is_valid().to_numpy(zero_copy_only=False)
        for row in rows[valid[rows]]:
            start, end = int(offsets[row]), int(offsets[row + 1])
            keys.append(bytes_key(buf, start, end))
            lengths.append(_utf8_chars(raw[start:end]))
            where.append((index, int(row)))
    firsts, counts, _ = stats.count_values(keys, list(range(len(keys))))
    counts = np.asarray(counts)
    record_distinct(prof, ctx, len(counts), int(np.count_nonzero(counts == 1)), len(keys))
    order = stats.top_order(counts, TOP_LIMIT)
    top = [(data.chunk(where[firsts[i]][0])[where[firsts[i]][1]].as_py(), int(counts[i]))
           for i in order]
    set_top(prof, top, ctx.sample_rows, len(keys), not ctx.sampled)
    if keys:
        length_note(prof, np.asarray(lengths, dtype=np.int64), ctx)
        head = [data.chunk(c)[r].as_py() for c, r in where[:HINT_VALUES]]
        text_hints(head, prof, ctx)


def _utf8_chars(data: np.ndarray) -> int:
    """Characters in the UTF-8 bytes ``data``: every byte but a continuation byte starts one."""
    if not len(data) or int(data.max()) < 0x80:
        return len(data)
    return len(data) - int(np.count_nonzero((data & 0xC0) == 0x80))


def _sampled_rows(data: pa.ChunkedArray, ctx: Context) -> list[tuple[int, np.ndarray]]:
    """``(chunk index, sampled rows of that chunk)`` for each chunk with some."""
    bounds = np.zeros(data.num_chunks + 1, dtype=np.int64)
    np.cumsum([len(c) for c in data.chunks], out=bounds[1:])
    out = []
    for i in range(data.num_chunks):
        if ctx.positions is None:
            rows = np.arange(bounds[i + 1] - bounds[i], dtype=np.int64)
        else:
            a, b = np.searchsorted(ctx.positions, bounds[i : i + 2])
            rows = ctx.positions[a:b] - bounds[i]
        if len(rows):
            out.append((i, rows))
    return out


def _buffers(chunk: pa.Array) -> tuple[np.ndarray, memoryview]:
    """A string chunk's offsets (for its rows, slice offset applied) and its data bytes."""
    _, offsets, payload = chunk.buffers()
    kind = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    first = chunk.offset
    offsets = np.frombuffer(offsets, dtype=kind)[first : first + len(chunk) + 1]
    return offsets, memoryview(payload) if payload is not None else memoryview(b"")


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
