"""Summaries work with pandas alone: pyarrow is optional (a plain ``pip install`` has none).

Each summary runs in a fresh interpreter, once as installed and once with pyarrow made
unimportable, and the two texts must state the same facts (only memory use may differ: a
python-backed string column is counted shallow).
"""

from __future__ import annotations

import subprocess
import sys

from .helpers import REPO, child_env

SCRIPT = r"""
import sys
if sys.argv[1] == "block":
    sys.modules["pyarrow"] = None  # `import pyarrow` now fails, as when it is not installed
import numpy as np, pandas as pd
from agcloud_magic.dataframes import summarize
rng = np.random.default_rng(0)
n = 3000
df = pd.DataFrame({
    "city": rng.choice(["Oslo", "Lima", "Pune", None], n),
    "note": [f"text {i % 97} " * (i % 5) for i in range(n)],
    "qty": rng.integers(0, 100, n),
    "price": rng.normal(10, 2, n),
    "flag": rng.choice([True, False], n),
    "when": pd.date_range("2024-01-01", periods=n, freq="h"),
    "cat": pd.Categorical(rng.choice(["a", "b"], n)),
    "maybe": pd.array(rng.choice([1, 2, None], n), dtype="Int64"),
    "tags": [["x", "y"][: i % 3] for i in range(n)],
    "text": pd.array([None if i % 7 == 0 else f"row {i}" for i in range(n)], dtype="string"),
})
print(summarize(df, name="df", sample_size=500))
print(summarize(df["city"], name="city"))
print("pyarrow loaded:", "pyarrow" in sys.modules and sys.modules["pyarrow"] is not None)
"""


def _summaries(mode: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True,
                          env=child_env(), timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    return [line for line in done.stdout.splitlines() if "memory" not in line]


def test_summaries_state_the_same_facts_with_and_without_pyarrow():
    with_arrow, pandas_alone = _summaries("use"), _summaries("block")
    assert with_arrow[-1] == "pyarrow loaded: True"  # the arrow path really ran
    assert pandas_alone[-1] == "pyarrow loaded: False"
    assert with_arrow[:-1] == pandas_alone[:-1]
    text = "\n".join(pandas_alone)
    for column in ("city", "note", "qty", "price", "flag", "when", "cat", "maybe", "tags", "text"):
        assert f"\n- {column} | " in text
    assert "Oslo" in text and "2024-01-01" in text
