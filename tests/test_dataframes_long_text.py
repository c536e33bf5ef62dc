"""Long-text columns: the work per value is bounded (a long string is counted by a key of a
bounded number of its characters, never hashed in full), and the figures stay right for
realistic data: strings that differ only after the prefix, only at the end, only in length or in
a middle stretch are told apart, and frequent values keep their exact counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agcloud_magic.dataframes import summarize
from agcloud_magic.dataframes.text_keys import KEY_CHARS, LONG

from .test_dataframes_facts import distinct_of, parse_columns

BODY = "".join(np.random.default_rng(0).choice(list("abcdefgh ijklmnop"), size=20_000))
DTYPES = ["object", "str"]  # python-backed and arrow-backed strings


def column(values: list[str], dtype: str) -> dict:
    text = summarize(pd.DataFrame({"t": pd.Series(values, dtype=dtype)}))
    return parse_columns(text)["t"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_long_strings_differing_only_at_the_end_are_told_apart(dtype):
    values = [BODY + f"-{i % 40:03d}" for i in range(400)]  # same length, prefix, middle
    col = column(values, dtype)
    assert distinct_of(col) == 40


@pytest.mark.parametrize("dtype", DTYPES)
def test_long_strings_differing_only_in_length_are_told_apart(dtype):
    values = [BODY + "x" * (i % 7) for i in range(70)]
    assert distinct_of(column(values, dtype)) == 7


@pytest.mark.parametrize("dtype", DTYPES)
def test_documents_differing_in_a_middle_stretch_are_told_apart(dtype):
    # A shared header and footer (longer than the key's prefix and tail), and a body that
    # differs in a 100-character stretch in the middle, all the same length: templated
    # documents.  The key's middle sample must land in that stretch.
    head, tail = "H" * (3 * KEY_CHARS), "F" * (3 * KEY_CHARS)
    values = [head + BODY[:5000] + chr(65 + i % 25) * 100 + BODY[:5000] + tail
              for i in range(250)]
    assert len({len(v) for v in values}) == 1
    assert distinct_of(column(values, dtype)) == 25


@pytest.mark.parametrize("dtype", DTYPES)
def test_strings_up_to_the_bound_are_compared_whole(dtype):
    middle = LONG // 2
    base = "a" * LONG
    values = [base[:middle] + c + base[middle + 1:] for c in "abcdefgh"] * 5
    assert all(len(v) == LONG for v in values)
    assert distinct_of(column(values, dtype)) == 8


@pytest.mark.parametrize("dtype", DTYPES)
def test_frequent_long_values_keep_exact_counts_and_lengths(dtype):
    docs = [f"doc {k} " + BODY for k in range(3)]
    values = [docs[0]] * 60 + [docs[1]] * 30 + [docs[2]] * 10
    col = column(values, dtype)
    assert distinct_of(col) == 3
    shares = [share for _, share in col["top"]]
    assert shares == [60.0, 30.0, 10.0]
    assert [text.split()[:2] for text, _ in col["top"]] == [["doc", "0"], ["doc", "1"],
                                                            ["doc", "2"]]
    n = len(docs[0])
    assert f"len {n:,}-{n:,}" in col["line"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_lengths_of_long_non_ascii_text_are_in_characters(dtype):
    values = ["é" * 10_000 + "€" * 5 + str(i) for i in range(10)]
    assert "len 10,006-10,006" in column(values, dtype)["line"]


def text_in(value) -> int:
    """Characters (or bytes) of text inside ``value``, through tuples of key parts."""
    if isinstance(value, (str, bytes)):
        return len(value)
    if isinstance(value, tuple):
        return sum(text_in(v) for v in value)
    return 0


@pytest.fixture()
def hashed(monkeypatch) -> list[int]:
    """Characters handed to the hashing steps (the distinct count's factorize of Python
    values, arrow's value_counts), summed: what counting distinct values reads."""
    import pyarrow.compute as pc

    from agcloud_magic.dataframes import stats

    total = [0]
    count_values, value_counts = stats.count_values, pc.value_counts

    def counting_values(values, *args, **kwargs):
        total[0] += sum(text_in(v) for v in values)
        return count_values(values, *args, **kwargs)

    def counting_arrow(values, *args, **kwargs):
        total[0] += int(pc.sum(pc.binary_length(values)).as_py() or 0)
        return value_counts(values, *args, **kwargs)

    monkeypatch.setattr(stats, "count_values", counting_values)
    monkeypatch.setattr(pc, "value_counts", counting_arrow)
    return total


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_work_per_long_value_is_bounded(hashed, dtype):
    rows = 300
    values = [f"{i:05d}" + BODY * 5 for i in range(rows)]  # 100 KB each, all distinct
    col = column(values, dtype)
    assert col["distinct"] == "unique"
    # Before: every value was hashed whole (300 x 100,005 characters).
    assert 0 < hashed[0] <= rows * (LONG + 16)


class Counted(str):
    """A str that counts the characters read from it by slicing (how keys are built)."""

    sliced = 0

    def __getitem__(self, index):
        part = str.__getitem__(self, index)
        type(self).sliced += len(part)
        return part


def test_a_long_value_is_read_only_in_bounded_pieces():
    rows = 300
    values = [Counted(f"{i:05d}" + BODY * 5) for i in range(rows)]  # 100 KB each
    Counted.sliced = 0
    text = summarize(pd.DataFrame({"t": pd.Series(values, dtype=object)}))
    assert parse_columns(text)["t"]["distinct"] == "unique"
    # Each value gives three bounded pieces for its key (plus the few characters the one-line
    # cells show), never its 100,005 characters.
    assert 0 < Counted.sliced <= rows * (3 * KEY_CHARS + 200)
