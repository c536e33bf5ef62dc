"""The re-run rule in a real kernel, keyed by the cell id a front end sends (metadata.cellId)."""

from __future__ import annotations

import pytest
from jupyter_client.manager import start_new_kernel

pytestmark = pytest.mark.kernel


class Kernel:
    """A real ipykernel driven the way JupyterLab drives it (execute_request + cellId)."""

    def __init__(self) -> None:
        self.manager, self.client = start_new_kernel(kernel_name="python3")

    def run(self, code: str, cell_id: str | None = None) -> str:
        content = {"code": code, "silent": False, "store_history": True,
                   "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}
        msg = self.client.session.msg("execute_request", content)
        if cell_id:
            msg["metadata"]["cellId"] = cell_id
        self.client.shell_channel.send(msg)
        text = ""
        while True:
            reply = self.client.get_iopub_msg(timeout=60)
            if reply["parent_header"].get("msg_id") != msg["header"]["msg_id"]:
                continue
            kind = reply["msg_type"]
            if kind == "stream":
                text += reply["content"]["text"]
            elif kind == "error":
                raise AssertionError("\n".join(reply["content"]["traceback"]))
            elif kind == "status" and reply["content"]["execution_state"] == "idle":
                return text

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def test_rerun_rule_with_front_end_cell_ids(standin):
    kernel = Kernel()
    try:
        kernel.run(f"import os\nos.environ['AGCLOUD_BASE_URL'] = {standin.base_url!r}\n"
                   "os.environ['AGCLOUD_API_KEY'] = 'sk-test-rerun-0000'\n"
                   "%load_ext agcloud_magic\n%config RespondMagics.format = 'text'")
        for cell in ("A", "B", "C", "B"):  # run A, B, C, then re-run B
            kernel.run(f"%%respond\nprompt {cell}", cell_id=f"cell-{cell}")
        history = kernel.run("%agcloud history")
    finally:
        kernel.close()
    assert "2 turn(s)" in history, history
    assert "prompt A" in history and "prompt B" in history and "prompt C" not in history
    assert "cell-A" in history and "cell-B" in history
    bodies = [r.body for r in standin.requests if r.method == "POST"]
    # B' chains onto A, like the first B did, not onto C.
    assert bodies[3]["previous_response_id"] == bodies[1]["previous_response_id"]
