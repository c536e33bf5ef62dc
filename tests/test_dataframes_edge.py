"""Edge cases: empty frames, nulls, unhashable and huge cells, odd labels, odd dtypes, privacy
options, chunked arrow columns and a 50-million-row frame."""

from __future__ import annotations

import re
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from agcloud_magic.dataframes import summarize
from agcloud_magic.dataframes.sampling import sample_positions, take_arrow

from .test_dataframes_budget import assert_whole_lines
from .test_dataframes_facts import distinct_of, num, parse_columns


def check(frame, **kwargs) -> str:
    text = summarize(frame, **kwargs)
    assert len(text) <= kwargs.get("budget", 6000)
    assert_whole_lines(text)
    return text


def test_empty_frames():
    text = check(pd.DataFrame())
    assert text.startswith("## DataFrame: 0 rows x 0 columns")
    assert "### columns: none described" in text
    text = check(pd.DataFrame({"a": pd.Series([], dtype="int64"), "b": pd.Series([], dtype="str")}))
    cols = parse_columns(text)
    assert cols["a"]["rows"] == 0 and cols["b"]["dtype"] == "str"
    assert "sample rows" not in text
    text = check(pd.DataFrame(index=range(7)))
    assert "7 rows x 0 columns" in text
    assert check(pd.Series([], dtype="float64", name="s")).startswith("## Series `s`: 0 rows")


def test_all_null_columns():
    frame = pd.DataFrame(
        {
            "f": [np.nan] * 6,
            "i": pd.Series([None] * 6, dtype="Int64"),
            "o": pd.Series([None] * 6, dtype=object),
            "t": pd.Series([pd.NaT] * 6),
            "s": pd.Series([None] * 6, dtype="str"),
            "c": pd.Categorical([None] * 6),
        }
    )
    text = check(frame)
    cols = parse_columns(text)
    for name in frame.columns:
        assert cols[name]["nulls"] == 6 and cols[name]["distinct"] == "0"
    assert "- all null: f, i, o, t, s, c" in text


def test_unhashable_cells():
    frame = pd.DataFrame(
        {"payload": [[1, 2], [1, 2], {"a": {3, 1, 2}}, None, {"a": {1, 2, 3}}, np.array([1, 2])]}
    )
    text = check(frame)
    col = parse_columns(text)["payload"]
    assert distinct_of(col) == 3  # [1, 2] twice, the two equal dicts, the array
    assert "{'a': {1, 2, 3}}" in text  # sets printed sorted, whatever the hash seed
    assert "unhashable cells (lists/dicts): payload" in text
    assert "duplicate rows: 2" in text or "duplicate rows: not checked" in text


def test_huge_strings_are_cut():
    big = "x" * 1_000_000
    frame = pd.DataFrame(
        {"s": [big, "y" * 1_000_000, "short"], "o": pd.Series([big, "z", None], dtype=object)}
    )
    start = time.perf_counter()
    text = check(frame)
    assert time.perf_counter() - start < 5
    assert max(len(line) for line in text.splitlines()) < 1000
    assert "len 5-1,000,000" in text


def test_duplicate_and_non_string_labels():
    frame = pd.DataFrame([[1, 2.5, "a"], [2, 3.5, "b"]], columns=["a", "a", 0])
    text = check(frame)
    lines = [ln for ln in text.splitlines() if ln.startswith("- a | ")]
    assert len(lines) == 2 and "int64" in lines[0] and "float64" in lines[1]
    assert "- 0 | str |" in text
    assert "column labels: str x2, int x1" in text
    assert "duplicate column labels: a x2" in text
    tuples = pd.DataFrame({("x", 1): [1, 2], ("x", 2): [3, 4]})
    text = check(tuples)
    assert "- ('x', 1) | int64" in text
    assert "column labels: MultiIndex with 2 levels" in text
    assert summarize(tuples, columns=["x"]) == summarize(tuples)  # first level selects


def test_multiindex_rows_and_sample_labels():
    idx = pd.MultiIndex.from_product(
        [["north", "south"], pd.date_range("2024-01-01", periods=3)], names=["region", "day"]
    )
    frame = pd.DataFrame({"v": range(6)}, index=idx)
    text = check(frame)
    assert re.search(
        r"index: MultiIndex, 2 levels: region \(str, 2 values\), "
        r"day \(datetime64\[[mun]?s\], 3 values\)",
        text,
    )
    assert "| ('region', 'day') | v |" in text


def test_dtype_zoo():
    n = 50
    frame = pd.DataFrame(
        {
            "tz": pd.date_range("2024-01-01", periods=n, freq="D", tz="America/New_York"),
            "td": pd.to_timedelta(np.arange(n), unit="min"),
            "cat": pd.Categorical(
                ["lo", "hi", "mid"] * 16 + ["lo", "lo"],
                categories=["lo", "mid", "hi"],
                ordered=True,
            ),
            "i64": pd.Series(range(n), dtype="Int64"),
            "boolean": pd.array([True, False, None, True, True] * 10, dtype="boolean"),
            "string": pd.array(["a", None] * 25, dtype="string"),
            "b": np.arange(n) % 3 == 0,
            "period": pd.period_range("2024-01", periods=n, freq="M"),
            "arrow_int": pd.array(range(n), dtype="int64[pyarrow]"),
            "arrow_list": pd.array(
                [[i, i] for i in range(n)], dtype=pd.ArrowDtype(pa.list_(pa.int64()))
            ),
            "cplx": np.arange(n) * 1j,
        }
    )
    text = check(frame, budget=20_000)
    cols = parse_columns(text)
    assert cols["tz"]["min"] == "2024-01-01" and cols["tz"]["dtype"].endswith("America/New_York]")
    assert pd.Timedelta(cols["td"]["max"]) == pd.Timedelta(minutes=49)
    assert "3 categories, ordered" in cols["cat"]["notes"]
    assert (cols["cat"]["min"], cols["cat"]["max"]) == ("lo", "hi")
    assert cols["boolean"]["nulls"] == 10 and "true 75% (30)" in cols["boolean"]["notes"]
    assert cols["string"]["nulls"] == 25
    assert num(cols["arrow_int"]["max"]) == 49 and cols["arrow_int"]["distinct"] == "unique"
    assert "stats unavailable" not in text


def test_mixed_types_and_text_hints():
    frame = pd.DataFrame(
        {
            "m": [1, "1", 1.0, True, None, "x"] * 10,
            "amount": [f"{i}.50" for i in range(60)],
            "date": [f"2024-02-{1 + i % 28:02d}" for i in range(60)],
        }
    )
    text = check(frame)
    assert "mixed Python types: m (str, bool, float" in text or "mixed Python types: m (" in text
    assert "numbers stored as text: amount" in text
    assert "dates stored as text: date" in text
    assert "likely ID (unique): amount" in text


def test_columns_allow_and_deny_lists():
    frame = pd.DataFrame({"name": ["Ann", "Bob"], "email": ["a@x.org", "b@y.org"], "n": [1, 2]})
    text = check(frame, exclude=["email"])
    assert "email" not in text and "@" not in text
    assert "1 of 3 columns withheld by the caller" in text
    text = check(frame, columns=["n"])
    assert list(parse_columns(text)) == ["n"] and "2 of 3 columns withheld" in text
    with pytest.raises(ValueError, match=r"unknown column label\(s\) in columns=: nope, 7"):
        summarize(frame, columns=["nope", 7])
    with pytest.raises(ValueError, match="exclude="):
        summarize(frame, exclude=["nope"])


def test_no_sample_rows():
    frame = pd.DataFrame({"secret": ["s1", "s2", "s3"], "n": [1, 2, 3]})
    text = check(frame, sample_rows=0)
    assert "sample rows withheld (schema and statistics only)" in text
    assert not [line for line in text.splitlines() if line.startswith("|")]
    assert "sample rows (" not in text


def test_sample_rows_are_real_rows_in_frame_order():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"k": np.arange(1000) * 3, "s": [f"v{i}" for i in range(1000)]},
        index=pd.RangeIndex(5000, 6000),
    )
    text = check(frame, seed=4)
    rows = [ln for ln in text.splitlines() if ln.startswith("| ") and "index" not in ln]
    assert len(rows) == 5
    labels = [int(r.split(" | ")[0][2:]) for r in rows]
    assert labels == sorted(labels)
    for r, label in zip(rows, labels, strict=True):
        cells = [c.strip() for c in r.strip("|").split("|")]
        pos = label - 5000
        assert cells[1:] == [str(pos * 3), f"v{pos}"]
    del rng


def test_chunked_arrow_take_matches_plain_take():
    chunks = [pa.array([f"c{i}-{j}" for j in range(97)]) for i in range(41)]
    chunked = pa.chunked_array(chunks)
    pos = sample_positions(len(chunked), 300, seed=2)
    assert pos is not None and np.all(np.diff(pos) > 0)
    assert take_arrow(chunked, pos).to_pylist() == chunked.take(pa.array(pos)).to_pylist()
    frame = pd.DataFrame({"s": pd.Series(pd.arrays.ArrowStringArray(chunked))})
    text = check(frame, sample_size=500)
    assert parse_columns(text)["s"]["distinct"] == "~unique"


def test_fifty_million_rows():
    n = 50_000_000
    frame = pd.DataFrame({"zero": np.zeros(n), "n": np.arange(n, dtype=np.int64)}, copy=False)
    start = time.perf_counter()
    text = summarize(frame, name="huge")
    elapsed = time.perf_counter() - start
    assert elapsed < 10, elapsed
    cols = parse_columns(text)
    assert "50,000,000 rows x 2 columns" in text
    assert cols["zero"]["distinct"] == "1" and cols["zero"]["min"] == "0"
    assert cols["n"]["distinct"] == "unique" and cols["n"]["max"] == "49,999,999"
    assert "duplicate rows: 0 (column n is unique)" in text


def test_minimum_budget_keeps_privacy_statement_and_legend():
    frame = pd.DataFrame({f"c{i}": np.arange(5000) % (i + 2) for i in range(30)})
    text = check(
        frame, budget=300, exclude=["c0", "c1"], sample_rows=0, sample_size=100, name="n" * 200
    )
    assert "2 of 30 columns withheld by the caller; sample rows withheld" in text
    assert "`~` = estimated from a 100-row random sample (seed 0)" in text
