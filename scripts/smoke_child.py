"""The smoke path, run inside a fresh venv that has ``pip install <repo>`` and no extras.

Loads the extension in a real IPython shell, answers a ``%%respond`` cell and a ``--df`` cell
from the offline stand-in, summarises a DataFrame, asks ``df.respond``, and builds the chat
panel from code.  Exits non-zero, naming the step, when anything fails.
"""

from __future__ import annotations

import importlib.util
import sys


def check(ok: bool, step: str) -> None:
    if not ok:
        print(f"smoke: FAILED at: {step}", file=sys.stderr)
        raise SystemExit(1)
    print(f"smoke: ok: {step}")


def main() -> None:
    import agcloud_magic

    check("site-packages" in agcloud_magic.__file__, "the installed package is imported")
    for extra in ("pyarrow", "jsonschema", "pytest", "ipykernel"):
        check(importlib.util.find_spec(extra) is None, f"{extra} is not installed (no extras)")

    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()

    def run(cell: str, step: str) -> None:
        result = ip.run_cell(cell)
        check(result.success and result.error_in_exec is None, step)

    run("%load_ext agcloud_magic", "%load_ext agcloud_magic")
    run("%agcloud offline", "%agcloud offline starts the stand-in")
    run("%%respond -o first\nSay hello to the smoke test.", "%%respond answers")
    check("smoke test" in ip.user_ns["first"].text, "the answer echoes the prompt")
    run("import pandas as pd\n"
        "df = pd.DataFrame({'city': ['Oslo', 'Lima', None], 'qty': [1, 2, 3]})",
        "a DataFrame")
    run("%%respond --df df -o second\nWhich city?", "%%respond --df df")
    check("Oslo" in ip.user_ns["second"].text and "qty" in ip.user_ns["second"].text,
          "the DataFrame summary reached the model")
    run("from agcloud_magic import summarize\nsummary = summarize(df)", "summarize(df)")
    check("3 rows x 2 columns" in ip.user_ns["summary"], "the summary describes the frame")
    run("answer = df.respond('How many rows?')", "df.respond(...)")
    check("How many rows?" in ip.user_ns["answer"].text, "df.respond answered")
    run("from agcloud_magic import Panel\npanel = Panel()", "Panel() built from code")
    check(len(ip.user_ns["panel"].children) > 0, "the panel has its widgets")
    run("%unload_ext agcloud_magic", "%unload_ext agcloud_magic")
    print("smoke: all steps passed")


if __name__ == "__main__":
    main()
