"""The panel's display carries a static, inert HTML copy of its transcript, updated as answers
settle, so a saved or exported notebook shows the conversation without a kernel."""

from __future__ import annotations

import pytest

from agcloud_magic.standin import serve

from .test_notebook_kernel import execute

pytestmark = pytest.mark.kernel


def test_a_saved_notebook_holds_the_transcript_as_inert_html(monkeypatch):
    with serve() as srv:
        srv.script([{"text": "Penguins <script>alert(1)</script> **swim**."}])
        nb, _ = execute(["%load_ext agcloud_magic",
                         "import agcloud_magic\npanel = agcloud_magic.Panel()\npanel",
                         'panel.prompt.value = "One penguin fact?"\npanel.send.click()\n'
                         "result = panel.wait(timeout=60)\nprint(result is not None)"],
                        monkeypatch, srv)
    (shown,) = [o for o in nb.cells[1].outputs if o.get("output_type") == "display_data"]
    data = shown["data"]
    assert "application/vnd.jupyter.widget-view+json" in data  # the live widget, as before
    html = data["text/html"]  # updated after the answer settled, in place
    assert "agcloud-magic-panel-static" in html and "One penguin fact?" in html
    assert "<strong>swim</strong>" in html  # Markdown rendered
    assert "<script>" not in html and "alert(1)" in html  # the model's HTML is inert
    assert nb.cells[2].outputs[0]["text"].strip() == "True"
