"""Profiles of datetime64 (naive or tz-aware) and timedelta64 columns.

Both are read as an int64 view (NaT is the smallest int64), so the exact pass is the same
chunked scan as for integers; timestamps are printed in ISO 8601 with the column's time zone
offset, at the finest resolution the values need.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import stats
from ._text import fmt_duration
from .profile import TOP_LIMIT, ColumnProfile, Context, order_notes, set_top

__all__ = ["profile_temporal"]

_NAT = np.iinfo(np.int64).min


def profile_temporal(ser: pd.Series, prof: ColumnProfile, ctx: Context) -> None:
    """datetime64 (naive or tz-aware) and timedelta64 columns, through an int64 view."""
    tz = getattr(ser.dtype, "tz", None)
    raw = ser.dt.tz_convert(None).to_numpy() if tz is not None else ser.to_numpy()
    unit = np.datetime_data(raw.dtype)[0]
    ints = raw.view(np.int64)
    is_td = raw.dtype.kind == "m"
    prof.family = "timedelta" if is_td else "datetime"
    m = stats.scan(ints, null_value=_NAT, moments=is_td)
    prof.nulls = m.nulls
    if m.count == 0:
        prof.distinct = 0
        return
    constant = m.lo == m.hi
    exact = not ctx.sampled or constant
    if constant:
        sv = np.array([m.lo], dtype=np.int64)
    else:
        sv = ints if ctx.positions is None else ints[ctx.positions]
        sv = sv[sv != _NAT] if m.nulls else np.array(sv, copy=True)
        if not m.increasing:  # rows at sorted positions of an increasing column are sorted
            sv.sort()
    # The middle observation rather than an interpolated one, so the median never needs a
    # finer resolution than the data.
    median = int(sv[(len(sv) - 1) // 2]) if len(sv) else m.lo
    per_s = pd.Timedelta(1, unit=unit).total_seconds()
    if is_td:
        to_text = _timedelta_formatter(unit)
        prof.mean = fmt_duration(m.mean * per_s) if m.mean is not None else None
        prof.sd = fmt_duration(m.sd * per_s) if m.sd is not None else None
    else:
        spread = sv[:: max(len(sv) // 250, 1)]
        probe = np.concatenate((np.array([m.lo, m.hi, median], dtype=np.int64), spread))
        to_text = _datetime_formatter(unit, tz, probe)
    prof.lo, prof.hi = to_text(m.lo), to_text(m.hi)
    prof.quantiles = [("median", to_text(median))]
    prof.quantiles_exact = exact
    order_notes(m, prof)
    if constant:
        prof.distinct = 1
        set_top(prof, [(to_text(m.lo), m.count)], ctx.rows, m.count, True)
        return
    uniq, counts = stats.runs(sv)
    if m.strictly_increasing or m.strictly_decreasing:
        prof.distinct = m.count
    else:
        est = stats.distinct_estimate(len(uniq), int(np.count_nonzero(counts == 1)), len(sv),
                                      m.count)
        prof.distinct, prof.distinct_exact = round(est), exact
    order = stats.top_order(counts, TOP_LIMIT)
    set_top(prof, [(to_text(int(uniq[i])), int(counts[i])) for i in order], ctx.sample_rows,
            len(sv), exact)
    if m.increasing or m.decreasing:
        head = ints[:1001]
        head = head[head != _NAT]
        if len(head) > 1:
            step = float(np.median(np.diff(head))) * per_s
            where = "" if len(head) >= m.count else " of first 1,000 rows"
            prof.notes.append(f"step {fmt_duration(step)} (median{where})")


def _datetime_formatter(unit: str, tz, probe: np.ndarray):
    """A formatter with one resolution for the column: the finest that any probe value (min,
    max, median and up to 250 sample values, in local wall time) needs; dates only when all
    of them are at midnight."""
    if tz is not None:
        wall = pd.to_datetime(probe, unit=unit, utc=True).tz_convert(tz).tz_localize(None)
        probe = wall.as_unit(unit).asi8
    per_s = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}.get(unit, 1)
    spec = "date"
    for name, size in (("minutes", 86400 * per_s), ("seconds", 60 * per_s),
                       ("milliseconds", per_s), ("microseconds", max(per_s // 1000, 1)),
                       ("nanoseconds", max(per_s // 10**6, 1))):
        if size > 1 and bool(np.any(probe % size)):
            spec = name
        else:
            break

    def text(v: int) -> str:
        ts = pd.Timestamp(v, unit=unit)
        if tz is not None:
            ts = ts.tz_localize("UTC").tz_convert(tz)
        return ts.date().isoformat() if spec == "date" else ts.isoformat(timespec=spec)

    return text


def _timedelta_formatter(unit: str):
    def text(v: int) -> str:
        return str(pd.Timedelta(v, unit=unit))

    return text
