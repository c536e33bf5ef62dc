"""The main job: stream an answer, then run the demo notebooks in a real kernel.

    python scripts/demo.py            # offline stand-in unless AGCLOUD_API_KEY is set
    python scripts/demo.py --lab      # open JupyterLab with the extension and the stand-in

Without a key it starts the offline stand-in on 127.0.0.1 and tells the kernels where it is
(``AGCLOUD_STANDIN_URL``; the notebooks' ``%agcloud offline auto`` picks it up).  With a key the
same notebooks talk to AGCloud, unedited.  Executed notebooks and HTML renderings land in
``build/demo/``; everything started here is stopped before it exits.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "build" / "demo"


def stream_one_answer(online: bool) -> None:
    """Stream one answer through the package's Python API, printing deltas as they arrive."""
    import agcloud_magic

    def show(event: dict) -> None:
        if event.get("type") == "response.output_text.delta":
            print(event["delta"], end="", flush=True)

    where = "AGCloud" if online else "the offline stand-in (no real model)"
    print(f"== Streaming one answer from {where}:\n")
    result = agcloud_magic.respond(
        "Say hello to a class of data-science students in one sentence.", on_event=show
    )
    usage = result.usage or {}
    print(
        f"\n\n[{result.model} · {usage.get('input_tokens', '?')} in / "
        f"{usage.get('output_tokens', '?')} out tokens · {result.elapsed:.2f} s · id {result.id}]\n"
    )


def run_notebooks(env: dict[str, str], out: Path) -> list[tuple[Path, Path, Path, float]]:
    """Execute every notebook under notebooks/ with a real kernel; write .ipynb + .html."""
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter
    out.mkdir(parents=True, exist_ok=True)
    done = []
    os.environ.update(env)  # the kernels inherit this process's environment
    for source in sorted((REPO / "notebooks").glob("*.ipynb")):
        started = time.monotonic()
        notebook = nbformat.read(source, as_version=4)
        client = NotebookClient(
            notebook, kernel_name="python3", timeout=180, store_widget_state=True,
            resources={"metadata": {"path": str(source.parent)}},
            # The kernel listens on loopback only; its "running over TCP without encryption"
            # warning, once per notebook, is noise here.  Errors are still shown.  (IPC
            # sockets would avoid the warning, but under load they made pyzmq log a
            # "Socket operation on non-socket" traceback at kernel shutdown.)
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
        client.execute()
        executed = out / source.name
        nbformat.write(notebook, executed)
        html, _ = static_exporter(HTMLExporter).from_notebook_node(notebook)
        rendered = executed.with_suffix(".html")
        rendered.write_text(html, encoding="utf-8")
        done.append((source, executed, rendered, time.monotonic() - started))
        print(f"   ran {source.relative_to(REPO)} in {done[-1][3]:.1f} s")
    return done


def static_exporter(exporter_class: Any) -> Any:
    """An HTML exporter that prefers an output's ``text/html`` to its widget view: a widget
    needs a kernel and its manager's script from a CDN, so the exported page is read offline
    through the static copy the panel (and any widget with one) carries."""
    from traitlets.config import Config

    priority = list(exporter_class().default_config.NbConvertBase.display_data_priority)
    priority.remove("text/html")
    return exporter_class(config=Config(
        {"NbConvertBase": {"display_data_priority": ["text/html", *priority]}}))


def shown(path: Path) -> str:
    """``path`` relative to the repository when it is inside it."""
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def open_lab(env: dict[str, str], out: Path) -> None:
    """JupyterLab on 127.0.0.1 with the stand-in configured; Ctrl-C stops both."""
    ipython_dir = out / "ipython"
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-agcloud.py").write_text(
        "get_ipython().run_line_magic('load_ext', 'agcloud_magic')\n"
        "get_ipython().run_line_magic('agcloud', 'offline auto')\n"
    )
    cmd = [sys.executable, "-m", "jupyter", "lab", "--ip=127.0.0.1", "--no-browser",
           f"--ServerApp.root_dir={REPO / 'notebooks'}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    print("== JupyterLab with agcloud_magic loaded in every kernel; Ctrl-C to stop.")
    proc = subprocess.Popen(cmd, env={**os.environ, **env, "IPYTHONDIR": str(ipython_dir)})
    try:
        proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait(15)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", action="store_true", help="open JupyterLab instead")
    parser.add_argument("--out", type=Path, default=BUILD,
                        help="where executed notebooks and their HTML go (default build/demo)")
    args = parser.parse_args()
    online = bool(os.environ.get("AGCLOUD_API_KEY"))
    server = None
    env: dict[str, str] = {}
    if not online:
        from agcloud_magic.standin import StandinServer

        server = StandinServer(port=0, token_delay=0.003)
        server.start()
        env["AGCLOUD_STANDIN_URL"] = server.base_url
        print(f"== No AGCLOUD_API_KEY: offline stand-in running at {server.base_url}")
        # The Python API reads the environment at call time.
        os.environ["AGCLOUD_BASE_URL"] = server.base_url
        os.environ["AGCLOUD_API_KEY"] = "sk-test-offline-demo"
    try:
        if args.lab:
            open_lab(env, args.out)
            return 0
        stream_one_answer(online)
        if not online:  # the kernels find the stand-in through AGCLOUD_STANDIN_URL instead
            del os.environ["AGCLOUD_BASE_URL"], os.environ["AGCLOUD_API_KEY"]
        print("== Running the notebooks in a real kernel:")
        done = run_notebooks(env, args.out.resolve())
        print(f"\n== Done: {len(done)} notebook(s) executed; open these:")
        for _source, executed, rendered, _secs in done:
            print(f"   {shown(executed)}\n   {shown(rendered)}")
        return 0
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
