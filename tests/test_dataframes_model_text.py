"""to_model_text(): _repr_llm_, pandas objects, anything else; the df.respond accessor;
determinism across processes and display options."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

from agcloud_magic.accessor import register_pandas_accessor
from agcloud_magic.dataframes import summarize, to_model_text

REPO = Path(__file__).resolve().parents[1]


class WithRepr:
    def __init__(self, text):
        self.text = text

    def _repr_llm_(self):
        return self.text


def test_repr_llm_is_honoured_and_cut_at_a_line_boundary():
    assert to_model_text(WithRepr("hello\nworld")) == "hello\nworld"
    long = "\n".join(f"line {i:04d} " + "x" * 30 for i in range(500))
    text = to_model_text(WithRepr(long), budget=1000)
    assert len(text) <= 1000
    body, note = text.rsplit("\n", 1)
    assert note.startswith("[... cut: first ") and f"of {len(long):,} characters" in note
    assert all(line.startswith("line ") and len(line) == 40 for line in body.split("\n"))


def test_repr_llm_must_return_str():
    with pytest.raises(TypeError, match=r"_repr_llm_\(\) must return str"):
        to_model_text(WithRepr(42))


def test_repr_llm_wins_over_pandas():
    class Frame(pd.DataFrame):
        def _repr_llm_(self):
            return "custom"

    assert to_model_text(Frame({"a": [1]})) == "custom"


def test_pandas_objects_are_summarised():
    frame = pd.DataFrame({"a": [1, 2, 3]})
    assert to_model_text(frame, name="t") == summarize(frame, name="t")
    assert to_model_text(frame["a"], budget=2000, sample_rows=0) == summarize(
        frame["a"], budget=2000, sample_rows=0
    )


def test_other_objects_use_str_with_a_cut_note():
    assert to_model_text({"k": 1}) == "{'k': 1}"
    text = to_model_text("y" * 10_000, budget=500)
    assert len(text) <= 500 and text.startswith("yyy") and "of 10,000 characters shown]" in text
    with pytest.raises(ValueError):
        to_model_text("x", budget=10)


def test_no_pandas_import_for_plain_objects():
    code = (
        "import sys, agcloud_magic.dataframes as d\n"
        "assert d.to_model_text([1, 2]) == '[1, 2]'\n"
        "print(sorted(m for m in ('pandas', 'numpy', 'pyarrow') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert out.stdout.strip() == "[]"


def test_accessor_registration_is_idempotent_and_previews(monkeypatch):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas warns when an accessor is overridden
        register_pandas_accessor()
        register_pandas_accessor()
    sales = pd.DataFrame({"units": [3, 5, 8]})
    preview = sales.respond.summary()
    assert preview == summarize(sales, name="sales")
    assert sales["units"].respond.summary(budget=1000) == summarize(
        sales["units"], name="units", budget=1000
    )
    assert sales.respond.summary(name="other").startswith("## DataFrame `other`")


def test_accessor_sends_summary_and_question(ip, srv):
    register_pandas_accessor()
    orders = pd.DataFrame({"qty": [1, 2], "sku": ["a", "b"]})
    result = orders.respond("Which sku sells most?", model="echo", summary_options={"budget": 900})
    body = next(r.body for r in srv.requests if r.method == "POST")
    assert body["model"] == "echo"
    expected = summarize(orders, name="orders", budget=900) + "\n\nWhich sku sells most?"
    assert body["input"] == expected
    assert result.status == "completed" and "Which sku sells most?" in result.text


DETERMINISM_SCRIPT = r"""
import hashlib, sys
import numpy as np, pandas as pd
sys.path.insert(0, ".")
from agcloud_magic.dataframes import summarize
rng = np.random.default_rng(11)
n = 30_000
frame = pd.DataFrame({
    "x": rng.normal(size=n),
    "k": rng.integers(0, 50, n),
    "s": pd.Series(rng.choice(["a", "b", "c", "d"], n), dtype="str"),
    "o": pd.Series([{"b", "a", "c"}, frozenset({"z", "y"}), "t", 4, ["q", {"m", "n"}]] * (n // 5),
                   dtype=object),
    "t": pd.date_range("2024-01-01", periods=n, freq="min", tz="Europe/Paris"),
    "c": pd.Categorical(rng.choice(["p", "q"], n)),
})
frame.loc[::7, "x"] = np.nan
text = summarize(frame, name="f", sample_size=5_000, budget=4000)
print(hashlib.sha256(text.encode()).hexdigest())
"""


def test_byte_identical_across_processes():
    digests = set()
    for hash_seed in ("1", "2", "3"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        out = subprocess.run(
            [sys.executable, "-c", DETERMINISM_SCRIPT],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
            env=env,
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_independent_of_pandas_display_options():
    frame = pd.DataFrame({"x": [1.123456789, 2.5, None], "s": ["a" * 80, "b", "c"]})
    before = summarize(frame)
    with pd.option_context(
        "display.precision",
        2,
        "display.max_colwidth",
        5,
        "display.max_columns",
        1,
        "display.float_format",
        "{:.1f}".format,
    ):
        during = summarize(frame)
    assert hashlib.sha256(before.encode()).digest() == hashlib.sha256(during.encode()).digest()
    assert json.dumps(before) == json.dumps(summarize(frame))
