"""Facts in a summary, read back out of the text, checked against the frame, per dtype family.

The parser here (``parse_columns``) is also used by the other ``test_dataframes_*`` modules.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from agcloud_magic.dataframes import summarize

TOP_ITEM = re.compile(r"(.+?) \((~?[<>]?[\d.]+)%\)(?:, |$)")


def parse_columns(text: str) -> dict[str, dict]:
    """Column lines (``- name | dtype | non-null | distinct | stats``) as dicts, by name."""
    cols: dict[str, dict] = {}
    section = None
    for line in text.splitlines():
        if line.startswith("### "):
            section = "columns" if line.startswith("### columns") else line
            continue
        if section != "columns" or not line.startswith("- "):
            continue
        parts = line[2:].split(" | ")
        col = {"label": parts[0], "dtype": parts[1], "line": line}
        if parts[2] == "no rows":
            col["rows"] = 0
            cols[parts[0]] = col
            continue
        m = re.fullmatch(r"non-null ([\d.<>]+)%(?: \(([\d,]+) null\))?", parts[2])
        assert m, line
        col["non_null_pct"] = m.group(1)
        col["nulls"] = int(m.group(2).replace(",", "")) if m.group(2) else None
        assert parts[3].startswith("distinct "), line
        col["distinct"] = parts[3][len("distinct ") :]
        stats = " | ".join(parts[4:])
        col["notes"] = []
        for group in stats.split("; ") if stats else []:
            _parse_group(group, col)
        cols[parts[0]] = col
    return cols


def _parse_group(group: str, col: dict) -> None:
    if group.startswith("min "):
        m = re.fullmatch(r"min (.+?) max (.+?)(?: mean (\S+))?(?: sd (\S+))?", group)
        assert m, group
        col["min"], col["max"], col["mean"], col["sd"] = m.groups()
    elif group.startswith("quantiles"):
        head, _, rest = group.partition(" ")
        col["quantiles_exact"] = not head.endswith("~")
        tokens = rest.split(" ")
        col["quantiles"] = {tokens[i]: num(tokens[i + 1]) for i in range(0, len(tokens), 2)}
    elif group.startswith("median"):
        head, _, rest = group.partition(" ")
        col["median"], col["median_exact"] = rest, not head.endswith("~")
    elif group.startswith("top"):
        head, _, rest = group.partition(" ")
        col["top_exact"] = not head.endswith("~")
        col["top"] = [(v, float(s.lstrip("~<>"))) for v, s in TOP_ITEM.findall(rest)]
    else:
        col["notes"].append(group)


def num(text: str) -> float:
    return float(text.replace(",", "").lstrip("~"))


def distinct_of(col: dict) -> int:
    assert col["distinct"] != "unique" and not col["distinct"].startswith("~"), col
    return int(col["distinct"].replace(",", ""))


def check_top(col: dict, ser: pd.Series, to_text=str) -> None:
    """Each reported share matches the real count (3 significant digits), shares never grow,
    and the leader is a most frequent value."""
    counts = ser.value_counts(dropna=True)
    by_text = {to_text(k): int(v) for k, v in counts.items()}
    shares = [s for _, s in col["top"]]
    assert shares == sorted(shares, reverse=True)
    for value, share in col["top"]:
        assert value in by_text, (value, list(by_text)[:10])
        assert by_text[value] / len(ser) * 100 == pytest.approx(share, rel=5e-3, abs=1e-9)
    assert by_text[col["top"][0][0]] == counts.max()


def check_numeric(col: dict, ser: pd.Series) -> None:
    values = ser.dropna().astype("float64")
    assert col["nulls"] in (None, int(ser.isna().sum()))
    assert (col["nulls"] or 0) == int(ser.isna().sum())
    assert num(col["min"]) == pytest.approx(values.min(), rel=1e-5)
    assert num(col["max"]) == pytest.approx(values.max(), rel=1e-5)
    assert num(col["mean"]) == pytest.approx(values.mean(), rel=1e-3, abs=1e-9)
    assert num(col["sd"]) == pytest.approx(values.std(), rel=1e-3)
    for key, got in col["quantiles"].items():
        want = values.quantile(int(key[1:]) / 100)
        assert got == pytest.approx(want, rel=1e-3, abs=1e-9), key
    if col["distinct"] == "unique":
        assert values.nunique() == len(values)
    else:
        assert distinct_of(col) == values.nunique()


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 4000
    amount = rng.lognormal(size=n)
    amount[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "id": np.arange(n, dtype=np.int64),
            "qty": rng.integers(0, 100, n).astype(np.int32),
            "score": pd.Series(rng.integers(-50, 50, n), dtype="Int64").where(rng.random(n) > 0.1),
            "amount": amount,
            "ratio": rng.random(n).astype(np.float32),
            "price": pd.array(np.round(rng.normal(10, 2, n), 2), dtype="Float64"),
            "city": pd.Series(
                rng.choice(["Oslo", "Lima", "Pune", "Kobe"], n, p=[0.4, 0.3, 0.2, 0.1]), dtype="str"
            ).where(rng.random(n) > 0.02),
            "flag": rng.random(n) < 0.3,
            "maybe": pd.array(
                np.where(rng.random(n) < 0.2, None, rng.random(n) < 0.5), dtype="boolean"
            ),
            "when": pd.date_range("2024-03-30", periods=n, freq="17min", tz="Europe/Berlin"),
            "seen": pd.Series(
                pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s")
            ).where(rng.random(n) > 0.01),
            "day": pd.to_datetime("2023-01-01") + pd.to_timedelta(rng.integers(0, 9, n), unit="D"),
            "wait": pd.to_timedelta(rng.integers(0, 7200, n), unit="s"),
            "size": pd.Categorical(
                rng.choice(["S", "M", "L", "XL"], n, p=[0.1, 0.5, 0.3, 0.1]),
                categories=["XS", "S", "M", "L", "XL"],
                ordered=True,
            ),
            "mixed": pd.Series([1, "a", 2.5, None, True, "b", (1, 2), 3] * (n // 8), dtype=object),
        }
    )


@pytest.fixture(scope="module")
def cols(frame: pd.DataFrame) -> dict[str, dict]:
    text = summarize(frame, name="frame", budget=20_000)
    assert "all figures exact" in text
    return parse_columns(text)


@pytest.mark.parametrize("name", ["id", "qty", "score", "amount", "ratio", "price"])
def test_numeric_facts(frame, cols, name):
    col = cols[name]
    assert col["dtype"] == str(frame[name].dtype)
    check_numeric(col, frame[name])
    assert col["quantiles_exact"]


def test_small_range_ints_have_exact_top_values(frame, cols):
    for name in ("qty", "score"):
        ser = frame[name]
        if "top" in cols[name]:
            check_top(cols[name], ser, lambda v: f"{int(v):,}")


def test_unique_monotonic_id(cols):
    assert cols["id"]["distinct"] == "unique"
    assert "strictly increasing" in cols["id"]["notes"]


def test_string_facts(frame, cols):
    col, ser = cols["city"], frame["city"]
    assert col["dtype"] == "str"
    assert col["nulls"] == int(ser.isna().sum())
    assert distinct_of(col) == ser.nunique()
    check_top(col, ser)
    assert col["top_exact"]
    lengths = ser.dropna().str.len()
    assert f"len {lengths.min()}-{lengths.max()}" in " ".join(col["notes"])


def test_bool_facts(frame, cols):
    for name in ("flag", "maybe"):
        ser = frame[name]
        trues = int(ser.sum())
        notes = cols[name]["notes"]
        assert any(n.startswith("true ") and n.endswith(f"({trues:,})") for n in notes)
        assert (cols[name]["nulls"] or 0) == int(ser.isna().sum())


def _as_timestamp(text: str, ser: pd.Series) -> pd.Timestamp:
    ts = pd.Timestamp(text)
    if ser.dt.tz is not None and ts.tzinfo is None:  # date-only text is local wall time
        ts = ts.tz_localize(ser.dt.tz)
    return ts


@pytest.mark.parametrize("name", ["when", "seen", "day"])
def test_datetime_facts(frame, cols, name):
    col, ser = cols[name], frame[name]
    assert col["dtype"] == str(ser.dtype)
    assert (col["nulls"] or 0) == int(ser.isna().sum())
    assert _as_timestamp(col["min"], ser) == ser.min()
    assert _as_timestamp(col["max"], ser) == ser.max()
    median = _as_timestamp(col["median"], ser)
    assert ser.quantile(0.49) <= median <= ser.quantile(0.51)
    if col["distinct"] == "unique":
        assert ser.nunique() == ser.notna().sum()
    else:
        assert distinct_of(col) == ser.nunique()


def test_tz_aware_range_keeps_offsets(cols):
    # 2024-03-31 is the switch to summer time in Berlin: +01:00 at the start, +02:00 later.
    assert cols["when"]["min"].endswith("+01:00")
    assert cols["when"]["max"].endswith("+02:00")
    assert any(n.startswith("step 17min (median") for n in cols["when"]["notes"])


def test_date_only_column_prints_dates(frame, cols):
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", cols["day"]["min"])
    check_top(cols["day"], frame["day"], lambda ts: ts.date().isoformat())


def test_timedelta_facts(frame, cols):
    col, ser = cols["wait"], frame["wait"]
    assert pd.Timedelta(col["min"]) == ser.min()
    assert pd.Timedelta(col["max"]) == ser.max()
    assert distinct_of(col) == ser.nunique()


def test_ordered_category_facts(frame, cols):
    col, ser = cols["size"], frame["size"]
    assert col["dtype"] == "category"
    assert "5 categories, ordered (1 unused)" in col["notes"]
    assert distinct_of(col) == ser.nunique()
    assert (col["min"], col["max"]) == (ser.min(), ser.max())
    check_top(col, ser)


def test_mixed_object_facts(frame, cols):
    col, ser = cols["mixed"], frame["mixed"]
    assert col["nulls"] == int(ser.isna().sum())
    types = next(n for n in col["notes"] if n.startswith("types "))
    names = {type(v).__name__ for v in ser.dropna()}
    assert {part.split(" ")[0] for part in types[len("types ") :].split(", ")} == names
    # 1 and True are equal in Python but are different values here
    assert distinct_of(col) == len({(type(v), v) for v in ser.dropna()})


def test_sampled_frame_marks_estimates_and_keeps_exact_figures():
    rng = np.random.default_rng(3)
    n = 60_000
    values = rng.normal(5, 2, n)
    values[rng.random(n) < 0.1] = np.nan
    frame = pd.DataFrame(
        {
            "x": values,
            "word": pd.Series(
                rng.choice(["alpha", "beta", "gamma"], n, p=[0.6, 0.3, 0.1]), dtype="str"
            ),
            "k": rng.integers(0, 10**9, n),
        }
    )
    text = summarize(frame, sample_size=5_000, seed=1)
    assert "`~` = estimated from a 5,000-row random sample (seed 1)" in text
    cols = parse_columns(text)
    x, ser = cols["x"], frame["x"]
    assert x["nulls"] == int(ser.isna().sum())
    assert num(x["min"]) == pytest.approx(ser.min(), rel=1e-5)
    assert num(x["max"]) == pytest.approx(ser.max(), rel=1e-5)
    assert num(x["mean"]) == pytest.approx(ser.mean(), rel=1e-3)
    assert not x["quantiles_exact"]
    for key, got in x["quantiles"].items():  # rank error of a 5,000-row sample: a few points
        assert (ser.dropna() <= got).mean() == pytest.approx(int(key[1:]) / 100, abs=0.03)
    assert x["distinct"].startswith("~")
    word = cols["word"]
    assert not word["top_exact"] and word["distinct"] == "~3"
    for value, share in word["top"]:
        assert (frame["word"] == value).mean() * 100 == pytest.approx(share, abs=3)
    assert cols["k"]["distinct"] == "~unique"


def test_series_is_summarised_as_one_column():
    ser = pd.Series([3, 1, None, 7], name="price", dtype="Int64")
    text = summarize(ser)
    assert text.startswith("## Series `price`: 4 rows, dtype Int64")
    col = parse_columns(text)["price"]
    assert col["nulls"] == 1 and (col["min"], col["max"]) == ("1", "7")


def test_index_facts():
    frame = pd.DataFrame({"v": [1, 2, 3]}, index=pd.Index([10, 20, 30], name="key"))
    assert (
        "index: dtype int64, name key, strictly increasing (unique); first 10, last 30"
        in summarize(frame)
    )
    multi = pd.DataFrame(
        {"v": range(6)}, index=pd.MultiIndex.from_product([["x", "y"], [1, 2, 3]], names=["k", "n"])
    )
    assert (
        "index: MultiIndex, 2 levels: k (str, 2 values), n (int64, 3 values); "
        "first ('x', 1), last ('y', 3)" in summarize(multi)
    )
