"""HTTP client for ``POST {base}/responses``: sync and async, streaming and not.

Both faces share everything but the I/O calls: the request is prepared once, error statuses
map through :func:`~agcloud_magic.errors.status_error`, retries follow
:class:`~agcloud_magic.http.retry.RetryPolicy` and happen only before the first byte of an
answer (a transport error only when the request never went out:
:data:`~agcloud_magic.http.failures.NOT_SENT`), the whole call keeps to its deadline
(``http/deadline.py``), bodies are read by ``http/reading.py`` and every stream is closed on
the way out (``with`` blocks), also when the caller cancels or interrupts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import httpx

from agcloud_magic._version import __version__
from agcloud_magic.errors import (
    AGCloudError,
    QuotaExceededError,
    RequestInterrupted,
    status_error,
)
from agcloud_magic.http import deadline, pressure
from agcloud_magic.http.cancel import Cancellation
from agcloud_magic.http.failures import NOT_SENT, Failures
from agcloud_magic.http.reading import EventCallback, Reading, aerror_body, error_body
from agcloud_magic.http.retry import RetryPolicy
from agcloud_magic.http.settings import Settings, is_loopback_host
from agcloud_magic.wire.result import Result

__all__ = ["Cancellation", "Client", "EventCallback"]


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
        self.failures = Failures(self.settings)
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

    def _prepare(self, body: dict[str, Any]) -> tuple[str, httpx.Headers, bytes]:
        url = self.settings.checked_base_url() + "/responses"
        payload = dict(body)
        payload.setdefault("model", self.settings.model)
        accept = "text/event-stream" if payload.get("stream") else "application/json"
        headers = self._headers(accept)
        headers["Content-Type"] = "application/json"
        return url, headers, json.dumps(payload, separators=(",", ":")).encode()

    def _headers(self, accept: str) -> httpx.Headers:
        """The request's headers as ``httpx.Headers``, whose repr shows the Authorization
        value as ``[secure]``: they sit in the frames of a request for its whole length, and
        ``%xmode Verbose`` prints frame locals with any unexpected traceback.  For the same
        reason no frame keeps the key in a local variable of its own."""
        return httpx.Headers({
            "Authorization": f"Bearer {self.settings.require_key()}",
            "User-Agent": f"agcloud-magic/{__version__}",
            "Accept": accept,
        })

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
        error = self.failures.transport(exc, deadline_passed=deadline.passed())
        return error, self._retry_delay(attempt, error, sent=not isinstance(exc, NOT_SENT))

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
                            raise self.failures.redirect(response)
                        error = self._status_error(response, error_body(response), body)
                        delay = self._retry_delay(attempt, error, response.headers)
                except httpx.TransportError as exc:
                    if cancel is not None and cancel.cancelled:
                        raise RequestInterrupted(
                            "Interrupted: the request was cancelled before its answer began."
                        ) from None
                    error, delay = self._transport_failure(exc, attempt)
                delay = self._within(delay, until)
                pressure.pushed_back(getattr(error, "status", None), delay)
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
        headers = self._headers("application/json")
        url = self.settings.checked_base_url() + "/models"
        if self._sync is None:
            self._sync = self._new_sync()
        try:
            with deadline.deadline(self.settings.deadline):
                response = self._sync.get(url, headers=headers)
        except httpx.TransportError as exc:
            raise self.failures.transport(exc, deadline_passed=deadline.passed()) from None
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
        reading = Reading(response, body, failures=self.failures, on_event=on_event,
                          started=started, cancel=cancel)
        try:
            for chunk in response.iter_bytes():
                reading.take(chunk)
        except httpx.TimeoutException as exc:
            raise reading.timed_out(exc) from None
        except httpx.DecodingError as exc:
            raise reading.not_decodable(exc) from None
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
                            raise self.failures.redirect(response)
                        error = self._status_error(response, await aerror_body(response),
                                                   body)
                        delay = self._retry_delay(attempt, error, response.headers)
                except httpx.TransportError as exc:
                    error, delay = self._transport_failure(exc, attempt)
                delay = self._within(delay, until)
                pressure.pushed_back(getattr(error, "status", None), delay)
                if delay is None:
                    raise error
                await asyncio.sleep(delay)
                attempt += 1

    async def _aconsume(
        self, response: httpx.Response, body: dict[str, Any], on_event: EventCallback | None,
        started: float,
    ) -> Result:
        reading = Reading(response, body, failures=self.failures, on_event=on_event,
                          started=started)
        try:
            async for chunk in response.aiter_bytes():
                reading.take(chunk)
        except httpx.TimeoutException as exc:
            raise reading.timed_out(exc) from None
        except httpx.DecodingError as exc:
            raise reading.not_decodable(exc) from None
        except httpx.TransportError as exc:
            reading.dropped(exc)
        return reading.end()

    async def aclose(self) -> None:
        """Close the async connection pool."""
        if self._async is not None:
            await self._async.aclose()
            self._async = self._async_loop = None
