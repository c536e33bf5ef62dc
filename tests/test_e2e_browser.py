"""The panel in a real browser: JupyterLab (and Notebook 7) on loopback, Debian's Chromium.

Select with ``pytest -m e2e``.  Without ``/usr/bin/chromium`` the tests skip, unless
``AGCLOUD_E2E_REQUIRED=1`` (CI sets it), when they fail.  The notebook uses the stand-in
(``%agcloud offline delay=0.05``), so answers stream slowly enough to be watched.  Screenshots
of the panel mid-answer, done, and in the dark theme go to ``artifacts/``.
"""

from __future__ import annotations

import importlib.util
import os
import time

import pytest

from .e2e_support import (
    ARTIFACTS,
    CHROME_ARGS,
    CHROMIUM,
    JupyterServer,
    browser_missing_reason,
    evidence_on_failure,
    open_and_run_all,
    our_children,
    write_notebook,
)

pytestmark = pytest.mark.e2e

PAYLOAD = '<img src=x onerror="window.__agc_pwned=1"> <script>window.__agc_pwned=2</script>'
FIRST_PROMPT = (
    "Summarise the quarterly sales by region and point out the largest change between the "
    "second and third quarter, then suggest two charts that would show it clearly"
)
CELLS = [
    "%load_ext agcloud_magic",
    "%agcloud offline delay=0.05",
    "import pandas as pd\n"
    "sales = pd.DataFrame({'region': ['north', 'south', 'east', 'west'],\n"
    "                      'q2': [120.5, 98.0, 143.25, 87.5], 'q3': [131.0, 91.5, 160.0, 120.75]})",
    "import agcloud_magic\np = agcloud_magic.Panel()\np",
    # The magic's own output gets the same payload (its own thread keeps the panel's clean).
    f"%%respond --chat xss\nRepeat this: {PAYLOAD}",
]
# Count answers the echo model finished: "Received: ..." is its last line.
ANSWERS_JS = """(n) => {
  const box = document.querySelector('.agc-transcript');
  const send = document.querySelector('.agc-send');
  const done = box && (box.innerText.match(/Received:/g) || []).length >= n;
  return done && send && !send.disabled;
}"""
# Relative luminance (0 dark .. 1 light) of a computed CSS colour.
LUMINANCE_JS = """([selector, prop]) => {
  const el = document.querySelector(selector);
  const rgb = getComputedStyle(el)[prop].match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lin = rgb.map(v => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
}"""


@pytest.fixture(scope="module")
def browser():
    reason = browser_missing_reason()
    if reason:
        if os.environ.get("AGCLOUD_E2E_REQUIRED") == "1":
            pytest.fail(f"browser test required (AGCLOUD_E2E_REQUIRED=1) but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    before = {p.pid for p in our_children()}
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROME_ARGS
        )
        yield chromium
        chromium.close()
    # Playwright's driver and Chromium are gone (give the OS a moment to reap them).
    deadline = time.monotonic() + 10
    while (left := [p for p in our_children() if p.pid not in before]) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.2)
    assert not left, f"browser processes left behind: {left}"


@pytest.fixture(scope="module", params=["lab", "notebook"])
def server(request):
    if request.param == "notebook" and importlib.util.find_spec("notebook") is None:
        # Lab is the required front end; Notebook 7 is checked where it is installed.
        pytest.skip("Notebook 7 is not installed (pip install notebook)")
    srv = JupyterServer(request.param)
    write_notebook(srv.root / "e2e.ipynb", CELLS)
    srv.start()
    yield srv
    srv.stop()
    assert srv.survivors == [], f"processes outlived the server: {srv.survivors}"


@pytest.fixture(scope="module")
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    with evidence_on_failure(page, server, f"{server.app}-open"):
        open_and_run_all(page, server, "e2e.ipynb", ".agc-prompt textarea")
    yield page
    context.close()


def shot(server: JupyterServer, name: str) -> str:
    """Where a screenshot goes: the README's come from Lab, Notebook 7's get a suffix."""
    ARTIFACTS.mkdir(exist_ok=True)
    suffix = "" if server.app == "lab" else f"-{server.app}"
    return str(ARTIFACTS / f"{name}{suffix}.png")


def test_panel_streams_renders_inert_and_sends_with_ctrl_enter(page, server):
    from playwright.sync_api import expect

    panel = page.locator(".agc-panel")
    transcript = page.locator(".agc-transcript")
    prompt = page.locator(".agc-prompt textarea")
    send = page.locator(".agc-send")
    with evidence_on_failure(page, server, f"{server.app}-panel"):
        # 0. The kernel's DataFrames are listed; picking one previews what would be sent.
        # (Not sent here: the echo model would restate the whole summary, slowly.)
        picker = page.locator(".agc-df-picker select")
        preview = page.locator(".agc-df-preview")
        picker.select_option("sales")
        expect(preview).to_contain_text("sales: ")
        preview.locator("summary").click()
        expect(preview.locator("pre")).to_contain_text("q3")
        picker.select_option([])
        expect(preview).to_have_text("")

        # 1. The answer streams in: the first chunk shows before the last one.
        prompt.fill(FIRST_PROMPT)
        send.click()
        expect(transcript).to_contain_text("Turn 1 of this conversation", timeout=15_000)
        partial = transcript.inner_text()
        panel.screenshot(path=shot(server, "panel-streaming"))
        after_shot = transcript.inner_text()
        page.wait_for_function(ANSWERS_JS, arg=1, timeout=30_000)
        assert "Received:" not in partial and "Received:" not in after_shot, "not mid-answer"
        expect(page.locator(".agc-usage")).to_contain_text("tokens")
        assert "third quarter" in transcript.inner_text()
        assert page.locator(".agc-error").inner_text().strip() == ""
        expect(prompt).to_have_value("")
        panel.screenshot(path=shot(server, "panel-done"))

        # 2. Model text with live HTML in it renders as text: nothing runs, no img exists.
        prompt.fill(f"Please repeat {PAYLOAD} verbatim")
        send.click()
        page.wait_for_function(ANSWERS_JS, arg=2, timeout=30_000)
        assert "Turn 2 of this conversation" in transcript.inner_text()
        page.wait_for_timeout(500)  # an onerror handler would have fired by now
        assert page.evaluate("window.__agc_pwned") is None
        assert transcript.locator("img").count() == 0
        assert transcript.locator("script").count() == 0
        assert "<img src=x" in transcript.inner_text()

        # 3. Ctrl+Enter sends (and does not re-run the notebook cell around the panel).
        cell_prompt = page.locator(".jp-Notebook .jp-InputPrompt").nth(3).inner_text()
        prompt.fill("sent with the keyboard shortcut")
        prompt.press("Control+Enter")
        page.wait_for_function(ANSWERS_JS, arg=3, timeout=30_000)
        assert "Turn 3 of this conversation" in transcript.inner_text()
        expect(prompt).to_have_value("")
        assert page.locator(".agc-panel").count() == 1
        assert page.locator(".jp-Notebook .jp-InputPrompt").nth(3).inner_text() == cell_prompt

        # 4. The dark theme: light text on a dark panel.
        page.evaluate(
            "window.jupyterapp.commands.execute('apputils:change-theme', "
            "{theme: 'JupyterLab Dark'})"
        )
        page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'")
        page.wait_for_timeout(300)
        background = page.evaluate(LUMINANCE_JS, [".agc-panel", "backgroundColor"])
        text = page.evaluate(LUMINANCE_JS, [".agc-transcript .agc-md", "color"])
        assert background < 0.2 < 0.5 < text, (background, text)
        panel.screenshot(path=shot(server, "panel-dark"))
        page.evaluate(
            "window.jupyterapp.commands.execute('apputils:change-theme', "
            "{theme: 'JupyterLab Light'})"
        )
        page.wait_for_function("() => document.body.dataset.jpThemeLight === 'true'")
        background = page.evaluate(LUMINANCE_JS, [".agc-panel", "backgroundColor"])
        text = page.evaluate(LUMINANCE_JS, [".agc-transcript .agc-md", "color"])
        assert text < 0.2 < 0.5 < background, (background, text)

        # 5. Stop: the answer stops where it was, marked, and the panel is ready again.
        prompt.fill(FIRST_PROMPT + " " + FIRST_PROMPT)
        send.click()
        expect(transcript).to_contain_text("Turn 4 of this conversation", timeout=15_000)
        page.locator(".agc-stop").click()
        expect(transcript).to_contain_text("stopped", timeout=2_000)
        expect(send).to_be_enabled(timeout=2_000)
        assert (transcript.inner_text().count("Received:")) == 3
        # Nothing went to stderr anywhere on the page (no traceback in some other cell).
        assert page.locator('[data-mime-type="application/vnd.jupyter.stderr"]').count() == 0


def test_respond_cell_output_is_inert(page, server):
    from playwright.sync_api import expect

    with evidence_on_failure(page, server, f"{server.app}-respond"):
        output = page.locator(".jp-Notebook .jp-Cell").nth(4).locator(".jp-OutputArea")
        expect(output).to_contain_text("Repeat this", timeout=30_000)
        page.wait_for_timeout(500)
        assert page.evaluate("window.__agc_pwned") is None
        assert "<img src=x" in output.inner_text()
        assert output.locator("img").count() == 0
        assert output.locator("script").count() == 0
