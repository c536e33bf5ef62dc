"""The package's shape: its public names, private-or-__all__ modules, and the layer contracts."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import agcloud_magic

PACKAGE = Path(agcloud_magic.__file__).parent
ROOT = PACKAGE.parent

# The names README.md documents for the Python API (section "The magics" / "Python API").
DOCUMENTED = {
    "AGCloudError", "Client", "Conversation", "Panel", "Result", "RetryPolicy", "Settings",
    "StandinServer", "arespond", "batch", "load_ipython_extension", "respond", "serve", "summarize",
    "to_model_text", "unload_ipython_extension",
}


def test_public_names_are_exactly_the_documented_ones():
    assert set(agcloud_magic.__all__) == DOCUMENTED
    public = {n for n in dir(agcloud_magic) if not n.startswith("_")}
    # Subpackages become attributes once imported; they are not part of the API.
    subpackages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert public - subpackages - modules - {"annotations"} == DOCUMENTED
    for name in DOCUMENTED:
        assert getattr(agcloud_magic, name) is not None


def test_every_module_is_private_or_declares_all():
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name.startswith("_") or path.parent.name.startswith("_"):
            continue
        tree = ast.parse(path.read_text("utf-8"))
        names = {t.id for node in tree.body if isinstance(node, ast.Assign)
                 for t in node.targets if isinstance(t, ast.Name)}
        if "__all__" not in names:
            missing.append(str(path.relative_to(ROOT)))
    assert missing == []


def test_the_layer_contracts_hold():
    """import-linter over the installed tree: faces -> engine -> leaves, and IPython,
    ipywidgets and httpx only where they belong (see [tool.importlinter] in pyproject)."""
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe is not None, "import-linter is a dev dependency: pip install -e '.[dev]'"
    run = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "broken" in run.stdout and " 0 broken" in run.stdout
