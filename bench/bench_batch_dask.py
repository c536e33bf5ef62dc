"""A prompt per row on Dask: 100,000 rows on a two-worker LocalCluster, against pandas.

    PYTHONPATH=. .venv/bin/python bench/bench_batch_dask.py [--rows 100000] [--partitions 20]
        [--configs zero,latency] [--latency-rows 20000] [--first-token 0.2]
        [--tokens-per-second 200] [--pandas-concurrency 8,16] [--quick]

For each stand-in configuration, one stand-in process (``_standin_proc.counted_standin``, no
rate limit) serves, one after the other in the same run:

1. dask: ``distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True)``, a
   dask DataFrame of N distinct rows (``dd.from_pandas(frame, npartitions=P)``) and
   ``ddf.respond.map(TEMPLATE, ROW_SCHEMA, cache=False).compute()`` (package defaults:
   20 rows a request, 8 in flight a partition, 16 across the cluster).  The workers read
   ``AGCLOUD_BASE_URL`` / ``AGCLOUD_API_KEY`` / ``AGCLOUD_MODEL`` from the environment they
   were spawned with: it is set before the cluster starts, and the key is in no task.  Wall
   time includes the graph's submission and the result's transfer, not the cluster's start.
2. pandas: the same N rows through ``frame.respond.map(...)`` in this process, for each
   concurrency of ``--pandas-concurrency``.

The dask result is checked against the pandas one (``assert_frame_equal``: same index,
columns, dtypes and values; the stand-in's answer is a hash of the request's text, and with
N / P a multiple of 20 each partition cuts the rows into the same groups as one process does).
"Lost" rows have neither values nor an error (or are missing from the result); "failed" rows
have an error.  CPU columns are process CPU seconds over the run: this process (the dask
client or the pandas caller), the two workers (``client.run`` of ``process_time``) and the
stand-in (``psutil``).  Everything shares the machine's cores, so "CPU / wall" next to the core
count says whether a run is CPU-bound.  ``zero``: no latency; ``latency``: ``--first-token``
seconds then ``--tokens-per-second`` of output (on ``--latency-rows`` rows: at 16 requests in
flight, 100,000 rows would take ~7 minutes for dask and twice that for pandas).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_batch import ROW_SCHEMA, TEMPLATE, reviews  # noqa: E402

KEY = "sk-test-bench-dask-key-0123456789"


def _cpu(proc: Any) -> float:
    times = proc.cpu_times()
    return times.user + times.system


def _lost_failed(out: Any, rows: int) -> tuple[int, int]:
    failed = int(out["error"].notna().sum())
    lost = int((out["error"].isna() & (out["sentiment"].isna() | out["stars"].isna())).sum())
    return lost + max(0, rows - len(out)), failed


def _warm_imports() -> None:
    import importlib

    for name in ("pandas", "httpx", "agcloud_magic.batching", "agcloud_magic.http.client",
                 "agcloud_magic.engine.session", "agcloud_magic.engine.driver"):
        importlib.import_module(name)


def _worker_cpu() -> float:
    return time.process_time()


def run_dask(frame: Any, partitions: int, standin: Any, server: Any) -> dict[str, Any]:
    import dask.dataframe as dd
    import distributed

    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, worker_dashboard_address=None)
    client = distributed.Client(cluster)
    try:
        ddf = dd.from_pandas(frame, npartitions=partitions)
        lazy = ddf.respond.map(TEMPLATE, ROW_SCHEMA, cache=False)
        # Imports off the clock (each worker still makes its session and pool on the clock).
        client.run(_warm_imports)
        workers0 = client.run(_worker_cpu)
        standin.reset()
        s0, c0, w0 = _cpu(server), time.process_time(), time.perf_counter()
        out = lazy.compute()
        wall = time.perf_counter() - w0
        cpu = time.process_time() - c0
        scpu = _cpu(server) - s0
        workers1 = client.run(_worker_cpu)
        wcpu = sum(workers1[w] - workers0[w] for w in workers1)
        requests = standin.counters()["requests_served"]
    finally:
        client.close()
        cluster.close()
    return {"wall": wall, "cpu": cpu, "workers_cpu": wcpu, "server_cpu": scpu,
            "requests": requests, "out": out}


def run_pandas(frame: Any, concurrency: int, standin: Any, server: Any) -> dict[str, Any]:
    standin.reset()
    s0, c0, w0 = _cpu(server), time.process_time(), time.perf_counter()
    out = frame.respond.map(TEMPLATE, ROW_SCHEMA, cache=False, concurrency=concurrency)
    wall = time.perf_counter() - w0
    return {"wall": wall, "cpu": time.process_time() - c0, "workers_cpu": None,
            "server_cpu": _cpu(server) - s0,
            "requests": standin.counters()["requests_served"], "out": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--partitions", type=int, default=20)
    parser.add_argument("--configs", default="zero,latency", help="zero, latency or both")
    parser.add_argument("--latency-rows", type=int, default=20_000,
                        help="rows for the latency configuration")
    parser.add_argument("--first-token", type=float, default=0.2)
    parser.add_argument("--tokens-per-second", type=float, default=200.0)
    parser.add_argument("--pandas-concurrency", default="8,16")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 2,000 rows in 4 partitions, 1,000 with latency")
    opts = parser.parse_args()
    if opts.quick:
        opts.rows, opts.partitions, opts.latency_rows = 2000, 4, 1000
    concurrencies = [int(c) for c in opts.pandas_concurrency.split(",") if c]

    import pandas as pd
    import psutil
    from _standin_proc import counted_standin

    from agcloud_magic.accessor import register_dask_accessor, register_pandas_accessor

    register_pandas_accessor()
    register_dask_accessor()
    lines = ["| stand-in | rows | run | wall s | rows/s | requests | failed | lost "
             "| equals pandas | caller CPU s | workers CPU s | stand-in CPU s | CPU / wall |",
             "|---|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
    for config in [c for c in opts.configs.split(",") if c]:
        if config == "zero":
            profile: dict[str, Any] = {"first_token": 0.0}
            label, rows = "no latency", opts.rows
        else:
            profile = {"first_token": opts.first_token,
                       "tokens_per_second": opts.tokens_per_second}
            label = f"{opts.first_token:g} s + {opts.tokens_per_second:g} tokens/s"
            rows = opts.latency_rows
        frame = pd.DataFrame({"review": reviews(rows)})
        with tempfile.TemporaryDirectory() as cache_dir, counted_standin(**profile) as standin:
            # Set before the cluster starts: its workers are spawned with this environment.
            os.environ.update(AGCLOUD_BASE_URL=standin.base, AGCLOUD_API_KEY=KEY,
                              AGCLOUD_MODEL="gpt-4o-mini", AGCLOUD_CACHE_DIR=cache_dir)
            server = psutil.Process(standin.proc.pid)
            print(f"{label}: {rows:,} rows, dask ...", file=sys.stderr, flush=True)
            runs = [(f"dask, 2 workers, {opts.partitions} partitions",
                     run_dask(frame, opts.partitions, standin, server))]
            for concurrency in concurrencies:
                print(f"{label}: pandas, concurrency={concurrency} ...", file=sys.stderr,
                      flush=True)
                runs.append((f"pandas, one process, concurrency={concurrency}",
                             run_pandas(frame, concurrency, standin, server)))
        expected = runs[1][1]["out"] if len(runs) > 1 else runs[0][1]["out"]
        for name, r in runs:
            lost, failed = _lost_failed(r["out"], rows)
            try:
                pd.testing.assert_frame_equal(r["out"], expected)
                same = "yes"
            except AssertionError as exc:
                same = f"no ({str(exc).splitlines()[0][:60]})"
            total = r["cpu"] + (r["workers_cpu"] or 0.0) + r["server_cpu"]
            workers = "-" if r["workers_cpu"] is None else f"{r['workers_cpu']:.1f}"
            lines.append(
                f"| {label} | {rows:,} | {name} | {r['wall']:.1f} | {rows / r['wall']:,.0f} | "
                f"{r['requests']:,} | {failed} | {lost} | {same} | {r['cpu']:.1f} | {workers} "
                f"| {r['server_cpu']:.1f} | {total / r['wall']:.2f} |")
            print(f"  {name}: {r['wall']:.1f} s", file=sys.stderr, flush=True)
    print(f"Machine: {os.cpu_count()} cores.")
    print()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
