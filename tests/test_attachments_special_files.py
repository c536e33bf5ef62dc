"""Only regular files are attached, and never read past the limit (issue: hostile input).

``--file /dev/zero`` and ``--image /dev/urandom`` used to read until memory ran out (also with
``--dry-run``), a FIFO hung the cell, and ``/proc`` files (which report size 0) were read whole
before their size was checked.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from agcloud_magic.engine.attachments import AttachmentError, file_part, image_part

from .magic_support import posts, run_cell


def _one_line(fn, *args, **kwargs) -> str:
    started = time.monotonic()
    with pytest.raises(AttachmentError) as info:
        fn(*args, **kwargs)
    assert time.monotonic() - started < 5  # it did not read a device or wait on a FIFO
    text = str(info.value)
    assert "\n" not in text
    return text


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused_before_reading(device):
    for attach in (file_part, image_part):
        text = _one_line(attach, device)
        assert "not a regular file" in text and device in text


@pytest.mark.timeout(20)
def test_a_fifo_is_refused_without_waiting(tmp_path: Path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    text = _one_line(file_part, str(fifo))
    assert "not a regular file" in text


def test_a_proc_file_is_read_only_up_to_the_limit():
    text = _one_line(file_part, "/proc/self/status", max_bytes=64)
    assert "over the 64 B limit" in text or "limit" in text


def test_the_magic_says_so_in_one_line_and_sends_nothing(ip, srv):
    run = run_cell(ip, "%%respond --file /dev/zero --dry-run\nsummarise it")
    out = run.stdout + run.stderr + str(run.error or "")
    assert "not a regular file" in out and "Traceback" not in out
    assert posts(srv) == []
