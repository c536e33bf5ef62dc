"""Every demo notebook runs top to bottom offline with a real kernel, with real answers."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from agcloud_magic.standin import serve

pytestmark = pytest.mark.kernel

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_the_four_demo_notebooks_exist():
    names = {path.stem for path in NOTEBOOKS}
    assert {"quickstart", "dataframe_summary", "teaching_demo", "tools"} <= names


def _first_line(source: str) -> str:
    return source.lstrip().splitlines()[0] if source.strip() else ""


def asks_the_model(source: str) -> bool:
    first = _first_line(source)
    return (first.startswith(("%%respond", "%respond")) and "--dry-run" not in first
            and "--each" not in first)


def runs_a_batch(source: str) -> bool:
    first = _first_line(source)
    return first.startswith("%%respond") and "--each" in first and "--dry-run" not in first


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_offline(path, monkeypatch):
    monkeypatch.delenv("AGCLOUD_API_KEY", raising=False)
    monkeypatch.delenv("AGCLOUD_BASE_URL", raising=False)
    with serve() as srv:
        monkeypatch.setenv("AGCLOUD_STANDIN_URL", srv.base_url)
        notebook = nbformat.read(path, as_version=4)
        NotebookClient(
            notebook,
            kernel_name="python3",
            timeout=120,
            resources={"metadata": {"path": str(path.parent)}},
        ).execute()
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    first_text = "".join(o.get("text", "") for o in code_cells[0].outputs)
    assert "Offline" in first_text and "not a real model" in first_text
    answered = replayed = 0
    replaying = False  # between %agcloud replay FILE and replay stop: a cassette answers
    for cell in code_cells:
        if "%agcloud replay " in cell.source:
            replaying = "%agcloud replay stop" not in cell.source
        for output in cell.outputs:
            assert output.output_type != "error", f"{path.name}: {cell.source[:60]!r} raised"
            assert "Traceback" not in output.get("text", "")
        if asks_the_model(cell.source):
            answers = [
                o.data.get("text/plain", "")
                for o in cell.outputs
                if o.output_type == "display_data" and "agcloud_magic" in o.get("metadata", {})
            ]
            assert answers and answers[-1].strip(), (
                f"{path.name}: empty answer for {cell.source[:60]!r}"
            )
            answered += 1
            replayed += replaying
        if runs_a_batch(cell.source):
            # A prompt per row shows its result frame (an HTML table with the error column)
            # under the progress bar's summary, not a chat answer.
            tables = [o.data.get("text/html", "") for o in cell.outputs
                      if o.output_type in ("display_data", "execute_result")]
            assert any("<table" in t and "error" in t for t in tables), (
                f"{path.name}: no result frame for {cell.source[:60]!r}"
            )
    assert answered >= 2
    assert len([r for r in srv.requests if r.method == "POST"]) >= answered - replayed
