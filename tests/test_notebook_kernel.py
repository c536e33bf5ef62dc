"""%%respond in a real kernel (nbclient): it streams, and the final output holds the answer."""

from __future__ import annotations

import time

import nbformat
import pytest
from nbclient import NotebookClient

from agcloud_magic.standin import serve

pytestmark = pytest.mark.kernel

PAYLOAD = '<img src=x onerror="window.__agc_pwned=1"> and <script>window.__agc_pwned=2</script>'


class RecordingClient(NotebookClient):
    """Records every IOPub message kind with its arrival time."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen: list[tuple[float, int, str, dict]] = []

    def process_message(self, msg, cell, cell_index):
        content = msg.get("content", {})
        self.seen.append((time.monotonic(), cell_index, msg["msg_type"], content))
        return super().process_message(msg, cell, cell_index)


def execute(cells: list[str], monkeypatch, srv) -> tuple[nbformat.NotebookNode, RecordingClient]:
    monkeypatch.setenv("AGCLOUD_BASE_URL", srv.base_url)
    monkeypatch.setenv("AGCLOUD_API_KEY", "sk-test-kernel-key-000000")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    client = RecordingClient(nb, kernel_name="python3", timeout=120)
    client.execute()
    return nb, client


def display_messages(client, cell_index):
    return [
        m
        for m in client.seen
        if m[1] == cell_index and m[2] in ("display_data", "update_display_data")
    ]


@pytest.mark.parametrize("nest_asyncio", [False, True])
def test_answer_streams_and_final_output_holds_it(monkeypatch, nest_asyncio):
    with serve(token_delay=0.01) as srv:
        setup = "%load_ext agcloud_magic"
        if nest_asyncio:
            setup = "import nest_asyncio\nnest_asyncio.apply()\n" + setup
        nb, client = execute(
            [
                setup,
                "%%respond -m lorem-300 -o answer\nWrite at length.",
                "print(len(answer.text)); print(answer.status)",
            ],
            monkeypatch,
            srv,
        )
    messages = display_messages(client, 1)
    assert len(messages) >= 4, "several display updates arrive before the end"
    outputs = nb.cells[1].outputs
    final = [o for o in outputs if o.output_type == "display_data" and o.data.get("text/plain")]
    length, status = nb.cells[2].outputs[0].text.split()
    assert status == "completed"
    assert len(final[-1].data["text/plain"]) == int(length)
    assert final[-1].metadata["agcloud_magic"]["response_id"].startswith("resp_")
    assert "text/markdown" not in str([o.get("data", {}).keys() for o in outputs])
    # First words visible well before the last ones (streaming, not one block at the end).
    first, last = messages[0][0], messages[-1][0]
    assert last - first > 0.5


def test_model_html_is_inert_in_the_output(monkeypatch):
    with serve() as srv:
        nb, client = execute(
            ["%load_ext agcloud_magic", f"%%respond\nRepeat: {PAYLOAD}"], monkeypatch, srv
        )
    payloads = [str(m[3].get("data", {})) for m in display_messages(client, 1)]
    assert payloads and any("onerror" in p for p in payloads)  # the text itself is shown...
    for data in (m[3].get("data", {}) for m in display_messages(client, 1)):
        html = data.get("text/html", "")
        assert "<img" not in html and "<script" not in html  # ...but never as live HTML
    final = [o for o in nb.cells[1].outputs if o.get("data", {}).get("text/plain")][-1]
    assert "&lt;img src=x onerror=" in final.data["text/html"]
    assert "&lt;script&gt;" in final.data["text/html"]


def test_the_kernel_runs_the_ipykernel_of_this_environment(monkeypatch):
    """Guards the ipykernel 6 run: the kernel started must be this venv's, not another."""
    from importlib.metadata import version

    with serve() as srv:
        nb, _client = execute(["import ipykernel; print(ipykernel.__version__)"], monkeypatch, srv)
    assert nb.cells[0].outputs[0].text.strip() == version("ipykernel")
