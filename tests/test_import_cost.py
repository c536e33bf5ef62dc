"""Importing the package and loading the extension stay cheap: no heavy modules until needed."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["pandas", "ipywidgets", "httpx", "numpy", "markdown_it", "dask", "distributed"]


def modules_after(code: str) -> set[str]:
    probe = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_does_not_load_heavy_modules():
    loaded = modules_after("import agcloud_magic")
    assert not [m for m in HEAVY if m in loaded]


def test_load_ext_does_not_load_heavy_modules():
    code = (
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "before = set(__import__('sys').modules)\n"
        "ip.run_line_magic('load_ext', 'agcloud_magic')\n"
        "assert 'respond' in ip.magics_manager.magics['cell']\n"
        "assert 'agcloud' in ip.magics_manager.magics['line']\n"
    )
    loaded = modules_after(code)
    # asyncio (and ssl with it) load with the first request, not at %load_ext.
    assert not [m for m in [*HEAVY, "asyncio", "ssl"] if m in loaded]


def test_lazy_public_names_resolve():
    import agcloud_magic

    assert callable(agcloud_magic.respond)
    assert agcloud_magic.Client.__name__ == "Client"
    assert "respond" in dir(agcloud_magic)
