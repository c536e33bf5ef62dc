"""The client's CPU per row of ``df.respond.map`` against a zero-latency stand-in.

    PYTHONPATH=. .venv/bin/python bench/bench_batch_cpu.py [--rows 2000,10000] [--runs 5]
        [--concurrency 8] [--cases grouped,single,cold,warm] [--before REV] [--quick]

The stand-in runs in its own process (``_standin_proc.counted_standin``) with no latency and no
rate limit, so the wall time is what the two processes' CPU allows and the client's CPU is what
the package costs per row.  The client runs in a child process of this script (one per tree
measured, one after the other, against the same stand-in): "client CPU" is
``time.process_time()`` of that process (every thread: the caller's, the package's event loop)
around one ``df.respond.map(TEMPLATE, ROW_SCHEMA, ...)`` call, the frame built beforehand;
"server CPU" is the stand-in process's user+system time over the same call (``psutil``).  Data,
template and schema are ``bench_batch``'s (N distinct reviews, two fields).

Cases, each run ``--runs`` times (medians reported):

- grouped: ``cache=False``, the default ``rows_per_request=20``;
- single: ``cache=False``, ``rows_per_request=1``;
- cold: ``cache=True`` on an empty ``AGCLOUD_CACHE_DIR`` (sends, then writes every row);
- warm: the same call again on that directory (every row from the cache, nothing sent).

``--before REV`` also measures the package as it was at git revision ``REV`` (its
``agcloud_magic/`` extracted with ``git archive`` into a temporary directory; the stand-in and
this script stay the current ones), so before and after come from one run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_batch import ROW_SCHEMA, TEMPLATE, reviews  # noqa: E402

GOAL_US = 100.0
NAMES = {"grouped": "20 a request (default), cache=False",
         "single": "1 a request, cache=False",
         "cold": "20 a request, cache=True, cold",
         "warm": "20 a request, cache=True, warm (all cached)"}


# --------------------------------------------------------------------------- the child


def _sync(command: str) -> Any:
    """Ask the parent (which holds the stand-in's control pipe) to run ``command``."""
    print(json.dumps({"sync": command}), flush=True)
    return json.loads(sys.stdin.readline())


def _check(out: Any, rows: int) -> tuple[int, int]:
    """(failed, lost) rows of a result frame."""
    failed = int(out["error"].notna().sum())
    lost = int((out["error"].isna() & (out["sentiment"].isna() | out["stars"].isna())).sum())
    return failed, lost + max(0, rows - len(out))


def _measure(call: Callable[[], Any], server: Any) -> tuple[float, float, float, Any]:
    """(wall s, client CPU s, server CPU s, result) of one call."""
    gc.collect()
    s0 = sum(server.cpu_times()[:2])
    c0 = time.process_time()
    w0 = time.perf_counter()
    out = call()
    wall = time.perf_counter() - w0
    cpu = time.process_time() - c0
    return wall, cpu, sum(server.cpu_times()[:2]) - s0, out


def child(opts: argparse.Namespace) -> None:
    import pandas as pd
    import psutil

    from agcloud_magic.accessor import register_pandas_accessor

    register_pandas_accessor()
    server = psutil.Process(opts.server_pid)
    sizes = [int(float(s)) for s in opts.rows.split(",") if s]
    cases = [c for c in opts.cases.split(",") if c]
    with tempfile.TemporaryDirectory() as root:
        os.environ.update(AGCLOUD_CACHE_DIR=os.path.join(root, "unused"),
                          AGCLOUD_BASE_URL=opts.base, AGCLOUD_API_KEY="sk-test-bench-key",
                          AGCLOUD_MODEL="gpt-4o-mini")
        # Warm-up: imports, the loop thread, the connection pool.
        pd.DataFrame({"review": reviews(50)}).respond.map(TEMPLATE, ROW_SCHEMA, cache=False)
        for rows in sizes:
            frame = pd.DataFrame({"review": reviews(rows)})
            for case in cases:
                samples: list[list[float]] = []
                failed = lost = requests = 0
                for run in range(opts.runs):
                    os.environ["AGCLOUD_CACHE_DIR"] = os.path.join(root, f"c{rows}-{case}-{run}")
                    rpr = 1 if case == "single" else 20
                    cached = case in ("cold", "warm")

                    def call(rpr: int = rpr, cached: bool = cached, frame: Any = frame) -> Any:
                        return frame.respond.map(TEMPLATE, ROW_SCHEMA, cache=cached,
                                                 rows_per_request=rpr,
                                                 concurrency=opts.concurrency)

                    if case == "warm":
                        call()  # fill this run's cache (not timed)
                    _sync("reset")
                    wall, cpu, scpu, out = _measure(call, server)
                    requests = _sync("counters")["requests_served"]
                    f, lo = _check(out, rows)
                    failed, lost = max(failed, f), max(lost, lo)
                    samples.append([wall, cpu, scpu])
                    print(f"  {opts.label}: {rows} {case} run {run + 1}: wall {wall:.2f} s, "
                          f"client {cpu / rows * 1e6:.0f} us/row, server "
                          f"{scpu / rows * 1e6:.0f} us/row, {requests} requests",
                          file=sys.stderr, flush=True)
                print(json.dumps({"result": {"case": case, "rows": rows, "samples": samples,
                                             "requests": requests, "failed": failed,
                                             "lost": lost}}), flush=True)


# --------------------------------------------------------------------------- the parent


def run_tree(label: str, tree: Path, opts: argparse.Namespace, standin: Any) -> list[dict]:
    """Run the child with ``tree`` first on its path; answer its syncs; collect its results."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tree), str(HERE)]))
    args = [sys.executable, str(Path(__file__).resolve()), "--child", "--base", standin.base,
            "--server-pid", str(standin.proc.pid), "--label", label, "--rows", opts.rows,
            "--runs", str(opts.runs), "--cases", opts.cases,
            "--concurrency", str(opts.concurrency)]
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env=env, cwd=tree)
    assert proc.stdin is not None and proc.stdout is not None
    results = []
    for line in proc.stdout:
        message = json.loads(line)
        if "sync" in message:
            if message["sync"] == "reset":
                standin.reset()
                reply: Any = {"ok": True}
            else:
                reply = standin.counters()
            proc.stdin.write(json.dumps(reply) + "\n")
            proc.stdin.flush()
        else:
            results.append({"tree": label, **message["result"]})
    if proc.wait() != 0:
        raise SystemExit(f"the {label} run failed")
    return results


def table(results: list[dict]) -> str:
    lines = ["| tree | case | rows | runs | wall s | rows/s | client CPU µs/row "
             "| server CPU µs/row | requests | failed | lost |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in sorted(results, key=lambda r: (r["rows"], list(NAMES).index(r["case"]))):
        rows, samples = r["rows"], r["samples"]
        wall = statistics.median(s[0] for s in samples)
        cpu = statistics.median(s[1] for s in samples)
        scpu = statistics.median(s[2] for s in samples)
        lines.append(
            f"| {r['tree']} | {NAMES[r['case']]} | {rows:,} | {len(samples)} | {wall:.2f} | "
            f"{rows / wall:,.0f} | {cpu / rows * 1e6:.0f} | {scpu / rows * 1e6:.0f} | "
            f"{r['requests']:,} | {r['failed']} | {r['lost']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="2000,10000", help="comma-separated row counts")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--cases", default="grouped,single,cold,warm",
                        help="comma-separated: grouped, single, cold, warm")
    parser.add_argument("--before", default=None, metavar="REV",
                        help="also measure agcloud_magic/ as of this git revision")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 500 rows, 2 runs")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    parser.add_argument("--server-pid", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--label", default="", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.quick:
        opts.rows, opts.runs = "500", 2
    if opts.child:
        child(opts)
        return

    from _standin_proc import counted_standin

    root = HERE.parent
    with tempfile.TemporaryDirectory() as scratch, counted_standin(first_token=0.0) as standin:
        trees = []
        if opts.before:
            before = Path(scratch) / "before"
            before.mkdir()
            archive = subprocess.run(["git", "archive", opts.before, "agcloud_magic"],
                                     cwd=root, capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(before)], input=archive, check=True)
            trees.append((f"before ({opts.before})", before))
        trees.append(("this tree", root))
        print(f"stand-in: no latency, no rate limit; rows {opts.rows}, {opts.runs} runs, "
              f"concurrency {opts.concurrency}", file=sys.stderr, flush=True)
        results = []
        for label, tree in trees:
            results += run_tree(label, tree, opts, standin)
    print(table(results))
    print()
    print(f"Goal: client CPU under {GOAL_US:.0f} µs a row with many rows a request.")


if __name__ == "__main__":
    main()
