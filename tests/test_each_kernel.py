"""``%%respond --each`` in a real kernel (nbclient): the progress widget and the result frame."""

from __future__ import annotations

import pytest

from agcloud_magic.standin import serve

from .test_notebook_kernel import execute

pytestmark = pytest.mark.kernel

SETUP = """%load_ext agcloud_magic
import pandas as pd
reviews = pd.DataFrame({"text": ["good tea", "bad coffee", "good tea"]})
shape = {"stars": int, "spam": bool}"""


def test_the_progress_widget_ends_on_the_summary_and_the_frame_is_shown(monkeypatch, tmp_path):
    monkeypatch.setenv("AGCLOUD_CACHE_DIR", str(tmp_path / "cache"))
    with serve() as srv:
        cells = [SETUP, "%%respond --each reviews --schema shape -o labels\nReview: {text}",
                 "print(labels.shape, labels['error'].isna().all())"]
        nb, client = execute(cells, monkeypatch, srv)
    outputs = nb.cells[1].outputs
    views = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) == 1  # one bar, updated in place
    assert any("<table" in o.get("data", {}).get("text/html", "") for o in outputs)
    # The widgets' models: comm_open holds each one's state, comm_msg its updates.
    states = [m[3]["data"].get("state", {}) for m in client.seen
              if m[1] == 1 and m[2] in ("comm_open", "comm_msg")]
    labels = [s["value"] for s in states if isinstance(s.get("value"), str)]
    assert labels[-1].startswith("3 rows: 3 done, 0 failed, 0 from cache · ")
    assert 3 in [s.get("value") for s in states]  # the IntProgress ends full
    assert any(s.get("bar_style") == "success" for s in states)
    assert nb.cells[2].outputs[0].text.strip() == "(3, 3) True"


def test_run_all_without_stdin_sends_nothing_over_confirm_rows(monkeypatch, tmp_path):
    # nbclient runs a notebook as Run All does, with no stdin: the batch must not spend.
    monkeypatch.setenv("AGCLOUD_CACHE_DIR", str(tmp_path / "cache"))
    with serve() as srv:
        cells = [SETUP, "%agcloud config confirm_rows=1",
                 "%%respond --each reviews --schema shape -o labels\nReview: {text}",
                 "print('labels' in dir())",
                 "out = reviews.respond.map('Review: {text}', shape, confirm=True)\n"
                 "print(out['error'].isna().all())"]
        nb, _ = execute(cells, monkeypatch, srv)
        sent = srv.requests_served
    text = "".join(o.get("text", "") for o in nb.cells[2].outputs)
    assert "Not sent: send 2 rows as 1 request" in text and "cannot ask" in text
    assert "Traceback" not in text
    assert nb.cells[3].outputs[0].text.strip() == "False"
    assert nb.cells[4].outputs[0].text.strip() == "True"
    assert sent == 1  # only the confirmed call's one request
