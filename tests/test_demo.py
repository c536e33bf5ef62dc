"""`make demo`'s script, run as a newcomer runs it: offline (no key), every notebook executed
in a real kernel, and nothing on its output that looks like a problem."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .helpers import REPO

pytestmark = pytest.mark.kernel


def test_demo_runs_offline_and_prints_no_kernel_warnings(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGCLOUD_")}
    done = subprocess.run([sys.executable, "scripts/demo.py", "--out", str(tmp_path)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "No AGCLOUD_API_KEY: offline stand-in running" in output
    notebooks = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
    assert f"Done: {len(notebooks)} notebook(s) executed" in output
    for name in notebooks:
        assert (tmp_path / name).is_file() and (tmp_path / name).with_suffix(".html").is_file()
    # The kernel's "running over TCP without encryption" warning, once per notebook, was the
    # first thing a newcomer saw; warnings and tracebacks have no place in the demo's output.
    for noise in ("WARNING", "Traceback", "without encryption"):
        assert noise not in output
