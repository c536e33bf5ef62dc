"""The statistics kernels against plain numpy, across chunk boundaries."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from agcloud_magic.dataframes import stats
from agcloud_magic.dataframes._text import fmt_approx_count, fmt_num, fmt_share, stable_repr
from agcloud_magic.dataframes.sampling import display_positions, sample_positions


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(stats, "CHUNK", 7)  # many chunk boundaries in small arrays


@settings(max_examples=200, deadline=None)
@given(
    hnp.arrays(
        np.float64, st.integers(1, 60), elements=st.one_of(st.floats(-1e6, 1e6), st.just(np.nan))
    )
)
def test_scan_matches_numpy(values):
    m = stats.scan(values, nan_null=True)
    finite = values[~np.isnan(values)]
    assert m.nulls == len(values) - len(finite) and m.count == len(finite)
    if len(finite):
        assert (m.lo, m.hi) == (finite.min(), finite.max())
        assert m.mean == pytest.approx(finite.mean(), rel=1e-9, abs=1e-6)
        if len(finite) > 1:
            assert m.sd == pytest.approx(finite.std(ddof=1), rel=1e-7, abs=1e-6)
            d = np.diff(finite)
            assert m.strictly_increasing == bool((d > 0).all())
            assert m.increasing == bool((d >= 0).all())
            assert m.decreasing == bool((d <= 0).all())


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.int16, st.integers(1, 80), elements=st.integers(-300, 300)), st.data())
def test_int_counts_match_bincount(values, data):
    mask = data.draw(hnp.arrays(np.bool_, len(values)))
    counts = stats.int_counts(values, int(values.min()), int(values.max()), mask)
    kept = values[~mask].astype(np.int64) - int(values.min())
    want = np.bincount(kept, minlength=int(values.max()) - int(values.min()) + 1)
    assert counts.tolist() == want.tolist()


def test_masked_scan_and_nat_sentinel():
    values = np.array([5, 1, 9, 2, 7, 3, 8, 4, 6], dtype=np.int64)
    mask = np.array([0, 1, 0, 0, 0, 0, 0, 0, 1], dtype=bool)
    m = stats.scan(values, mask)
    assert (m.count, m.nulls, m.lo, m.hi) == (7, 2, 2, 9)
    nat = np.iinfo(np.int64).min
    m = stats.scan(np.array([nat, 3, 4, nat, 5], dtype=np.int64), null_value=nat, moments=False)
    assert (m.count, m.nulls, m.lo, m.hi, m.strictly_increasing) == (3, 2, 3, 5, True)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=120), st.integers(1, 6))
def test_top_order_is_a_stable_argsort(counts, limit):
    arr = np.array(counts)
    assert stats.top_order(arr, limit).tolist() == np.argsort(-arr, kind="stable")[:limit].tolist()


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.float64, st.integers(1, 50), elements=st.floats(-1e3, 1e3)), st.floats(0, 1))
def test_quantiles_match_numpy(values, p):
    sv = np.sort(values)
    assert stats.quantile_sorted(sv, p) == pytest.approx(np.quantile(values, p), abs=1e-9)
    ints = np.sort(np.round(values).astype(np.int64))
    lo = int(ints[0])
    counts = np.bincount(ints - lo)
    assert stats.quantile_counts(counts, lo, p) == pytest.approx(np.quantile(ints, p), abs=1e-9)


def test_distinct_estimate_bounds():
    assert stats.distinct_estimate(10, 3, 100, 100) == 10  # whole column: exact
    assert stats.distinct_estimate(1000, 1000, 1000, 10**6) == 10**6  # all singletons: unique
    est = stats.distinct_estimate(50, 0, 1000, 10**6)
    assert est == 50  # every value seen twice or more: all values probably seen
    assert 50 <= stats.distinct_estimate(50, 10, 1000, 10**6) <= 10**6


def test_count_values_unhashable_and_first_seen_order():
    keys, counts, hashable = stats.count_values(["b", "a", "b", "c"])
    assert (keys, counts.tolist(), hashable) == (["b", "a", "c"], [2, 1, 1], True)
    keys, counts, hashable = stats.count_values([[1], {"k": 2}, [1], {"k": 2}, {"k": 3}])
    assert not hashable and counts.tolist() == [2, 2, 1] and keys[0] == [1]


def test_positions_are_deterministic_sorted_and_unique():
    a = sample_positions(10**7, 1000, seed=5)
    assert a is not None and np.array_equal(a, sample_positions(10**7, 1000, seed=5))
    assert np.all(np.diff(a) > 0) and a[-1] < 10**7
    assert not np.array_equal(a, sample_positions(10**7, 1000, seed=6))
    assert sample_positions(50, 100, seed=0) is None
    assert display_positions(3, 5, seed=0).tolist() == [0, 1, 2]


def test_text_helpers():
    assert fmt_num(1234.5678) == "1,235" and fmt_num(0.000123456) == "0.0001235"
    assert fmt_num(-0.81452) == "-0.8145" and fmt_num(2e20) == "2.000e+20"
    assert fmt_share(0.254) == "25.4%" and fmt_share(0.99999) == ">99.9%"
    assert fmt_share(1e-7) == "<0.001%"
    assert fmt_approx_count(4_812_345) == "~4.8M" and fmt_approx_count(63_412) == "~63k"
    assert fmt_approx_count(1234) == "~1,200"
    assert stable_repr({"b", "a"}) == "{'a', 'b'}"
    assert stable_repr([frozenset({2, 1}), {"k": {3, 1}}]) == "[frozenset({1, 2}), {'k': {1, 3}}]"
    assert stable_repr((np.int64(1),)) == "(1,)"
