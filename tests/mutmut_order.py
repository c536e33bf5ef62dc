"""Not tests: a pytest plugin that `make mutants` loads (``PYTEST_PLUGINS``) so that each mutant
runs its test modules fastest first (mutmut's fork-server runner keeps no order).  A killed
mutant then stops at the first quick failure instead of after the slow stand-in tests.
Durations come from mutmut's own stats (``mutmut-stats.json`` in the working directory)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def pytest_collection_modifyitems(session: Any, config: Any, items: list[Any]) -> None:
    stats = Path("mutmut-stats.json")
    if not stats.is_file():
        return
    try:
        durations = json.loads(stats.read_text("utf-8")).get("duration_by_test", {})
    except ValueError:
        return
    # Whole modules move, never single tests: module-scoped fixtures (a shared client closed at
    # the module's end, say) must see their tests together.
    total: dict[str, float] = {}
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        total[module] = total.get(module, 0.0) + durations.get(item.nodeid, 0.0)
    order = {id(item): i for i, item in enumerate(items)}
    items.sort(key=lambda item: (total[item.nodeid.split("::", 1)[0]], order[id(item)]))
