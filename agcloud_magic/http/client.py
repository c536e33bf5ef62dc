"""HTTP client for ``POST {base}/responses``: sync and async, streaming and not.

The only module that imports httpx.  Both faces share everything but the I/O calls: the request
is prepared once, error statuses map through :func:`~agcloud_magic.errors.status_error`, retries
follow :class:`~agcloud_magic.http.retry.RetryPolicy` and happen only before the first byte of an
answer (a transport error only when the request never went out: :data:`NOT_SENT`), and every
stream is closed on the way out (``with`` blocks), also when the caller cancels or interrupts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from agcloud_magic._version import __version__
from agcloud_magic.errors import (
    AGCloudError,
    AnswerTooLargeError,
    ConnectionDroppedError,
    ConnectionFailedError,
    DeadlineExceededError,
    QuotaExceededError,
    RequestInterrupted,
    RequestTimeoutError,
    ServerDataError,
    one_line,
    redact,
    request_id_from,
    status_error,
)
from agcloud_magic.http import deadline
from agcloud_magic.http.cancel import Cancellation
from agcloud_magic.http.retry import RetryPolicy
from agcloud_magic.http.settings import Settings, is_loopback_host
from agcloud_magic.wire import events as ev
from agcloud_magic.wire.accumulator import Accumulator
from agcloud_magic.wire.outcome import conclude, whole_response
from agcloud_magic.wire.result import Result
from agcloud_magic.wire.sse import ServerSentEvent, SSEParser

__all__ = ["Cancellation", "Client", "EventCallback"]

EventCallback = Callable[[ev.Event], None]

# Transport errors raised before the whole request reached the server: no connection, or the
# body was never written in full (httpcore swallows a write error on HTTP/1.1 and reads the
# answer, so a WriteError that surfaces means the request is incomplete).  Only these are
# re-sent; any other (a reset or EOF instead of a status line, no answer in time) may strike
# after the server started running, and billing, the request (see ``http/retry.py``).
NOT_SENT = (
    httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteError,
    httpx.WriteTimeout, httpx.ProxyError,
)


class Client:
    """A connection to the Responses API.

    >>> client = Client(api_key="sk-test-123", base_url="http://127.0.0.1:8765/v1")
    >>> result = client.create({"model": "echo", "input": "hi", "stream": True})  # doctest: +SKIP

    ``on_event`` (optional) sees every event dict as it arrives, after it was folded into the
    result.  Expected failures raise subclasses of :class:`~agcloud_magic.errors.AGCloudError`;
    those that happen after text arrived carry it in ``exc.partial``.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        model: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        base = settings or Settings.from_env()
        self.settings = base.with_(
            api_key=api_key, base_url=base_url, model=model, timeout=timeout,
            max_retries=max_retries,
        )
        self.retry_policy = retry_policy or RetryPolicy(max_retries=self.settings.max_retries)
        self._sync: httpx.Client | None = None
        self._async: httpx.AsyncClient | None = None
        self._async_loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"Client({self.settings!r})"

    # -- shared pieces -------------------------------------------------------------------

    def _pool_options(self) -> dict[str, Any]:
        """What both pools are built with.  A loopback base URL ignores the proxy settings of
        the environment (``HTTP_PROXY`` on JupyterHub and corporate machines): the plain-http
        exemption holds only because the key never leaves the machine, and a proxy would
        carry it, in clear text, to another host."""
        host = httpx.URL(self.settings.base_url).host
        return {
            "timeout": httpx.Timeout(self.settings.timeout, connect=self.settings.connect_timeout),
            "trust_env": not is_loopback_host(host),
        }

    def _new_sync(self) -> httpx.Client:
        pool = httpx.Client(**self._pool_options())
        deadline.install(pool)
        return pool

    def _new_async(self) -> httpx.AsyncClient:
        pool = httpx.AsyncClient(**self._pool_options())
        deadline.install(pool)
        return pool

    def _prepare(self, body: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
        key = self.settings.require_key()
        url = self.settings.checked_base_url() + "/responses"
        payload = dict(body)
        payload.setdefault("model", self.settings.model)
        headers = {
            **self._headers(key),
            "Content-Type": "application/json",
            "Accept": "text/event-stream" if payload.get("stream") else "application/json",
        }
        return url, headers, json.dumps(payload, separators=(",", ":")).encode()

    @staticmethod
    def _headers(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}", "User-Agent": f"agcloud-magic/{__version__}"}

    def _retry_delay(
        self, attempt: int, exc: AGCloudError, headers: Any = None, *, sent: bool = False
    ) -> float | None:
        status = getattr(exc, "status", None)
        return self.retry_policy.delay_for(
            attempt,
            status=status,
            headers={k.lower(): v for k, v in (headers or {}).items()},
            error_code=getattr(exc, "code", None),
            transport_error=status is None,
            request_sent=sent,
            # A balance is not refilled by waiting: classified from the body, not only its code.
            quota=isinstance(exc, QuotaExceededError),
        )

    def _status_error(
        self, response: httpx.Response, content: bytes, request: dict[str, Any] | None = None
    ) -> AGCloudError:
        """The error for a non-2xx answer to ``request`` (whose model an unknown-model line
        names; without a request, e.g. ``GET /models``, the server's words name it)."""
        model = None if request is None else request.get("model") or self.settings.model
        return status_error(
            response.status_code, content, dict(response.headers), secret=self.settings.api_key,
            model=model if isinstance(model, str) else None, base_url=self.settings.base_url,
        )

    def _transport_failure(
        self, exc: Exception, attempt: int
    ) -> tuple[AGCloudError, float | None]:
        """The error for a transport failure of ``attempt``, and the wait before re-sending it
        (``None``: raise), re-sending only what never went out (:data:`NOT_SENT`)."""
        error = self._transport_error(exc)
        return error, self._retry_delay(attempt, error, sent=not isinstance(exc, NOT_SENT))

    def _transport_error(self, exc: Exception) -> AGCloudError:
        where = self.settings.base_url
        sent = not isinstance(exc, NOT_SENT)
        if isinstance(exc, httpx.TimeoutException):
            if deadline.passed():
                return self._deadline_error()
            resent = "; not re-sent, since the server may still be running it" if sent else ""
            return RequestTimeoutError(
                f"No answer from {where} within {self.settings.timeout:g} s (timeout: the "
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

    def _deadline_error(self, acc: Accumulator | None = None) -> DeadlineExceededError:
        kept = "; the partial answer is kept" if acc is not None else ""
        error = DeadlineExceededError(
            f"The request to {self.settings.base_url} took longer than its deadline of "
            f"{self.settings.deadline:g} s (deadline: the whole request, however steadily the "
            f"server sends){kept}. Try again, or raise it (%agcloud config deadline=1800)."
        )
        if acc is not None:
            error.partial = acc.finish(cut=True)
        return error

    def _too_large(self, acc: Accumulator) -> AnswerTooLargeError:
        cap = self.settings.max_answer_bytes
        return AnswerTooLargeError(
            f"The answer passed {cap / 2**20:g} MB and was stopped there; the part shown is "
            "kept. If it is meant to be that long, raise the cap "
            "(%agcloud config max_answer_mb=256).",
            partial=acc.finish(cut=True),
        )

    def _not_decodable(self, exc: Exception, acc: Accumulator) -> ServerDataError:
        return ServerDataError(
            f"The answer from {self.settings.base_url} did not decode ({one_line(str(exc), 120)}"
            "): the server or a proxy sent a broken compressed body; what arrived before it is "
            "kept. Run again; if it persists, the gateway is at fault.",
            partial=acc.finish(cut=True),
        )

    def _redirect_error(self, response: httpx.Response) -> ServerDataError:
        # Never followed: the key would go along to wherever the Location points.
        where = one_line(response.headers.get("location", "nowhere given"), 200)
        return ServerDataError(
            f"The server at {self.settings.base_url} answered {response.status_code} (a "
            f"redirect to {where}), which is not followed, so the key goes only where you set: "
            "set AGCLOUD_BASE_URL (or %agcloud config base_url=...) to the address it names."
        )

    def _not_the_api(self, response: httpx.Response, what: str) -> ServerDataError:
        kind = one_line(response.headers.get("content-type", "no content type"), 80)
        return ServerDataError(
            f"The server at {self.settings.base_url} answered {response.status_code} with "
            f"{what} ({kind}), not the Responses API: check the base URL (it should end in "
            "/v1, e.g. https://aiandgpu.com/v1)."
        )

    def _whole(self, response: httpx.Response, data: bytes) -> Accumulator:
        """The accumulator of a whole JSON answer, or the error saying what came instead."""
        acc = whole_response(data)
        if acc.terminal is None:
            looks_html = data.lstrip()[:1] == b"<" or "html" in response.headers.get(
                "content-type", "")
            raise self._not_the_api(response, "an HTML page" if looks_html else
                                    "something other than a JSON Response")
        return acc

    @staticmethod
    def _feed(acc: Accumulator, parser: SSEParser, chunk: bytes,
              on_event: EventCallback | None) -> int:
        """Fold the events ``chunk`` completes; returns how many were passed on."""
        try:
            sses = parser.feed(chunk)
        except AnswerTooLargeError as exc:
            # Fold (and show) what came before the oversized line, then stop with it kept.
            Client._fold(acc, getattr(exc, "events", ()), on_event)
            exc.partial = acc.finish(cut=True)
            raise
        return Client._fold(acc, sses, on_event)

    @staticmethod
    def _fold(acc: Accumulator, sses: Iterable[ServerSentEvent],
              on_event: EventCallback | None) -> int:
        count = 0
        for sse in sses:
            # Folded first (which also normalises its delta), then shown; None: not shown
            # (``[DONE]``, garbage, anything after the terminal event).
            event = acc.feed_sse(sse)
            if event is None:
                continue
            count += 1
            if on_event is not None:
                on_event(event)
        return count

    @staticmethod
    def _is_stream(response: httpx.Response, body: dict[str, Any]) -> bool:
        """Read the answer as SSE?  Only if we asked for a stream and did not get plain JSON
        (a gateway that ignores ``stream: true`` answers with the whole Response)."""
        kind = response.headers.get("content-type", "")
        return bool(body.get("stream")) and not kind.startswith("application/json")

    def _conclude(self, acc: Accumulator, *, started: float, request_id: str | None) -> Result:
        # The request id is the server's header, kept on the result: it may echo the key too.
        request_id = None if request_id is None else redact(request_id, self.settings.api_key)
        return conclude(acc, elapsed=time.monotonic() - started, request_id=request_id,
                        secret=self.settings.api_key)

    # -- sync ----------------------------------------------------------------------------

    def create(
        self,
        body: dict[str, Any],
        *,
        on_event: EventCallback | None = None,
        cancel: Cancellation | None = None,
    ) -> Result:
        """Send one request and wait for the whole answer (streamed if ``body["stream"]``).

        ``cancel`` lets another thread stop it (see :class:`Cancellation`).  The whole call,
        retries included, ends within ``settings.deadline`` seconds."""
        url, headers, content = self._prepare(body)
        if self._sync is None:
            self._sync = self._new_sync()
        started = time.monotonic()
        attempt = 0
        watcher = None if cancel is None else cancel.watch
        with deadline.deadline(self.settings.deadline) as until, deadline.watching(watcher):
            while True:
                try:
                    with self._sync.stream("POST", url, content=content,
                                           headers=headers) as response:
                        if response.status_code < 300:
                            return self._consume(response, body, on_event, started, cancel)
                        if response.status_code < 400:
                            raise self._redirect_error(response)
                        error = self._status_error(response, _error_body(response), body)
                        delay = self._retry_delay(attempt, error, response.headers)
                except httpx.TransportError as exc:
                    if cancel is not None and cancel.cancelled:
                        raise RequestInterrupted(
                            "Interrupted: the request was cancelled before its answer began."
                        ) from None
                    error, delay = self._transport_failure(exc, attempt)
                delay = self._within(delay, until)
                if delay is None:
                    raise error
                if cancel is None:
                    time.sleep(delay)
                elif cancel.wait(delay):
                    # Cancelled before or during the wait (Ctrl-C on a Retry-After, say): the
                    # retry must not go out, or the server would run a request nobody reads.
                    raise RequestInterrupted(
                        "Interrupted: the request was cancelled before it was retried."
                    ) from error
                attempt += 1

    @staticmethod
    def _within(delay: float | None, until: float | None) -> float | None:
        """The wait before a retry, or ``None`` (no retry) when the retry would start after
        the deadline: the error in hand is more useful than a deadline message."""
        if delay is None or until is None:
            return delay
        return delay if time.monotonic() + delay < until else None

    def models(self) -> list[str]:
        """The ids of the models the server offers this key (``GET /models``), in its order.

        One request, not retried (a listing is cheap to ask again); errors are the same
        one-line exceptions as :meth:`create`'s."""
        key = self.settings.require_key()
        url = self.settings.checked_base_url() + "/models"
        if self._sync is None:
            self._sync = self._new_sync()
        try:
            with deadline.deadline(self.settings.deadline):
                response = self._sync.get(url, headers={**self._headers(key),
                                                        "Accept": "application/json"})
        except httpx.TransportError as exc:
            raise self._transport_error(exc) from None
        if response.status_code >= 400:
            raise self._status_error(response, response.content)
        try:
            entries = response.json()["data"]
            return [str(entry["id"]) for entry in entries]
        except (ValueError, KeyError, TypeError):
            raise AGCloudError(
                f"The server at {self.settings.base_url} answered GET /models with something "
                'other than the API\'s {"data": [{"id": ...}]} list.'
            ) from None

    def _consume(
        self, response: httpx.Response, body: dict[str, Any], on_event: EventCallback | None,
        started: float, cancel: Cancellation | None = None,
    ) -> Result:
        reading = _Reading(self, response, body, on_event, started, cancel)
        try:
            for chunk in response.iter_bytes():
                reading.take(chunk)
        except httpx.TimeoutException as exc:
            raise reading.timed_out(exc) from None
        except httpx.DecodingError as exc:
            raise self._not_decodable(exc, reading.acc) from None
        except httpx.TransportError as exc:
            reading.dropped(exc)  # the connection dropped: reported below
        return reading.end()

    def close(self) -> None:
        """Close both connection pools (the async one on the loop that opened it)."""
        if self._sync is not None:
            self._sync.close()
            self._sync = None
        pool, loop = self._async, self._async_loop
        self._async = self._async_loop = None
        if pool is None or loop is None or loop.is_closed():
            return  # nothing open, or its sockets went with its loop
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.create_task(pool.aclose())  # on the pool's own loop: close when we yield
        elif loop.is_running():
            with contextlib.suppress(Exception):  # a stuck loop: give up after 2 s
                asyncio.run_coroutine_threadsafe(pool.aclose(), loop).result(2.0)
        elif running is None:
            with contextlib.suppress(Exception):
                loop.run_until_complete(pool.aclose())

    # -- async ---------------------------------------------------------------------------

    async def acreate(
        self, body: dict[str, Any], *, on_event: EventCallback | None = None
    ) -> Result:
        """Async :meth:`create`; cancelling the task closes the stream."""
        url, headers, content = self._prepare(body)
        loop = asyncio.get_running_loop()
        if self._async is None or self._async_loop is not loop:
            # An AsyncClient's connections belong to the loop that opened them; a call from
            # another loop (a second asyncio.run, say) gets a pool of its own.
            self._async, self._async_loop = self._new_async(), loop
        started = time.monotonic()
        attempt = 0
        with deadline.deadline(self.settings.deadline) as until:
            while True:
                try:
                    async with self._async.stream(
                        "POST", url, content=content, headers=headers
                    ) as response:
                        if response.status_code < 300:
                            return await self._aconsume(response, body, on_event, started)
                        if response.status_code < 400:
                            raise self._redirect_error(response)
                        error = self._status_error(response, await _aerror_body(response),
                                                   body)
                        delay = self._retry_delay(attempt, error, response.headers)
                except httpx.TransportError as exc:
                    error, delay = self._transport_failure(exc, attempt)
                delay = self._within(delay, until)
                if delay is None:
                    raise error
                await asyncio.sleep(delay)
                attempt += 1

    async def _aconsume(
        self, response: httpx.Response, body: dict[str, Any], on_event: EventCallback | None,
        started: float,
    ) -> Result:
        reading = _Reading(self, response, body, on_event, started)
        try:
            async for chunk in response.aiter_bytes():
                reading.take(chunk)
        except httpx.TimeoutException as exc:
            raise reading.timed_out(exc) from None
        except httpx.DecodingError as exc:
            raise self._not_decodable(exc, reading.acc) from None
        except httpx.TransportError as exc:
            reading.dropped(exc)
        return reading.end()

    async def aclose(self) -> None:
        """Close the async connection pool."""
        if self._async is not None:
            await self._async.aclose()
            self._async = self._async_loop = None


# An error body is quoted in one line: a megabyte is far more than any server's message, and
# a bound keeps an endless or bombed error body from filling memory.
ERROR_BODY_LIMIT = 2**20


def _error_body(response: httpx.Response) -> bytes:
    """The start of an error answer's body (``b""`` if it does not decode)."""
    body = bytearray()
    try:
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) >= ERROR_BODY_LIMIT:
                break
    except httpx.DecodingError:
        return b""
    return bytes(body[:ERROR_BODY_LIMIT])


async def _aerror_body(response: httpx.Response) -> bytes:
    """Async :func:`_error_body`."""
    body = bytearray()
    try:
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) >= ERROR_BODY_LIMIT:
                break
    except httpx.DecodingError:
        return b""
    return bytes(body[:ERROR_BODY_LIMIT])


class _Reading:
    """One answer being read: bytes counted against the size cap, SSE events folded (or the
    whole JSON body kept, for a non-streamed answer), and the first bytes kept while no event
    has come, so a gateway that labels a JSON answer (or an HTML page) as an event stream is
    understood, or named, instead of looking cut short."""

    def __init__(self, client: Client, response: httpx.Response, body: dict[str, Any],
                 on_event: EventCallback | None, started: float,
                 cancel: Cancellation | None = None) -> None:
        self.client = client
        self.cancel = cancel
        self.response = response
        self.streamed = client._is_stream(response, body)
        self.on_event = on_event
        self.started = started
        self.acc = Accumulator()
        self.parser = SSEParser()
        self.received = 0
        self.events = 0
        self.head = bytearray()  # the body so far, while no event came (bounded by the cap)

    def take(self, chunk: bytes) -> None:
        """Count and fold one chunk of the (decompressed) body."""
        if self.cancel is not None and self.cancel.cancelled:
            # A shut-down socket still hands over what its receive buffer holds (megabytes
            # on loopback): parsing that for nobody held the GIL a quarter of a second.
            raise RequestInterrupted("Interrupted: the request was cancelled.")
        self.received += len(chunk)
        if self.received > self.client.settings.max_answer_bytes:
            raise self.client._too_large(self.acc)
        if not self.streamed or not self.events:
            self.head += chunk
        if self.streamed:
            self.events += self.client._feed(self.acc, self.parser, chunk, self.on_event)

    def timed_out(self, exc: Exception) -> AGCloudError:
        """The error for a timeout mid-answer: the deadline's, or the gap's."""
        if deadline.passed():
            return self.client._deadline_error(self.acc)
        if not self.streamed:
            return self.client._transport_error(exc)
        error = RequestTimeoutError(
            f"The stream stalled for more than {self.client.settings.timeout:g} s (timeout: "
            "the longest silence allowed); the partial answer is kept. Run again, or raise it "
            "(%agcloud config timeout=120)."
        )
        error.partial = self.acc.finish(cut=True)
        return error

    def dropped(self, exc: Exception) -> None:
        """The connection dropped mid-answer: a whole answer cannot be used."""
        if self.cancel is not None and self.cancel.cancelled:
            # The canceller keeps what it showed; folding millions of deltas into a result
            # nobody reads would only hold the GIL while the face ends the cell.
            raise RequestInterrupted("Interrupted: the request was cancelled.") from None
        if not self.streamed:
            raise self.client._transport_error(exc) from None

    def end(self) -> Result:
        """The result of the whole body, or the error saying what was wrong with it."""
        request_id = request_id_from(self.response.headers)
        acc = self.acc
        if not self.streamed or (not self.events and self.head.lstrip()[:1] in (b"{", b"<")):
            acc = self.client._whole(self.response, bytes(self.head))
        return self.client._conclude(acc, started=self.started, request_id=request_id)
