"""The one-line errors of a connection: what happened on the wire, worded with its settings.

Each says what happened, which clock ran out (``timeout``: the longest silence; the connect
timeout: one connect; ``deadline``: the whole request), whether the request was re-sent, and
what to do.  A body that is not the API's (a redirect, an HTML page, a broken compressed body)
is named for what it is, never called "cut short, run again".
"""

from __future__ import annotations

from typing import Any

import httpx

from agcloud_magic.errors import (
    AGCloudError,
    AnswerTooLargeError,
    ConnectionDroppedError,
    ConnectionFailedError,
    DeadlineExceededError,
    RequestTimeoutError,
    ServerDataError,
    one_line,
)
from agcloud_magic.http.settings import Settings

__all__ = ["NOT_SENT", "Failures"]

# Transport errors raised before the whole request reached the server: no connection, or the
# body was never written in full (httpcore swallows a write error on HTTP/1.1 and reads the
# answer, so a WriteError that surfaces means the request is incomplete).  Only these are
# re-sent; any other (a reset or EOF instead of a status line, no answer in time) may strike
# after the server started running, and billing, the request (see ``http/retry.py``).
NOT_SENT = (
    httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteError,
    httpx.WriteTimeout, httpx.ProxyError,
)


class Failures:
    """The errors of one client, worded with its ``settings`` (base URL, clocks, caps)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def transport(self, exc: Exception, *, deadline_passed: bool = False) -> AGCloudError:
        """A transport failure: no connection, a drop, or a clock that ran out."""
        where, settings = self.settings.base_url, self.settings
        sent = not isinstance(exc, NOT_SENT)
        if deadline_passed:
            return self.deadline()
        if isinstance(exc, httpx.ConnectTimeout):
            return ConnectionFailedError(
                f"Could not connect to {where} within {settings.connect_timeout:g} s (the "
                "connect timeout): check the network and AGCLOUD_BASE_URL."
            )
        if isinstance(exc, httpx.TimeoutException):
            resent = "; not re-sent, since the server may still be running it" if sent else ""
            return RequestTimeoutError(
                f"No answer from {where} within {settings.timeout:g} s (timeout: the "
                f"longest silence allowed){resent}: try again, or raise it "
                "(%agcloud config timeout=120)."
            )
        if sent:
            return ConnectionDroppedError(
                f"The server at {where} closed the connection mid-request ({type(exc).__name__}); "
                "not re-sent, since it may already have run (and billed) it: run again."
            )
        return ConnectionFailedError(
            f"Could not connect to {where} ({type(exc).__name__}): check the network and "
            "AGCLOUD_BASE_URL (%agcloud offline starts a local stand-in)."
        )

    def deadline(self, partial: Any = None) -> DeadlineExceededError:
        """The whole request outlived ``settings.deadline`` (``partial``: what came)."""
        kept = "; the partial answer is kept" if partial is not None else ""
        return DeadlineExceededError(
            f"The request to {self.settings.base_url} took longer than its deadline of "
            f"{self.settings.deadline:g} s (deadline: the whole request, however steadily the "
            f"server sends){kept}. Try again, or raise it (%agcloud config deadline=1800).",
            partial=partial,
        )

    def stalled(self, partial: Any) -> RequestTimeoutError:
        """The stream went silent for longer than ``settings.timeout``."""
        return RequestTimeoutError(
            f"The stream stalled for more than {self.settings.timeout:g} s (timeout: the "
            "longest silence allowed); the partial answer is kept. Run again, or raise it "
            "(%agcloud config timeout=120).",
            partial=partial,
        )

    def too_large(self, partial: Any) -> AnswerTooLargeError:
        """The answer passed ``settings.max_answer_bytes``."""
        cap = self.settings.max_answer_bytes
        return AnswerTooLargeError(
            f"The answer passed {cap / 2**20:g} MB and was stopped there; the part shown is "
            "kept. If it is meant to be that long, raise the cap "
            "(%agcloud config max_answer_mb=256).",
            partial=partial,
        )

    def not_decodable(self, exc: Exception, partial: Any) -> ServerDataError:
        """The (compressed) body did not decode."""
        return ServerDataError(
            f"The answer from {self.settings.base_url} did not decode ({one_line(str(exc), 120)}"
            "): the server or a proxy sent a broken compressed body; what arrived before it is "
            "kept. Run again; if it persists, the gateway is at fault.",
            partial=partial,
        )

    def redirect(self, response: httpx.Response) -> ServerDataError:
        """A 3xx: named, never followed (the key would go along to wherever it points)."""
        where = one_line(response.headers.get("location", "nowhere given"), 200)
        return ServerDataError(
            f"The server at {self.settings.base_url} answered {response.status_code} (a "
            f"redirect to {where}), which is not followed, so the key goes only where you set: "
            "set AGCLOUD_BASE_URL (or %agcloud config base_url=...) to the address it names."
        )

    def not_the_api(self, response: httpx.Response, what: str) -> ServerDataError:
        """A 2xx whose body is ``what`` (an HTML page ...), not a Response."""
        kind = one_line(response.headers.get("content-type", "no content type"), 80)
        return ServerDataError(
            f"The server at {self.settings.base_url} answered {response.status_code} with "
            f"{what} ({kind}), not the Responses API: check the base URL (it should end in "
            "/v1, e.g. https://aiandgpu.com/v1)."
        )
