"""When to retry a request, and after how long. Pure: no clock, no I/O.

Retries happen only before the first byte of an answer reached the caller, so nothing shown is
ever repeated.  Retried: transport errors that struck before the request went out, 408, 409,
429 and 5xx, except quota errors (a retry cannot help) and when the server says
``x-should-retry: false``.

Not retried: a transport error after the request was sent (the server closed the connection
or reset it without a status line, or no answer came in time).  A ``POST /responses`` is not
idempotent: the server may have run the model, billed it and stored a response, and it honours
no idempotency key we could send, so a second POST can be billed twice.  The user is told in
one line and runs the cell again, a deliberate choice.  (The openai SDK re-sends on any
connection error or timeout; Go's net/http re-sends a POST only when nothing was written or
it carries an ``Idempotency-Key``, the rule followed here.)  Delay: the server's
``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date) when it is within
``max_retry_after``, else exponential backoff with jitter.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

__all__ = ["RETRYABLE_STATUSES", "RetryPolicy", "parse_retry_after"]

RETRYABLE_STATUSES = frozenset({408, 409, 429})


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asked us to wait, or ``None`` if it did not say (or said nonsense)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if now is None:
        import time

        now = time.time()
    return max(0.0, when.timestamp() - now)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with backoff; ``delay_for`` answers "retry after how long, or not"."""

    max_retries: int = 2
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 120.0
    jitter: float = 0.25

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Exponential delay for retry number ``attempt`` (0-based), minus up to ``jitter``."""
        delay = min(self.max_delay, self.base_delay * (2**attempt))
        spread = (rng or random).random() * self.jitter
        return delay * (1.0 - spread)

    def delay_for(
        self,
        attempt: int,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        error_code: str | None = None,
        transport_error: bool = False,
        request_sent: bool = False,
        quota: bool = False,
        rng: random.Random | None = None,
    ) -> float | None:
        """Seconds to wait before retry ``attempt`` (0-based), or ``None`` for no retry.

        ``request_sent``: the transport error struck after the whole request went out (see
        the module docstring); ``quota``: the error says the balance or quota is exhausted."""
        if attempt >= self.max_retries or quota:
            return None
        if transport_error and request_sent:
            return None
        headers = headers or {}
        should = (headers.get("x-should-retry") or "").lower()
        if should == "false":
            return None
        if not transport_error:
            if status is None:
                return None
            if error_code == "insufficient_quota":
                return None
            retryable = status in RETRYABLE_STATUSES or status >= 500 or should == "true"
            if not retryable:
                return None
        asked = parse_retry_after(headers)
        if asked is not None:
            if asked > self.max_retry_after:
                return None
            return asked
        return self.backoff(attempt, rng)
