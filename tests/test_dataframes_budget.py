"""The budget: never exceeded, whole lines only, graceful tiers on wide frames, determinism."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agcloud_magic.dataframes import plan as plan_module
from agcloud_magic.dataframes import summarize

from .test_dataframes_facts import parse_columns

HEADER = re.compile(
    r"^(index: |duplicate rows: |column labels: |dtypes: |all figures exact|"
    r"`~` = estimated|[\d,]+ of [\d,]+ columns withheld|sample rows withheld)"
)


def assert_whole_lines(text: str) -> None:
    """Every line is complete and of a known kind for its section (a cut line would not be)."""
    lines = text.split("\n")
    assert re.match(r"^## (DataFrame|Series)( `[^\n]*`)?: [\d,]+ rows", lines[0]), lines[0]
    section = "header"
    table_cells = None
    for line in lines[1:]:
        assert line and line == line.rstrip(), repr(line)
        if line.startswith("### "):
            if line.startswith("### columns"):
                section = "columns"
            elif re.match(r"^### [\d,]+ more columns, names only \(by dtype\)$", line):
                section = "names"
            elif re.match(r"^### \d+ sample rows \(", line):
                section, table_cells = "table", None
            else:
                assert line == "### alerts", line
                section = "alerts"
            continue
        if section == "header":
            assert HEADER.match(line), line
        elif section == "columns":
            column = r"^- .+ \| .+ \| (no rows|non-null [\d.<>]+%.* \| distinct \S+)"
            assert re.match(column, line), line
        elif section == "names":
            assert re.match(r"^- .+ \([\d,]+\): .+$", line) or re.match(
                r"^- \.\.\. [\d,]+ more dtype groups$", line
            ), line
            assert line.endswith("total)") or not line.endswith(",")
        elif section == "table":
            assert line.startswith("| ") or line.startswith("|---"), line
            cells = len(re.findall(r"(?<!\\)\|", line))
            table_cells = table_cells or cells
            assert cells == table_cells and line.endswith("|"), line
        else:
            assert re.match(r"^- [^:]+: .+$", line), line


def mixed_frame(rows: int, cols: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    kinds = [
        lambda: rng.integers(0, 100, rows),
        lambda: rng.normal(size=rows),
        lambda: pd.Series(rng.choice(["red", "green", "blue|x", "new\nline"], rows), dtype="str"),
        lambda: pd.date_range("2024-01-01", periods=rows, freq="h", tz="UTC"),
        lambda: pd.Categorical(rng.choice(list("abc"), rows)),
        lambda: rng.random(rows) < 0.5,
        lambda: pd.Series(rng.integers(0, 9, rows), dtype="Int64"),
    ]
    data = {f"column_{j:04d}": kinds[j % len(kinds)]() for j in range(cols)}
    return pd.DataFrame(data)


@pytest.mark.parametrize("budget", [300, 1000, 6000, 20_000])
def test_wide_frame_stays_within_budget(budget):
    frame = mixed_frame(200, 2000)
    text = summarize(frame, name="wide", budget=budget)
    assert len(text) <= budget
    assert_whole_lines(text)
    if budget >= 1000:
        assert "more columns, names only (by dtype)" in text
        assert re.search(r"\(\d[\d,]* total\)", text)


def test_wide_frame_degrades_in_tiers():
    frame = mixed_frame(100, 2000)
    text = summarize(frame, budget=6000)
    cols = parse_columns(text)
    assert 20 <= len(cols) < 200
    labels = list(cols)
    assert labels == [f"column_{j:04d}" for j in range(len(labels))]  # frame order
    assert "dtypes: " in text
    # a moderately wide frame: compact lines for all columns before any is dropped
    moderate = mixed_frame(100, 60)
    cols = parse_columns(summarize(moderate, budget=6000))
    assert len(cols) == 60
    assert any("quantiles" not in c["line"] for c in cols.values())


def test_only_shown_columns_are_profiled(monkeypatch):
    calls = []
    real = plan_module.profile_column

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(plan_module, "profile_column", counting)
    summarize(mixed_frame(1000, 2000))
    assert 10 < len(calls) < 150
    assert len(calls) == len(set(calls))


def test_long_frame_within_budget():
    frame = mixed_frame(300_000, 12)
    for budget in (300, 800, 6000):
        text = summarize(frame, budget=budget)
        assert len(text) <= budget
        assert_whole_lines(text)


def test_budget_below_minimum_is_rejected():
    with pytest.raises(ValueError, match="budget must be an int >= 300"):
        summarize(pd.DataFrame({"a": [1]}), budget=299)


def test_small_frame_fits_default_budget_with_everything():
    text = summarize(mixed_frame(50, 7))
    assert len(text) < 6000
    assert "### 5 sample rows" in text
    assert len(parse_columns(text)) == 7


# --- property test over random small frames ------------------------------------------------

LABELS = st.one_of(
    st.text(max_size=12), st.integers(-5, 5), st.tuples(st.sampled_from("ab"), st.integers(0, 2))
)


@st.composite
def frames(draw) -> pd.DataFrame:
    rows = draw(st.integers(0, 40))
    ncols = draw(st.integers(0, 7))
    data = []
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    for _ in range(ncols):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            col = pd.Series(rng.integers(-3, 3, rows))
        elif kind == 1:
            vals = rng.normal(size=rows)
            vals[rng.random(rows) < 0.3] = np.nan
            col = pd.Series(vals)
        elif kind == 2:
            texts = draw(st.lists(st.text(max_size=60), min_size=1, max_size=4))
            col = pd.Series([texts[i % len(texts)] for i in range(rows)], dtype="str")
        elif kind == 3:
            col = pd.Series(
                pd.date_range(
                    "2020-01-01",
                    periods=rows,
                    freq="37min",
                    tz=draw(st.sampled_from([None, "UTC", "Asia/Tokyo"])),
                )
            )
        elif kind == 4:
            col = pd.Series(pd.Categorical(rng.choice(["x", "y"], rows), ordered=True))
        elif kind == 5:
            col = pd.Series(rng.random(rows) < 0.5)
        elif kind == 6:
            col = pd.Series(pd.array(rng.integers(0, 3, rows), dtype="Int64"))
            if rows:
                col.iloc[0] = pd.NA
        elif kind == 7:
            pool = [1, "a", [1, 2], {"k": {3, 1}}, None, 2.5, (1,), frozenset({"p", "q"})]
            col = pd.Series([pool[int(i)] for i in rng.integers(0, len(pool), rows)], dtype=object)
        elif kind == 8:
            col = pd.Series(np.full(rows, np.nan))
        else:
            col = pd.Series(pd.to_timedelta(rng.integers(0, 10**6, rows), unit="s"))
        data.append(col.reset_index(drop=True))
    labels = [draw(LABELS) for _ in range(ncols)]
    if not data:
        return pd.DataFrame(index=range(rows))
    frame = pd.concat(data, axis=1, ignore_index=True)
    frame.columns = labels
    return frame


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    frame=frames(),
    budget=st.integers(300, 4000),
    sample_rows=st.integers(0, 6),
    sample_size=st.integers(1, 60),
    seed=st.integers(0, 3),
)
def test_property_budget_whole_lines_determinism(frame, budget, sample_rows, sample_size, seed):
    kwargs = {
        "budget": budget,
        "sample_rows": sample_rows,
        "sample_size": sample_size,
        "seed": seed,
    }
    text = summarize(frame, name="df", **kwargs)
    assert len(text) <= budget
    assert_whole_lines(text)
    assert summarize(frame, name="df", **kwargs) == text
