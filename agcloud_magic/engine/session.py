"""The session: settings, conversation, clients and the stand-in it started; runs turns.

Every face drives a turn through here.  The magic calls :meth:`Session.run`, which blocks its
own cell: a worker thread reads the response, events come back in batches, and the main thread
renders them (so display messages belong to the executing cell) and runs tools (user functions
run where user code runs).  The panel and ``arespond`` call :meth:`Session.arun` on the
package's private loop thread; their tools run in a worker thread, so a slow tool never holds
the loop.  The Python API's ``respond`` calls :meth:`Session.respond` on the caller's thread.
All three drive the same steps (:func:`agcloud_magic.engine.driver.turn_steps`).
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import os
import tempfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agcloud_magic.engine.ask import Ask
from agcloud_magic.engine.conversation import Conversation
from agcloud_magic.engine.driver import (
    NULL_SINK,
    Sink,
    drive,
    drive_async,
    drive_blocking,
    turn_steps,
)
from agcloud_magic.engine.exchange import Exchange
from agcloud_magic.engine.meter import Meter
from agcloud_magic.engine.preferences import Preferences
from agcloud_magic.errors import ConfigError
from agcloud_magic.http.settings import Settings
from agcloud_magic.wire.result import Result

if TYPE_CHECKING:  # %load_ext stays cheap: these load when recording or storing is used
    from agcloud_magic.engine.cassette import Recorder
    from agcloud_magic.engine.threadstore import ThreadStore

__all__ = ["Session", "current_session", "set_current_session"]

EventCallback = Callable[[dict[str, Any]], None]
# Clients (connection pools) kept open per session, one per distinct settings.
MAX_CLIENTS = 4
# Offline stores not yet deleted by Session.close; whatever is left goes at interpreter exit.
_OFFLINE_STORES: set[str] = set()


@atexit.register
def _delete_offline_stores() -> None:
    for path in list(_OFFLINE_STORES):
        _delete_store(path)


def _delete_store(path: str) -> None:
    from agcloud_magic.standin.store import remove_store  # loaded already: offline was used

    _OFFLINE_STORES.discard(path)
    remove_store(path)


class Session:
    """One kernel's state: :class:`Preferences`, the key typed at login, the conversation, the
    clients (one per distinct settings, closed by :meth:`close`) and the offline stand-in."""

    def __init__(self, prefs: Preferences | None = None) -> None:
        self.prefs = prefs or Preferences()
        self.conversation = Conversation()
        self.last: Result | None = None
        self.login_key: str | None = None
        self.offline: Any = None  # a stand-in server this session started (has .stop())
        self.offline_key: str | None = None
        self.offline_store: str | None = None  # the stand-in's stored responses, see below
        self._clients: dict[Settings, Any] = {}
        # Asks the person at the front end a yes/no question (a batch over confirm_rows);
        # set by the IPython extension, None elsewhere (scripts are not asked).
        self.confirm: Callable[[str], bool] | None = None
        # Every request of the session, against its budget (the model: for its price).
        self.meter = Meter(self.prefs, default_model=lambda: self.settings().model)
        # Where the threads are kept between kernels (engine.threadstore); None: nowhere.
        self.store: ThreadStore | None = None
        # Where every answered request also goes (%agcloud record), see engine.cassette.
        self.recorder: Recorder | None = None
        # While replaying with "live": the settings unrecorded requests go to instead.
        self.live: Settings | None = None

    # -- settings and clients ----------------------------------------------------------

    def settings(self) -> Settings:
        """Preferences over environment over defaults; the offline/login key over the env's."""
        env = Settings.from_env()
        prefs = self.prefs
        return env.with_(
            api_key=self.offline_key or self.login_key or env.api_key,
            base_url=prefs.base_url,
            model=prefs.model,
            timeout=prefs.timeout,
            deadline=prefs.deadline,
            max_answer_bytes=prefs.max_answer_mb * 2**20,
            max_retries=prefs.max_retries,
            allow_insecure_http=prefs.allow_insecure_http,
        )

    def checked_settings(self) -> Settings:
        """:meth:`settings` after checking the key and base URL (nothing is sent)."""
        settings = self.settings()
        settings.require_key()
        settings.checked_base_url()
        return settings

    def client(self, settings: Settings | None = None) -> Any:
        """The client for ``settings`` (default: the checked settings in force), reused."""
        from agcloud_magic.http.client import Client  # httpx loads on the first request

        settings = settings or self.checked_settings()
        client = self._clients.pop(settings, None) or Client(settings)
        self._clients[settings] = client  # most recently used last
        if self.recorder is not None or self.live is not None:
            client = self._lesson_client(client, settings)
        while len(self._clients) > MAX_CLIENTS:
            # Settings changed (a new base URL, timeout ...): close the least recently used
            # pool rather than keep every one ever made open.
            old = self._clients.pop(next(iter(self._clients)))
            with contextlib.suppress(Exception):
                old.close()
        return client

    def close(self) -> None:
        """Close every client, stop the stand-in this session started, delete its store."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            with contextlib.suppress(Exception):
                client.close()
        if self.offline is not None:
            with contextlib.suppress(Exception):
                self.offline.stop()
        self.offline = self.offline_key = None
        if self.offline_store is not None:
            _delete_store(self.offline_store)
            self.offline_store = None

    # -- the offline stand-in -------------------------------------------------------------

    def start_offline(self, token_delay: float = 0.0) -> Any:
        """Start the offline stand-in (once) and return it.

        Its stored responses live in one file per session in the temp dir
        (``agcloud-standin-<pid>-<random>.jsonl``, owner-only), so stopping and starting
        offline mode again continues the conversation.  :meth:`close` (``%unload_ext``)
        deletes the file, and so does interpreter exit."""
        if self.offline is None:
            from agcloud_magic.standin import StandinServer  # loads only when offline is used

            if self.offline_store is None:
                fd, path = tempfile.mkstemp(prefix=f"agcloud-standin-{os.getpid()}-",
                                            suffix=".jsonl")
                os.close(fd)
                self.offline_store = path
                _OFFLINE_STORES.add(path)
            self.offline = StandinServer(
                port=0, token_delay=token_delay, store_path=self.offline_store
            ).start()
        return self.offline

    # -- turns ---------------------------------------------------------------------------

    def preview(self, ask: Ask) -> dict[str, Any]:
        """The first request body ``ask`` would send (nothing is sent or recorded)."""
        body = Exchange(self.conversation, self._carried(ask)).first_body()
        body.setdefault("model", self.settings().model)
        return body

    def run(self, ask: Ask, renderer: Any) -> Result:
        """Run ``ask`` to the end, rendering as it streams; the caller's thread blocks.

        Expected failures raise :class:`~agcloud_magic.errors.AGCloudError` subclasses with
        ``partial`` set; an interrupt raises :class:`~agcloud_magic.errors.RequestInterrupted`.
        The thread's head moves only on success (a response cut by ``max_output_tokens`` counts:
        it exists on the server)."""
        client = self.client()
        steps = turn_steps(self.conversation, self._carried(ask), renderer, self._keep_last)
        return drive_blocking(steps, client, renderer, self.meter)

    def respond(
        self, ask: Ask, *, conversation: Conversation | None = None,
        on_event: EventCallback | None = None, client: Any = None,
    ) -> Result:
        """Run ``ask`` on the caller's thread without rendering (the Python API)."""
        client = client or self.client()
        steps = turn_steps(conversation or Conversation(), ask, NULL_SINK, None)
        return drive(steps, lambda body: client.create(body, on_event=on_event), self.meter)

    async def arun(
        self, ask: Ask, sink: Sink, *, conversation: Conversation | None = None,
        on_event: EventCallback | None = None, client: Any = None,
    ) -> Result:
        """Run ``ask`` on the loop thread, feeding ``sink`` from there (the panel, arespond).

        Tool calls run in a worker thread, so the loop keeps serving other requests."""
        client = client or self.client()
        own = conversation is None
        steps = turn_steps(
            self.conversation if own else conversation, self._carried(ask) if own else ask, sink,
            self._keep_last if own else None,
        )
        return await drive_async(steps, client, sink, on_event, self.meter)

    def _lesson_client(self, client: Any, settings: Settings) -> Any:
        """``client`` recording its answers (%agcloud record), or falling back to the live
        server for what a cassette lacks (%agcloud replay FILE live)."""
        from agcloud_magic.engine.cassette import LiveFallback, RecordingClient

        if self.recorder is not None:
            client = RecordingClient(client, self.recorder)
        live = self.live
        if live is not None and settings != live:
            client = LiveFallback(client, lambda: self.client(live))
        return client

    def _carried(self, ask: Ask) -> Ask:
        """``ask`` for the session's own threads: client-carried when the setting says so."""
        if self.prefs.conversation == "client" and not ask.stateless:
            return dataclasses.replace(ask, stateless=True)
        return ask

    def _keep_last(self, result: Result) -> None:
        self.last = result
        if self.store is not None:
            try:
                self.store.save(self.conversation)
            except ConfigError as exc:  # the answer stands; say once per turn that it is not kept
                result.notes.append(f"{exc} The thread lives on in this kernel only.")


_CURRENT: Session | None = None


def current_session() -> Session:
    """The session faces share: the loaded extension's, else one made from the environment."""
    global _CURRENT
    if _CURRENT is None:
        _CURRENT = Session()
    return _CURRENT


def set_current_session(session: Session | None) -> None:
    """Make ``session`` the shared one (the extension does at load; ``None`` at unload)."""
    global _CURRENT
    _CURRENT = session
