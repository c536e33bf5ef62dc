"""What ``%load_ext`` costs: ours vs jupyter-ai-magics, over a bare IPython shell start.

    .venv/bin/python bench/bench_load_ext.py [--runs 9] [--peer-python PATH]

Each run is a fresh process that starts an IPython shell, then loads the extension; the table
shows medians of the whole process's wall time and peak RSS, and the extension's own share
(time inside ``%load_ext``, RSS growth).  jupyter-ai-magics is measured with the Python given by
``--peer-python`` (a venv where ``pip install "jupyter-ai-magics<3"`` was run; it is not a
dependency of this project); ``--peer-python auto`` makes that venv under ``build/`` first.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

PEER_VENV = Path(__file__).resolve().parents[1] / "build" / "peer-venv"

PROBE = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from IPython.core.interactiveshell import InteractiveShell
ip = InteractiveShell.instance()
def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20
before, t1 = rss_mib(), time.perf_counter()
ext = sys.argv[1]
if ext != "-":
    ip.run_line_magic("load_ext", ext)
t2 = time.perf_counter()
print(json.dumps({"load_ms": (t2 - t1) * 1000, "shell_ms": (t1 - t0) * 1000,
                  "load_mib": rss_mib() - before,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(python: str, extension: str, runs: int) -> dict[str, float]:
    rows = []
    for _ in range(runs):
        started = time.perf_counter()
        out = subprocess.run([python, "-c", PROBE, extension], capture_output=True, text=True)
        wall = (time.perf_counter() - started) * 1000
        if out.returncode != 0:
            raise RuntimeError(f"{extension} failed to load:\n{out.stderr[-2000:]}")
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row["wall_ms"] = wall
        rows.append(row)
    return {key: statistics.median(r[key] for r in rows) for key in rows[0]}


def peer_python() -> str:
    """A venv with jupyter-ai-magics 2.x (its own deps: LangChain etc.), made once."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        print(f"(creating {PEER_VENV} with jupyter-ai-magics, once)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "jupyter-ai-magics<3",
                        "ipython"], check=True)
    return str(python)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--peer-python", help="python of a venv with jupyter-ai-magics")
    args = parser.parse_args()
    cases = [("bare IPython shell", sys.executable, "-"),
             ("agcloud_magic", sys.executable, "agcloud_magic")]
    if args.peer_python == "auto":
        args.peer_python = peer_python()
    if args.peer_python:
        cases += [("bare IPython shell (peer venv)", args.peer_python, "-"),
                  ("jupyter_ai_magics", args.peer_python, "jupyter_ai_magics")]
    results = {name: measure(python, ext, args.runs) for name, python, ext in cases}
    print(f"%load_ext cost, median of {args.runs} fresh processes\n")
    print("| case | process wall ms | %load_ext ms | RSS added by %load_ext MiB | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['wall_ms']:.0f} | {r['load_ms']:.1f} | {r['load_mib']:.1f} | "
              f"{r['peak_mib']:.0f} |")


if __name__ == "__main__":
    main()
