"""Helpers for the real-browser tests: a JupyterLab server on loopback and Playwright waits.

Follows ``shared/recipes/browser-test.md``: the server runs on 127.0.0.1 with a token and its
own temporary config/runtime/IPython dirs (so no user settings leak in), Lab's news popup is
switched off, the browser is Debian's Chromium (``playwright install`` is never run), and
clean-up stops only what was started here, by PID, then checks that nothing survived.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROME_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

# The notebook's kernel exists and is idle (works in Lab and Notebook 7 when the app is exposed).
KERNEL_IDLE_JS = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle';
}"""
# Every cell has run ([n]:) and the kernel is idle again.
ALL_RUN_JS = """() => {
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-InputPrompt')];
  const numbered = prompts.length > 0
    && prompts.every(p => /^\\[\\d+\\]:$/.test(p.textContent.trim()));
  const ind = document.querySelector('.jp-Notebook-ExecutionIndicator');
  return numbered && (!ind || ind.getAttribute('data-status') === 'idle');
}"""


def browser_missing_reason() -> str | None:
    """Why the browser test cannot run here, or None when it can."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright (Python) is not installed"
    return None


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_notebook(path: Path, cells: list[str]) -> None:
    """A notebook of code cells with the python3 kernelspec."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, str(path))


class JupyterServer:
    """``jupyter lab`` (or ``notebook``) on 127.0.0.1 with a token, in temporary dirs."""

    def __init__(self, app: str = "lab") -> None:
        self.app = app
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.tmp = tempfile.TemporaryDirectory(prefix="agc-e2e-")
        base = Path(self.tmp.name)
        self.root = base / "root"
        self.root.mkdir()
        self.log_path = base / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.kids: list[Any] = []
        self.survivors: list[Any] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def page_url(self, notebook: str) -> str:
        where = "lab/tree" if self.app == "lab" else "notebooks"
        return f"{self.url}/{where}/{notebook}?token={self.token}"

    def start(self, timeout: float = 60.0) -> JupyterServer:
        base = Path(self.tmp.name)
        config = base / "config"
        (config / "labconfig").mkdir(parents=True)
        # Lab's "get notified about news?" popup would cover the bottom right of the page.
        news = "@jupyterlab/apputils-extension:announcements"
        (config / "labconfig" / "page_config.json").write_text(
            json.dumps({"disabledExtensions": {news: True}})
        )
        app_class = "LabApp" if self.app == "lab" else "JupyterNotebookApp"
        # ``python -m jupyterlab`` rather than ``jupyter lab``: the latter looks for a
        # ``jupyter-lab`` script, which the ipykernel 6 environment (it reuses .venv's
        # packages, see the Makefile) does not have.
        cmd = [
            sys.executable,
            "-m",
            "jupyterlab" if self.app == "lab" else "notebook",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--port-retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            f"--{app_class}.expose_app_in_browser=True",
        ]
        if self.app == "lab":
            cmd += [
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                "--LabApp.extension_manager=readonly",
                "--LabApp.news_url=",
            ]
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(config),
            "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
            "IPYTHONDIR": str(base / "ipython"),
            # The kernel imports this checkout (also when it is not pip-installed).
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p
            ),
        }
        # No real key may reach the kernel: the notebook uses %agcloud offline.
        env.pop("AGCLOUD_API_KEY", None)
        env.pop("AGCLOUD_BASE_URL", None)
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter {self.app} exited at start:\n{self.log()}")
            if self._api("GET", "/api/status") is not None:
                return self
            if time.monotonic() > deadline:
                raise RuntimeError(f"jupyter {self.app} not ready in {timeout} s:\n{self.log()}")
            time.sleep(0.2)

    def _api(self, method: str, path: str) -> bytes | None:
        request = urllib.request.Request(
            self.url + path, method=method, headers={"Authorization": f"token {self.token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.read()
        except (urllib.error.URLError, OSError):
            return None

    def log(self, tail: int = 4000) -> str:
        try:
            return self.log_path.read_text("utf-8", "replace")[-tail:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Shut down the server and its kernels; kill by PID what outlives that."""
        import psutil

        proc = self.proc
        if proc is None:
            return
        self.proc = None
        try:
            # Kernels run in their own sessions: remember them to check they went away too.
            self.kids = psutil.Process(proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            self.kids = []
        self._api("POST", "/api/shutdown")
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        _, alive = psutil.wait_procs(self.kids, timeout=5)
        self.survivors = [p for p in alive if _alive(p)]
        for p in self.survivors:
            with contextlib.suppress(psutil.Error):
                p.kill()
        self.tmp.cleanup()


def _alive(process: Any) -> bool:
    import psutil

    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def our_children() -> list[Any]:
    """Processes this test process started that are still running (zombies ignored)."""
    import psutil

    return [p for p in psutil.Process().children(recursive=True) if _alive(p)]


def open_and_run_all(page: Any, server: JupyterServer, notebook: str, widget: str) -> None:
    """Open ``notebook``, wait for its kernel, run all cells, wait until all have run."""
    page.goto(server.page_url(notebook))
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
    page.wait_for_function(KERNEL_IDLE_JS, timeout=60_000)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.locator(widget).first.wait_for(timeout=60_000)
    page.wait_for_function(ALL_RUN_JS, timeout=90_000)
    if page.locator(".jp-Dialog").count():
        raise AssertionError("a dialog opened while running the notebook")


@contextlib.contextmanager
def evidence_on_failure(page: Any, server: JupyterServer, name: str) -> Iterator[None]:
    """On failure: save a screenshot under artifacts/ and print the server log."""
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        with contextlib.suppress(Exception):
            page.screenshot(path=str(ARTIFACTS / f"e2e-failure-{name}.png"), full_page=True)
        print(f"--- jupyter server log (tail) ---\n{server.log()}")
        raise
