"""The notebook renderer in a real ipykernel: it streams, stays inert, and ends in one output."""

from __future__ import annotations

import json

import pytest

from .helpers import REPO, execute_in_kernel
from .test_markdown import RENDERER_TAGS, assert_inert

pytestmark = pytest.mark.kernel

ANSWER = (
    "Intro with <img src=x onerror=alert(1)> and <script>alert(2)</script> inside.\n\n"
    + "".join(f"- item {i} with [a link](https://example.org/{i})\n" for i in range(8))
    + "\n```python\nprint('<script>alert(3)</script>')\n```\n\n"
    + "| col | <img src=y onerror=alert(4)> |\n|---|---|\n| 1 | 2 |\n\n"
    + "Closing words " * 60
)
_N = len(ANSWER)
DELTAS = [ANSWER[_N * i // 500 : _N * (i + 1) // 500] for i in range(500)]

KERNEL_CODE = """
import json, time
from agcloud_magic.ipython.renderers import make_renderer, NotebookRenderer
deltas = json.loads({deltas!r})
r = make_renderer()
assert isinstance(r, NotebookRenderer), type(r)
r.start()
for d in deltas:
    r.append(d)
    time.sleep(0.002)
    if r.next_due() == 0:
        r.flush()
r.finish(footer="test-model · 1 in / 500 out tokens · 1.0 s", metadata={{"response_id": "resp_k"}})
"""


def test_notebook_renderer_in_a_real_kernel():
    from jupyter_client.manager import start_new_kernel

    assert len(DELTAS) == 500 and "".join(DELTAS) == ANSWER
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(REPO))
    try:
        _, displays = execute_in_kernel(kc, KERNEL_CODE.format(deltas=json.dumps(DELTAS)))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)

    # Several updates arrived while the answer streamed, not just the end state.
    finals = [i for i, m in enumerate(displays) if "text/plain" in m["data"]]
    assert finals and len(displays[: finals[0]]) >= 4

    # Nothing live in any payload; never text/markdown.
    for m in displays:
        assert "text/markdown" not in m["data"]
        html = m["data"].get("text/html", "")
        assert "<img" not in html and "<script" not in html
        assert_inert(html, RENDERER_TAGS)  # parsed: no on* attribute (onerror=…) on any tag

    # Replay the messages: the cell ends with one output holding the whole answer.
    outputs: dict[str, dict] = {}
    for m in displays:
        outputs[m["transient"]["display_id"]] = m
    shown = [m for m in outputs.values() if m["data"] != {"text/plain": ""}]
    assert len(shown) == 1
    final = shown[0]
    assert final["data"]["text/plain"] == ANSWER
    assert final["metadata"] == {"agcloud_magic": {"response_id": "resp_k"}}
    assert "Closing words" in final["data"]["text/html"]
    assert "test-model · 1 in / 500 out tokens" in final["data"]["text/html"]
