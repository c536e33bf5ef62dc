#!/usr/bin/env bash
# A plain `pip install <repo>` (no extras) into a fresh venv, then the smoke path
# (scripts/smoke_child.py): the extension, %%respond and --df against the offline stand-in,
# summarize(), df.respond(), the panel built from code.  Catches a runtime dependency that only
# the dev extra provides (pyarrow once did).  Run by `make test`, so by CI.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --upgrade pip
"$work/venv/bin/python" -m pip install -q "$repo"
# From an empty directory, so the repository's source tree cannot be imported by accident.
cd "$work"
env -u AGCLOUD_API_KEY -u AGCLOUD_BASE_URL "$work/venv/bin/python" "$repo/scripts/smoke_child.py" \
  | grep '^smoke:'
