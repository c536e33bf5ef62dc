"""Driving a panel as a person would: type, press Send, wait; read the answers."""

from __future__ import annotations

import time

from agcloud_magic.panel import Panel


def send(panel: Panel, text: str, timeout: float = 30):
    """Type ``text``, press Send, and wait for the answer (``None`` if it failed or stopped)."""
    panel.prompt.value = text
    panel.send.click()
    return panel.wait(timeout)


def answers(panel: Panel) -> list[dict]:
    """The assistant entries of the panel's transcript, oldest first."""
    return [e for e in panel.transcript if e["role"] == "assistant"]


def wait_for(condition, timeout: float = 10.0) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
