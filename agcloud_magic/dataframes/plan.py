"""Which columns get a full line, a compact line or only their name, and the sample rows.

Tiers are prefixes of the described columns in frame order: ``sel[:full]`` full lines, then
``compact`` compact lines, then names only. The first plan comes from label and dtype sizes
alone, so statistics are computed only for columns that will be shown; real line lengths then
correct it (demote the last full line, drop the last compact line, or add more when there is
room).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from . import format as fmt
from ._text import cell, fmt_label, fmt_scalar, one_line
from .profile import ColumnProfile, Context, profile_column
from .sampling import display_positions, take_values

__all__ = ["COLUMN_SHARE", "MAX_TABLE_COLUMNS", "WIDE_COLUMN_SHARE", "ColumnPlan"]

COLUMN_SHARE = 0.8
WIDE_COLUMN_SHARE = 0.65
MAX_TABLE_COLUMNS = 40
# Rough full-line sizes by dtype kind before any statistics exist (labels and dtype added).
_FULL_GUESS = {"b": 60, "i": 170, "u": 170, "f": 185, "M": 150, "m": 160, "O": 190}


class ColumnPlan:
    """Plans tiers, profiles lazily (only the columns shown) and renders the column section."""

    def __init__(self, obj: Any, kind: str, labels: list, dtypes: list, names: list[str],
                 sel: list[int], ctx: Context) -> None:
        self.obj, self.kind, self.labels, self.dtypes = obj, kind, labels, dtypes
        self.names, self.sel, self.ctx = names, sel, ctx
        self.profiles: dict[int, ColumnProfile] = {}
        self.full = self.compact = 0  # tiers: sel[:full] full, then compact, then names only
        self._lines: dict[tuple[int, str], str] = {}

    def column(self, j: int) -> pd.Series:
        return self.obj if self.kind == "Series" else self.obj.iloc[:, j]

    def profile(self, j: int) -> ColumnProfile:
        if j not in self.profiles:
            self.profiles[j] = profile_column(j, self.labels[j], self.column(j), self.ctx)
        return self.profiles[j]

    def profiled(self) -> list[ColumnProfile]:
        return [self.profile(j) for j in self.sel[: self.full + self.compact]]

    def names_left(self) -> list[tuple[object, str]]:
        return [(self.labels[j], self.names[j]) for j in self.sel[self.full + self.compact:]]

    def line(self, k: int, tier: str) -> str:
        key = (k, tier)
        if key not in self._lines:
            self._lines[key] = fmt.column_line(self.profile(self.sel[k]), tier)
        return self._lines[key]

    def render(self) -> list[str]:
        lines = [self.line(k, fmt.FULL) for k in range(self.full)]
        lines += [self.line(k, fmt.COMPACT) for k in range(self.full, self.full + self.compact)]
        return ([fmt.COLUMNS_TITLE, *lines]) if lines else []

    def column_section(self, body: int) -> list[str]:
        """Column lines within ``COLUMN_SHARE`` of ``body`` characters."""
        if not self.sel:
            return ["### columns: none described"]
        cap = int(body * COLUMN_SHARE)
        self._plan(cap)
        if self.full + self.compact < len(self.sel):
            # Too wide for every column to get a line: keep more room for the grouped names.
            cap = int(body * WIDE_COLUMN_SHARE)
            self._plan(cap)
        lines = self._shrink(cap)
        while self.full + self.compact < len(self.sel):  # room for more compact lines?
            shown = self.full + self.compact
            size = len("\n".join(lines))
            per = 1 + (max(len(self.line(k, fmt.COMPACT)) for k in range(shown)) if shown
                       else 80)
            more = min((cap - size) // per, len(self.sel) - shown)
            if more < 1:
                return lines
            self.compact += more
            lines = self._shrink(cap)
            if self.full + self.compact <= shown:  # no progress: the new lines did not fit
                return lines
        size = len("\n".join(lines))
        while self.compact:  # everything is shown: spend what is left on detail, in order
            k = self.full
            grow = len(self.line(k, fmt.FULL)) - len(self.line(k, fmt.COMPACT))
            if size + grow > cap:
                break
            size += grow
            self.full += 1
            self.compact -= 1
        return self.render()

    def _plan(self, cap: int) -> None:
        """First guess from label and dtype sizes alone (no statistics computed yet)."""
        full, compact = [], []
        for j in self.sel:
            base = len(fmt_label(self.labels[j], fmt.NAME_WIDTH)) + len(self.names[j])
            kind = getattr(self.dtypes[j], "kind", "O")
            full.append(base + _FULL_GUESS.get(kind, 190) + 1)
            compact.append(base + 45 + 1)
        room = cap - len(fmt.COLUMNS_TITLE)
        if sum(full) <= room:
            self.full = len(self.sel)
            return
        total = sum(compact)
        if total <= room:
            a = 0
            while a < len(full) and total + full[a] - compact[a] <= room:
                total += full[a] - compact[a]
                a += 1
            self.full, self.compact = a, len(self.sel) - a
            return
        b, total = 0, 0
        while b < len(compact) and total + compact[b] <= room:
            total += compact[b]
            b += 1
        self.full, self.compact = 0, b

    def _shrink(self, cap: int) -> list[str]:
        """Demote the last full line, else drop the last compact line, until the lines fit."""
        lines = self.render()
        while lines and len("\n".join(lines)) > cap:
            if self.full:
                self.full -= 1
                self.compact += 1
            else:
                self.compact -= 1
            lines = self.render()
        return lines

    def sample_section(self, count: int, seed: int, allowance: int) -> list[str]:
        """Real rows at fixed-seed positions, in frame order, with their index labels."""
        rows = len(self.obj)
        pos = display_positions(rows, count, seed)
        shown = self.sel[: self.full + self.compact][:MAX_TABLE_COLUMNS]
        index = self.obj.index
        if isinstance(index, pd.RangeIndex):
            labels = [index.start + index.step * int(p) for p in pos]
        elif isinstance(index, pd.MultiIndex):
            labels = list(index.take(pos))
        else:
            labels = take_values(index.array, pos)
        idx_cells = [cell(fmt_scalar(v)) for v in labels]
        headers = [cell(fmt_label(self.labels[j], 40)) for j in shown]
        cols = []
        for j in shown:
            ser = self.column(j)
            na = fmt_scalar(getattr(ser.dtype, "na_value", None))
            cols.append([cell(na if v is None else fmt_scalar(v))
                         for v in take_values(ser.array, pos)])
        name = index.name if not isinstance(index, pd.MultiIndex) else tuple(index.names)
        index_name = "index" if name is None or name == (None,) * index.nlevels \
            else one_line(fmt_label(name, 40))
        return fmt.sample_table(index_name, idx_cells, headers, cols, allowance, seed,
                                random=rows > count)
