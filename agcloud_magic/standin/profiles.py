"""The profile half of ``StandinServer``: latency and rate limits, plus what they counted.

Unlike faults (queued for the next requests), a profile applies to every request until it is
changed; both are off by default, so a plain stand-in answers at once and never says 429.
"""

from __future__ import annotations

import threading

from .pacing import Latency
from .ratelimit import RateLimiter

__all__ = ["Profiles"]


class Profiles:
    """Settable latency and rate-limit profiles of :class:`~.server.StandinServer`."""

    _lock: threading.Lock

    def _init_profiles(self) -> None:
        #: The latency profile every answer follows (:meth:`latency`).
        self.latency_profile = Latency()
        #: The rate limiter requests pass (:meth:`rate_limit`); None: no limit.
        self.rate_limiter: RateLimiter | None = None
        #: ``POST /v1/responses`` requests answered 200 (JSON or stream).
        self.requests_served = 0
        #: 429s sent by the rate limiter (a ``fail_next(429)`` is not counted here).
        self.rate_limited = 0
        #: ``POST /v1/responses`` requests being answered now, and the most there were at once
        #: (how a test sees a client's concurrency; 429s are not counted: they end at once).
        self.in_flight = 0
        self.peak_in_flight = 0

    def latency(self, first_token: float = 0.0, tokens_per_second: float | None = None) -> None:
        """Wait ``first_token`` seconds before the first token and produce ``tokens_per_second``
        after it (a token is ~4 characters of output), streamed or not; no arguments: off.

        For streams this adds to ``token_delay`` and ``drip``; see :mod:`.pacing`.
        """
        profile = Latency(float(first_token),
                          None if tokens_per_second is None else float(tokens_per_second))
        with self._lock:
            self.latency_profile = profile

    def rate_limit(self, rpm: int | None = None, tpm: int | None = None, *,
                   window: float = 60.0) -> None:
        """Limit requests and tokens per rolling ``window`` seconds (429 with ``Retry-After``
        beyond them, see :mod:`.ratelimit`); ``None`` leaves that one unlimited, and no
        arguments turn limits off.  Setting a limit starts with an empty window."""
        limiter = None
        if rpm is not None or tpm is not None:
            limiter = RateLimiter(rpm, tpm, window=window)
        with self._lock:
            self.rate_limiter = limiter

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _count(self, *, served: int = 0, rate_limited: int = 0) -> None:
        with self._lock:
            self.requests_served += served
            self.rate_limited += rate_limited
