"""Run every benchmark in this folder, one after another, and print their tables.

    .venv/bin/python bench/run_all.py [--quick]

``--quick`` passes smaller sizes/fewer runs where a script supports it (for a smoke run).
jupyter-ai-magics is installed once into build/peer-venv for the %load_ext comparison (or
``AGC_PEER_PYTHON`` names a Python that has it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

SCRIPTS = {
    "bench_client.py": (["--calls", "40"], ["--calls", "8"]),
    "bench_load_ext.py": (["--runs", "9"], ["--runs", "3"]),
    "bench_stream.py": ([], ["--runs", "1"]),
    "bench_render.py": ([], ["--runs", "1"]),
    "bench_pyarrow.py": (["--runs", "7"], ["--sizes", "1e5", "--runs", "2"]),
    "bench_summarize.py": ([], ["--sizes", "1e5,wide", "--runs", "2"]),
    "bench_sse.py": ([], ["--sizes", "1,4", "--runs", "2"]),
    "bench_interrupt.py": ([], ["--after", "1,3", "--runs", "1"]),
    "bench_batch_cpu.py": ([], ["--quick"]),
    "bench_batch_dask.py": ([], ["--quick"]),
}


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    failures = 0
    for script, (full, small) in SCRIPTS.items():
        args = list(small if quick else full)
        if script == "bench_load_ext.py":
            args += ["--peer-python", os.environ.get("AGC_PEER_PYTHON", "auto")]
        print(f"\n### {script} {' '.join(args)}\n", flush=True)
        code = subprocess.call([sys.executable, str(HERE / script), *args], cwd=HERE.parent)
        failures += code != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
