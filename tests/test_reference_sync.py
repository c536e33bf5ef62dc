"""The vendored reference (tests/reference) is what its manifest says, and drift is caught."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from .helpers import REPO, reference_path


def _sync_module():
    script = REPO / "scripts" / "sync_reference.py"
    spec = importlib.util.spec_from_file_location("sync_reference", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_vendored_files_match_their_manifest():
    sync = _sync_module()
    # Compared with itself: only MANIFEST.json can disagree, i.e. a file was edited by hand.
    assert sync.differences(reference_path(), reference_path()) == []
    names = set(sync.manifest(sync.wanted_files(reference_path())))
    assert "openapi-responses.schema.json" in names
    assert "fixtures/INDEX.json" in names and "fixtures/gateways/README.md" in names


def test_a_changed_missing_or_extra_file_is_reported(tmp_path: Path):
    sync = _sync_module()
    source, target = tmp_path / "shared", tmp_path / "vendored"
    shutil.copytree(reference_path(), source)
    sync.sync(source, target)
    assert sync.differences(source, target) == []
    (source / "fixtures" / "stream-text-basic.sse").write_bytes(b"event: x\n\n")
    (source / "fixtures" / "new.sse").write_bytes(b"")
    (target / "fixtures" / "INDEX.json").unlink()
    (source / "fixtures" / "INDEX.json").write_text("{}")
    (target / "fixtures" / "stale.jsonl").write_text("")
    assert sorted(sync.differences(source, target)) == [
        "changed: fixtures/stream-text-basic.sse",
        "extra: fixtures/stale.jsonl",
        "missing: fixtures/INDEX.json",
        "missing: fixtures/new.sse",
    ]
    sync.sync(source, target)
    assert sync.differences(source, target) == []
