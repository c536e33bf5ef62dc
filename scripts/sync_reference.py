"""Keep tests/reference/ in step with the shared reference (../shared/reference/).

The tests read only their vendored copy, so a clone of this repository alone passes its own
tests.  This script is the one way that copy changes: it copies the JSON Schema and every
recorded fixture (with INDEX.json and the gateway captures' README, their provenance) and
writes MANIFEST.json (file -> sha256) so a drift is visible in review.

    python scripts/sync_reference.py            # copy from ../shared/reference
    python scripts/sync_reference.py --check    # exit 1, naming the files, if they differ
    python scripts/sync_reference.py --source PATH
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET = REPO / "tests" / "reference"
# What the tests use; the prose notes (protocol, peers, style) stay in the shared folder.
WANTED = ("openapi-responses.schema.json", "fixtures")


def default_source() -> Path:
    """``shared/reference`` beside the clone, where the workplace lays it."""
    return REPO.parent / "shared" / "reference"


def wanted_files(root: Path) -> dict[str, Path]:
    """Relative POSIX path -> file, for everything under ``WANTED`` in ``root``."""
    files: dict[str, Path] = {}
    for name in WANTED:
        top = root / name
        paths = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for path in paths:
            files[path.relative_to(root).as_posix()] = path
    return files


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest(files: dict[str, Path]) -> dict[str, str]:
    return {name: digest(path) for name, path in sorted(files.items())}


def differences(source: Path, target: Path) -> list[str]:
    """One line per file that is missing, extra or changed in ``target``."""
    want, have = manifest(wanted_files(source)), manifest(wanted_files(target))
    lines = [f"missing: {n}" for n in want if n not in have]
    lines += [f"extra: {n}" for n in have if n not in want]
    lines += [f"changed: {n}" for n in want if n in have and have[n] != want[n]]
    recorded = target / "MANIFEST.json"
    if not lines and (not recorded.is_file() or json.loads(recorded.read_text()) != want):
        lines.append("MANIFEST.json is out of date")
    return lines


def sync(source: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    files = wanted_files(source)
    for name, path in files.items():
        dest = target / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)  # copyfile: the shared files are read-only, ours need not be
    (target / "MANIFEST.json").write_text(json.dumps(manifest(files), indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=default_source())
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 on a drift")
    args = parser.parse_args(argv)
    if not (args.source / "openapi-responses.schema.json").is_file():
        print(f"sync_reference: no reference at {args.source}; pass --source PATH", file=sys.stderr)
        return 2
    if args.check:
        drift = differences(args.source, TARGET)
        for line in drift:
            print(f"tests/reference out of step with {args.source}: {line}", file=sys.stderr)
        if drift:
            print("run: python scripts/sync_reference.py", file=sys.stderr)
        return 1 if drift else 0
    sync(args.source, TARGET)
    print(f"tests/reference: {len(wanted_files(TARGET))} files from {args.source}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
