"""Terminal IPython (a real `ipython` process): answers print as plain text as they arrive."""

from __future__ import annotations

import os
import subprocess
import sys

from agcloud_magic.standin import serve


def test_terminal_ipython_prints_the_answer_and_footer():
    script = (
        "%load_ext agcloud_magic\n"
        "%respond -m echo What's a kernel?\n"
        "%%respond --format text\n<b>not bold</b> and {1, 2}\n\n\n"
    )
    with serve(token_delay=0.002) as srv:
        env = {**os.environ, "AGCLOUD_BASE_URL": srv.base_url,
               "AGCLOUD_API_KEY": "sk-test-terminal-0000", "TERM": "dumb"}
        out = subprocess.run(
            [sys.executable, "-m", "IPython", "--no-banner", "--colors=NoColor",
             "--HistoryManager.enabled=False", "--InteractiveShell.simple_prompt=True"],
            input=script, capture_output=True, text=True, env=env, timeout=120,
        )
    text = out.stdout
    assert "You said: What's a kernel?" in text, out.stderr[-2000:]
    assert "<b>not bold</b>" in text  # plain text in a terminal, nothing to render
    assert "echo" in text and "tokens" in text  # the footer line
    assert "Traceback" not in text + out.stderr
    assert len([r for r in srv.requests if r.method == "POST"]) == 2
