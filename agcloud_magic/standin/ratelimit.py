"""Rate limits: requests and tokens per rolling window (60 s), answered with the API's 429.

A request is admitted when, counting the requests of the last ``window`` seconds, one more
stays within ``rpm`` and its token estimate (input ~len/4 plus ``max_output_tokens`` when
given) stays within ``tpm``.  Once answered, its tokens are settled: input plus
``max_output_tokens`` if given (the API reserves it), else the answer's output tokens.
Refused, the client gets 429 with ``Retry-After`` (whole seconds, at least 1: when enough of
the window has expired for the request to fit) and the API's error body, type ``requests``
(RPM) or ``tokens`` (TPM), code ``rate_limit_exceeded``.  A request larger than ``tpm`` on
its own can never fit: it is refused with ``Retry-After`` of the whole window.

Every answer while limits are set also carries the API's ``x-ratelimit-limit-requests``,
``x-ratelimit-remaining-requests``, ``x-ratelimit-reset-requests`` (and the ``-tokens``
three), the reset as whole seconds such as ``"12s"``: when the window is empty again.
"""

from __future__ import annotations

import collections
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .common import ApiError

__all__ = ["Admission", "RateLimiter"]


@dataclass
class Admission:
    """One admitted request in the window: when it came and the tokens it counts for."""

    at: float
    tokens: int
    headers: dict[str, str] = field(default_factory=dict)


def _positive(value: int | None, name: str) -> int | None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                              or value < 1):
        raise ValueError(f"{name} must be a positive integer or None")
    return value


class RateLimiter:
    """RPM and TPM over a rolling window; thread-safe (requests arrive on many threads)."""

    def __init__(self, rpm: int | None = None, tpm: int | None = None, *,
                 window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.rpm = _positive(rpm, "rpm")
        self.tpm = _positive(tpm, "tpm")
        if not window > 0:
            raise ValueError("window must be > 0 seconds")
        self.window = float(window)
        self._clock = clock
        self._lock = threading.Lock()
        self._admitted: collections.deque[Admission] = collections.deque()

    def _expire(self, now: float) -> None:
        while self._admitted and self._admitted[0].at <= now - self.window:
            self._admitted.popleft()

    def admit(self, tokens: int) -> Admission:
        """Count a request estimated at ``tokens``, or raise the 429 :class:`ApiError`."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            used = sum(a.tokens for a in self._admitted)
            count = len(self._admitted)
            if self.rpm is not None and count + 1 > self.rpm:
                # The request fits when the oldest ones beyond rpm - 1 have expired.
                frees = self._admitted[count - self.rpm].at + self.window
                raise self._refusal("requests", "requests per min (RPM)", self.rpm, count, 1,
                                    frees - now, self._headers(now))
            if self.tpm is not None and used + tokens > self.tpm:
                raise self._refusal("tokens", "tokens per min (TPM)", self.tpm, used, tokens,
                                    self._tokens_free_in(now, used, tokens), self._headers(now))
            admission = Admission(now, tokens)
            self._admitted.append(admission)
            admission.headers = self._headers(now)
            return admission

    def _headers(self, now: float) -> dict[str, str]:
        """The ``x-ratelimit-*`` headers for the window as it is (lock held)."""
        # Rounded first: (at + window) - at is not always window in floating point (60 -> 61).
        reset = max(0, math.ceil(round(self._admitted[-1].at + self.window - now, 6))) \
            if self._admitted else 0
        headers = {}
        for kind, limit, used in (("requests", self.rpm, len(self._admitted)),
                                  ("tokens", self.tpm, sum(a.tokens for a in self._admitted))):
            if limit is not None:
                headers[f"x-ratelimit-limit-{kind}"] = str(limit)
                headers[f"x-ratelimit-remaining-{kind}"] = str(max(0, limit - used))
                headers[f"x-ratelimit-reset-{kind}"] = f"{reset}s"
        return headers

    def settle(self, admission: Admission, tokens: int) -> None:
        """Set what an admitted request finally counts for (its answer is known)."""
        with self._lock:
            admission.tokens = tokens

    def _tokens_free_in(self, now: float, used: int, tokens: int) -> float:
        assert self.tpm is not None
        if tokens > self.tpm:
            return self.window  # never fits; the client should stop, not spin
        excess = used + tokens - self.tpm
        for admission in self._admitted:
            excess -= admission.tokens
            if excess <= 0:
                return admission.at + self.window - now
        return self.window  # pragma: no cover - the window's own sum covers the excess

    def _refusal(self, kind: str, what: str, limit: int, used: int, requested: int,
                 wait: float, headers: dict[str, str]) -> ApiError:
        seconds = max(1, math.ceil(wait))
        message = (
            f"Rate limit reached for {kind} on {what}: Limit {limit}, Used {used}, Requested "
            f"{requested}. Please try again in {seconds}s. (offline stand-in rate limit)"
        )
        return ApiError(429, message, error_type=kind, code="rate_limit_exceeded",
                        headers={"Retry-After": str(seconds), **headers})
