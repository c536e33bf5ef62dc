"""One private asyncio loop in a daemon thread: where all async work of the package runs.

Why not the kernel's loop: ipykernel already runs one, magics cannot be async, and
nest-asyncio (archived) breaks httpx/anyio on Python 3.12+.  IPython's own ``%%script`` takes
the same way out.  The loop starts lazily on first use (``%load_ext`` stays cheap and no thread
exists before it is needed), is the same whether or not ``nest_asyncio.apply()`` was called in
the kernel (it is created with ``new_event_loop`` and only ever run from its own thread), and is
stopped at unload and at exit.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["LoopRunner", "T", "get_runner"]

T = TypeVar("T")


class LoopRunner:
    """Owns the private loop thread; :meth:`submit` schedules a coroutine on it."""

    def __init__(self, name: str = "agcloud-magic-loop") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """True while the loop thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def loop(self) -> asyncio.AbstractEventLoop:
        """The private loop, started on first call."""
        with self._lock:
            if self._loop is None or not self.running:
                ready = threading.Event()
                loop = asyncio.new_event_loop()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()
                    # Cancel what is left so streams get closed, then close the loop.
                    pending = asyncio.all_tasks(loop)
                    for task in pending:
                        task.cancel()
                    if pending:
                        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                    loop.run_until_complete(loop.shutdown_asyncgens())
                    loop.close()

                thread = threading.Thread(target=run, name=self._name, daemon=True)
                thread.start()
                ready.wait()
                self._loop, self._thread = loop, thread
            return self._loop

    def in_worker(self, target: Callable[[], None], name: str = "agcloud-magic-worker"
                  ) -> threading.Event:
        """Run blocking ``target`` in a daemon worker thread; the event is set when it ends.

        Used for the blocking face's reads (cancelled through their own
        :class:`~agcloud_magic.http.client.Cancellation`); tools of the async faces run in the
        loop's default executor (``asyncio.to_thread``)."""
        done = threading.Event()

        def run() -> None:
            try:
                target()
            finally:
                done.set()

        threading.Thread(target=run, name=name, daemon=True).start()
        return done

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the private loop and return a thread-safe future at once."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop())

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the loop and join the thread (idempotent)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is not None and thread is not None and thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)


_RUNNER: LoopRunner | None = None


def get_runner() -> LoopRunner:
    """The process-wide runner (one loop per process)."""
    global _RUNNER
    if _RUNNER is None:
        _RUNNER = LoopRunner()
        atexit.register(_RUNNER.stop)
    return _RUNNER
