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


def test_the_exported_demo_shows_the_panel_transcript_offline(tmp_path):
    """The teaching demo's HTML, opened in headless Chromium with every network request
    refused: the panel's transcript is there as readable, inert HTML (a screenshot goes to
    artifacts/)."""
    from .e2e_support import ARTIFACTS, CHROME_ARGS, browser_missing_reason

    env = {k: v for k, v in os.environ.items() if not k.startswith("AGCLOUD_")}
    done = subprocess.run([sys.executable, "scripts/demo.py", "--out", str(tmp_path)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    page_html = (tmp_path / "teaching_demo.html").read_text("utf-8")
    assert "agcloud-magic-panel-static" in page_html
    reason = browser_missing_reason()
    if reason:
        if os.environ.get("AGCLOUD_E2E_REQUIRED") == "1":
            pytest.fail(f"browser check required but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROME_ARGS)
        page = browser.new_page()
        refused = []

        def only_the_file(route):
            if route.request.url.startswith("file://"):
                route.continue_()
            else:
                refused.append(route.request.url)
                route.abort()

        page.route("**/*", only_the_file)
        page.goto((tmp_path / "teaching_demo.html").as_uri())
        static = page.locator(".agcloud-magic-panel-static")
        assert static.count() == 1 and static.is_visible()
        text = static.inner_text()
        assert "Give the class one fun fact about penguins." in text and "thread main" in text
        assert page.evaluate("document.querySelectorAll('.agcloud-magic-panel-static script')"
                             ".length") == 0
        ARTIFACTS.mkdir(exist_ok=True)
        static.screenshot(path=str(ARTIFACTS / "demo-panel-static-offline.png"))
        browser.close()
