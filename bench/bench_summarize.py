"""Benchmark: ``summarize(df)`` against ``df.describe(include="all")`` and ``str(df)``.

Usage::

    .venv/bin/python bench/bench_summarize.py [--sizes 1e5,1e6,1e7,wide,longtext] [--runs N]

Frames (built here, deterministic): 12 mixed columns - unique int64 id, int32 0-99, nullable
Int64 with 5% NA, lognormal float64 with 3% NaN, normal float64, float32, a Zipf-skewed string
column with 1,000 values and 2% missing, string ids (~63% distinct), naive minute timestamps with
1% NaT, a monotonic tz-aware timestamp, a 12-level category and a bool; "wide" is 1e4 rows x
2,000 columns of the same 12 kinds cycled; "longtext" is 2e4 rows of the 12 columns plus a
``body`` of distinct ~100 KB documents (2 GB of text: 1e5 such rows would need 10 GB). Each
frame is written to parquet once and read back in every measurement, so string columns are
chunked arrow arrays as they are after a real load.

Every (approach, size) cell runs in a fresh process: the frame is loaded, the approach is warmed
up on a 2,000-row slice, freed memory is handed back to the OS, the kernel's peak-RSS mark
(VmHWM) is reset, the first full call gives the extra peak memory, further calls give the
timings ("faster by" = the approach's median / summarize's median). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

APPROACHES = ("summarize", "describe", "str")
DEFAULT_RUNS = {"1e5": 9, "1e6": 7, "1e7": 3, "wide": 7, "longtext": 3}


def make_frame(rows: int, seed: int = 0):
    """The 12-column mixed frame of the research notes (deterministic for ``seed``)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng(seed)
    syll = ["an", "ber", "qui", "sen", "gri", "do", "no", "pe", "is", "tu", "ra", "lo", "mi",
            "ka", "ve", "zo"]
    names: list[str] = []
    while len(names) < 1000:
        word = "".join(rng.choice(syll, size=int(rng.integers(2, 5)))).capitalize()
        if word not in names:
            names.append(word)
    zipf = 1.0 / np.arange(1, 1001) ** 1.1
    city_codes = rng.choice(1000, size=rows, p=zipf / zipf.sum())
    city = pa.DictionaryArray.from_arrays(
        pa.array(city_codes, mask=rng.random(rows) < 0.02), pa.array(names)).cast(pa.string())
    user = pc.binary_join_element_wise(
        "u", pc.cast(pa.array(rng.integers(0, rows, rows)), pa.string()), "")
    score = rng.integers(-1000, 1000, rows)
    amount = rng.lognormal(0.0, 1.0, rows)
    amount[rng.random(rows) < 0.03] = np.nan
    minutes = np.datetime64("2024-01-01T00:00", "ns") + \
        rng.integers(0, 525_600, rows).astype("timedelta64[m]")
    minutes[rng.random(rows) < 0.01] = np.datetime64("NaT")
    regions = ["north", "south", "east", "west", "central", "north-east", "north-west",
               "south-east", "south-west", "islands", "coast", "mountains"]
    weights = np.array([30, 20, 15, 10, 8, 4, 4, 3, 2, 2, 1, 1], dtype=float)
    return pd.DataFrame({
        "id": np.arange(rows, dtype=np.int64),
        "qty": rng.integers(0, 100, rows).astype(np.int32),
        "score": pd.Series(score, dtype="Int64").where(rng.random(rows) >= 0.05),
        "amount": amount,
        "z": rng.normal(0.0, 1.0, rows),
        "ratio": rng.random(rows).astype(np.float32),
        "city": pd.Series(city.to_pandas()),
        "user": pd.Series(user.to_pandas()),
        "seen": minutes,
        "event_time": pd.date_range("2024-01-01", periods=rows, freq="s", tz="Europe/Berlin"),
        "region": pd.Categorical.from_codes(rng.choice(12, rows, p=weights / weights.sum()),
                                            regions),
        "flag": rng.random(rows) < 0.3,
    })


def make_wide(rows: int = 10_000, cols: int = 2_000, seed: int = 0):
    """``rows`` x ``cols``: the 12 kinds of :func:`make_frame` cycled, each column regenerated."""
    import pandas as pd

    parts = []
    for block in range((cols + 11) // 12):
        part = make_frame(rows, seed + block)
        part.columns = [f"{c}_{block}" for c in part.columns]
        parts.append(part)
    return pd.concat(parts, axis=1).iloc[:, :cols]


def make_longtext(rows: int = 20_000, chars: int = 100_000, seed: int = 0):
    """:func:`make_frame` plus ``body``: distinct documents of about ``chars`` characters
    (a shared text at a per-row offset, an id first), as a column of long free text."""
    import numpy as np

    frame = make_frame(rows, seed)
    rng = np.random.default_rng(seed)
    text = "".join(rng.choice(list("etaoin shrdlu cmfwyp,."), size=chars + 1000))
    frame["body"] = [f"doc {i:07d}: " + text[i % 997 : i % 997 + chars] for i in range(rows)]
    return frame


def _rss_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _child(path: str, approach: str, runs: int) -> None:
    """One measurement cell, in its own process; prints one JSON line."""
    import ctypes
    import gc

    import pandas as pd
    import pyarrow as pa

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    from agcloud_magic.dataframes import summarize

    df = pd.read_parquet(path)
    calls = {"summarize": lambda f, **kw: summarize(f, **kw),
             "describe": lambda f, **kw: f.describe(include="all"),
             "str": lambda f, **kw: str(f)}
    # Warm-up on a small slice (with sampling for summarize): import-time and first-call
    # costs are not what is measured, for any approach.
    calls[approach](df.head(2000), sample_size=500)

    def call():
        return calls[approach](df)

    gc.collect()
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    before = _rss_kb("VmRSS")
    reset = True
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # resets VmHWM to the current RSS
    except OSError:
        reset = False
    t0 = time.perf_counter()
    out = call()
    times = [time.perf_counter() - t0]
    peak = _rss_kb("VmHWM")  # without the reset this is the process peak (load included)
    for _ in range(runs - 1):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    text = out if isinstance(out, str) else out.to_string()
    print(json.dumps({"times": times[1:] or times, "before_kb": before, "peak_kb": peak,
                      "reset": reset, "chars": len(text),
                      "frame_bytes": int(df.memory_usage(deep=False).sum())}))


def _ratio(r: float) -> str:
    return f"{r:.1f}x" if r >= 1 else f"{r:.2g}x"


def _fmt_time(s: float) -> str:
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1e5,1e6,1e7,wide")
    ap.add_argument("--runs", type=int, default=None, help="timed runs per cell (default 9/7/3/7)")
    ap.add_argument("--approaches", default=",".join(APPROACHES))
    ap.add_argument("--cache", default=None, help="keep the parquet frames in this directory")
    ap.add_argument("--child", nargs=3, metavar=("PATH", "APPROACH", "RUNS"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(args.child[0], args.child[1], int(args.child[2]))
        return 0
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    approaches = [a.strip() for a in args.approaches.split(",") if a.strip()]
    cache = args.cache or tempfile.mkdtemp(prefix="bench_summarize_")
    os.makedirs(cache, exist_ok=True)
    rows_out = []
    try:
        for size in sizes:
            path = os.path.join(cache, f"frame_{size}.parquet")
            if not os.path.exists(path):
                makers = {"wide": make_wide, "longtext": make_longtext}
                frame = makers[size]() if size in makers else make_frame(int(float(size)))
                frame.to_parquet(path)
                del frame
            runs = args.runs or DEFAULT_RUNS.get(size, 5)
            results = {}
            for approach in approaches:
                # describe at 1e7 takes ~9 s per call: fewer runs keep the total sensible
                n = max(1, min(runs, 2)) if approach == "describe" and size == "1e7" else runs
                proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child",
                                       path, approach, str(n + 1)],
                                      capture_output=True, text=True, check=True)
                results[approach] = json.loads(proc.stdout.strip().splitlines()[-1])
                print(f"{size} {approach}: done", file=sys.stderr)
            rows_out.append((size, results))
    finally:
        if not args.cache:
            shutil.rmtree(cache, ignore_errors=True)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"{os.cpu_count()} CPUs, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} "
          f"(1/5/15 min) at the end of the run; pandas {_version('pandas')}, "
          f"numpy {_version('numpy')}, pyarrow {_version('pyarrow')}\n")
    print(_table(rows_out))
    return 0


def _version(module: str) -> str:
    from importlib.metadata import version

    return version(module)


def _table(rows_out: list) -> str:
    lines = ["| size | approach | median | min | runs | extra peak RSS | % of frame | peak RSS |"
             " output chars | summarize faster by |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for size, results in rows_out:
        base = results.get("summarize")
        base_med = statistics.median(base["times"]) if base else None
        for approach, r in results.items():
            med = statistics.median(r["times"])
            extra = max(r["peak_kb"] - r["before_kb"], 0) / 1024
            frame_mb = r["frame_bytes"] / 2**20
            ratio = "" if not base_med or approach == "summarize" else _ratio(med / base_med)
            label = f"**{approach}**" if approach == "summarize" else approach
            lines.append(
                f"| {size} ({frame_mb:.0f} MiB) | {label} | {_fmt_time(med)} | "
                f"{_fmt_time(min(r['times']))} | {len(r['times'])} | {extra:.0f} MB | "
                f"{100 * extra / frame_mb:.1f}% | {r['peak_kb'] / 1024:.0f} MB | {r['chars']:,} | "
                f"{ratio} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
