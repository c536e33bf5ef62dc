"""Benchmark: DataFrame summaries with pyarrow installed vs pandas alone.

Usage::

    .venv/bin/python bench/bench_pyarrow.py [--sizes 1e5,1e6] [--runs N]

Decides whether pyarrow must be a dependency.  The same frame (built from numpy, so both modes
see the same values: a 1,000-value city column with 2% missing, string ids ~63% distinct, short
free text, an int, a float and a timestamp) is summarised in fresh processes, once as installed
(pandas 3 stores ``str`` columns in arrow) and once with pyarrow made unimportable (python-backed
strings, as after a plain ``pip install agcloud-magic``).  Each cell: one warm-up call, then the
median of ``--runs`` calls; "pandas alone / arrow" is the ratio of the medians.  Also reports
the cost of importing pyarrow and its size on disk.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, sys, time
if sys.argv[1] == "pandas":
    sys.modules["pyarrow"] = None
import numpy as np, pandas as pd
from agcloud_magic.dataframes import summarize
rows, runs = int(float(sys.argv[2])), int(sys.argv[3])
rng = np.random.default_rng(0)
names = np.array([f"City{i:03d}" for i in range(1000)], dtype=object)
city = names[rng.integers(0, 1000, rows)]
city[rng.random(rows) < 0.02] = None
df = pd.DataFrame({
    "city": pd.array(city, dtype="str"),
    "user": pd.array(np.char.add("u", rng.integers(0, rows, rows).astype(str)), dtype="str"),
    "note": pd.array(np.char.add("note ", (np.arange(rows) % 5000).astype(str)), dtype="str"),
    "qty": rng.integers(0, 100, rows),
    "price": rng.normal(10, 2, rows),
    "when": pd.date_range("2024-01-01", periods=rows, freq="min"),
})
summarize(df)
times = []
for _ in range(runs):
    t = time.perf_counter(); summarize(df); times.append(time.perf_counter() - t)
arrow = type(df["city"].array).__name__
print(json.dumps({"times": times, "array": arrow}))
"""


def measure(mode: str, size: str, runs: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, mode, size, str(runs)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[-1])


def pyarrow_import_ms(runs: int = 5) -> float:
    code = "import time; t = time.perf_counter(); import pyarrow, pyarrow.compute; " \
           "print(time.perf_counter() - t)"
    samples = [float(subprocess.run([sys.executable, "-c", code], check=True,
                                    capture_output=True, text=True).stdout) for _ in range(runs)]
    return 1000 * statistics.median(samples)


def pyarrow_size_mb() -> float:
    import pyarrow

    root = Path(pyarrow.__file__).parent
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1e5,1e6")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print("| rows | pyarrow installed (arrow strings) | pandas alone (python strings) "
          "| pandas alone / arrow |")
    print("|---|---|---|---|")
    for size in args.sizes.split(","):
        arrow = measure("arrow", size, args.runs)
        plain = measure("pandas", size, args.runs)
        a, p = statistics.median(arrow["times"]), statistics.median(plain["times"])
        print(f"| {size} | {1000 * a:.0f} ms ({arrow['array']}) | {1000 * p:.0f} ms "
              f"({plain['array']}) | {p / a:.2f}x |")
    print(f"\nimport pyarrow + pyarrow.compute: {pyarrow_import_ms():.0f} ms (median of 5 fresh "
          f"processes); pyarrow on disk: {pyarrow_size_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
