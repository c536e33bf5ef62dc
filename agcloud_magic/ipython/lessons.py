"""``%agcloud record`` and ``%agcloud replay``: a lesson recorded once, replayed offline.

    %agcloud record lesson.jsonl         every answered request from now on, to the cassette
    %agcloud record stop                 stop recording
    %agcloud replay lesson.jsonl [fast]  answers from the cassette, as they streamed (or at
                                         once): no key, no network, the real answers
    %agcloud replay lesson.jsonl live    ... and a request not recorded goes to the server
    %agcloud replay stop                 back to the configured server

Recording: :mod:`agcloud_magic.engine.cassette`; serving: :mod:`agcloud_magic.standin.cassette`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agcloud_magic.engine.cassette import Recorder
from agcloud_magic.errors import ConfigError

__all__ = ["run_record", "run_replay"]



def run_record(magics: Any, rest: list[str]) -> None:
    """Start or stop recording the session's answers."""
    session = magics.session
    if rest == ["stop"]:
        recorder, session.recorder = session.recorder, None
        done = f" ({recorder.count} answers in {recorder.path})" if recorder else ""
        print(f"Recording stopped{done}.")
        return
    if len(rest) != 1:
        raise ConfigError("%agcloud record FILE (or stop): one cassette file.")
    session.recorder = Recorder(Path(rest[0]))
    print(f"Recording every answer to {session.recorder.path} (ids and times normalised, no "
          "key, no headers); %agcloud record stop ends it.")


def run_replay(magics: Any, rest: list[str]) -> None:
    """Serve the session's requests from a cassette, or stop."""
    from agcloud_magic.ipython.control import OFFLINE_KEY  # the stand-in's, as offline uses
    from agcloud_magic.standin.cassette import Cassette

    if rest == ["stop"]:
        magics.session.live = None
        server = magics.offline
        if server is not None:
            server.cassette = None
        if server is not None and getattr(server, "started_for_replay", False):
            server.stop()
            magics.offline = None
            # Back to what answered before the replay (a shared stand-in, or the server).
            magics.base_url, magics.offline_key = server.before_replay
            print("Replay stopped; back to the server that answered before it.")
        else:  # offline mode was on before the replay: it stays on
            print("Replay stopped; the offline stand-in answers again.")
        return
    words = set(rest[1:])
    if not rest or not words <= {"fast", "live"}:
        raise ConfigError("%agcloud replay FILE [fast] [live] (or stop).")
    live = None
    if "live" in words:  # where unrecorded requests go: the server in force now (its key)
        try:
            live = magics.session.checked_settings()
        except ConfigError as exc:
            raise ConfigError(f"replay live sends unrecorded requests to the server, which "
                              f"needs a key: {exc}") from None
    try:
        cassette = Cassette.load(rest[0], paced="fast" not in words)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"Cannot replay {rest[0]}: {getattr(exc, 'strerror', None) or exc}."
                          ) from None
    started = magics.offline is None
    server = magics.session.start_offline()
    if started:
        server.started_for_replay = True  # replay stop stops it (not an offline mode's)
        server.before_replay = (magics.base_url, magics.offline_key)
    server.cassette = cassette
    magics.offline_key = OFFLINE_KEY
    magics.base_url = server.base_url
    magics.session.live = live
    pace = "at once" if "fast" in words else "paced as they streamed"
    rest_go = (f"; unrecorded requests go to {live.base_url}" if live is not None
               else ": no key or network needed")
    print(f"Replaying {len(cassette.entries)} recorded answers from {rest[0]} ({pace}), from a "
          f"local stand-in at {server.base_url}{rest_go}.")
