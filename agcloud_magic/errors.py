"""One exception tree for every expected failure.

Each class carries a one-line ``message`` that says what went wrong and what to do about it;
``str(exc)`` is that line.  The API key never appears in a message or a repr: messages are built
from status codes, error codes and server text, and :func:`redact` scrubs anything that looks like
a key from server text before it is kept.

::

    AGCloudError
    ├── ConfigError                      settings or options are unusable; nothing was sent
    │   ├── MissingKeyError              no AGCLOUD_API_KEY
    │   └── InsecureBaseURLError         http:// to a non-loopback host
    ├── APIStatusError                   the server answered with a non-2xx status
    │   ├── BadRequestError              400 / 422
    │   │   └── PreviousResponseNotFoundError
    │   ├── AuthenticationError          401
    │   ├── PermissionDeniedError        403
    │   ├── NotFoundError                404
    │   ├── RateLimitError               429 (after retries)
    │   │   └── QuotaExceededError       insufficient_quota / balance / 402
    │   └── ServerError                  5xx (after retries)
    ├── ConnectionFailedError            could not connect (after retries)
    ├── RequestTimeoutError              no answer in time
    ├── StreamError                      the response failed after it started
    │   ├── ResponseFailedError          ``error`` event or ``response.failed``
    │   ├── IncompleteResponseError      ``response.incomplete`` (e.g. max_output_tokens)
    │   └── StreamCutError               the stream ended without a terminal event
    ├── RequestInterrupted               the user interrupted (Ctrl-C, Stop)
    └── ToolError                        the tool loop could not go on
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "AGCloudError",
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigError",
    "ConnectionFailedError",
    "IncompleteResponseError",
    "InsecureBaseURLError",
    "MissingKeyError",
    "NotFoundError",
    "PermissionDeniedError",
    "PreviousResponseNotFoundError",
    "QuotaExceededError",
    "RateLimitError",
    "RequestInterrupted",
    "RequestTimeoutError",
    "ResponseFailedError",
    "ServerError",
    "StreamCutError",
    "StreamError",
    "ToolError",
    "one_line",
    "redact",
    "scrub",
    "status_error",
]

_KEY_PATTERN = re.compile(r"(sk-[A-Za-z0-9_\-]{2})[A-Za-z0-9_\-]{4,}")


def redact(text: str, secret: str | None = None) -> str:
    """Return ``text`` with ``secret`` and anything shaped like an ``sk-`` key masked."""
    if secret:
        text = text.replace(secret, "[redacted key]")
    return _KEY_PATTERN.sub(r"\1…[redacted]", text)


def scrub(value: Any, secret: str | None = None) -> Any:
    """``value`` with :func:`redact` applied to every string inside it (dicts, lists), for
    server-sent error objects that are kept on a result."""
    if isinstance(value, str):
        return redact(value, secret)
    if isinstance(value, dict):
        return {key: scrub(item, secret) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub(item, secret) for item in value]
    return value


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace so a server message fits on one line, cut at ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class AGCloudError(Exception):
    """Base of every expected failure; ``str()`` is a one-line message with a hint."""

    hint: str = ""

    def __init__(self, message: str, *, partial: Any = None) -> None:
        self.message = redact(one_line(message, limit=600))
        # The partial result (text already streamed) of a request that failed mid-way.
        self.partial = partial
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ConfigError(AGCloudError):
    """Settings or options are unusable; nothing was sent."""


class MissingKeyError(ConfigError):
    """No API key is configured."""

    def __init__(self) -> None:
        super().__init__(
            "No API key: set AGCLOUD_API_KEY in the environment, or run %agcloud login "
            "(or %agcloud offline to use the local stand-in server)."
        )


class InsecureBaseURLError(ConfigError):
    """A plain-http base URL that is not on loopback would send the key in clear text."""


class APIStatusError(AGCloudError):
    """The server answered with a non-2xx status."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        error_type: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.error_type = error_type
        self.param = param
        self.request_id = request_id


class BadRequestError(APIStatusError):
    """400/422: the server rejected the request."""


class PreviousResponseNotFoundError(BadRequestError):
    """The server no longer knows the response this turn chains onto."""


class AuthenticationError(APIStatusError):
    """401: the key is missing, wrong, revoked or expired."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not use this model or route."""


class NotFoundError(APIStatusError):
    """404: unknown model or route."""


class RateLimitError(APIStatusError):
    """429 after the retries ran out."""


class QuotaExceededError(RateLimitError):
    """The account's quota or balance is exhausted; retrying will not help."""


class ServerError(APIStatusError):
    """5xx after the retries ran out."""


class ConnectionFailedError(AGCloudError):
    """The server could not be reached."""


class RequestTimeoutError(AGCloudError):
    """The server did not answer in time."""


class StreamError(AGCloudError):
    """The response failed after it had started."""

    def __init__(
        self, message: str, *, code: str | None = None, partial: Any = None
    ) -> None:
        super().__init__(message, partial=partial)
        self.code = code


class ResponseFailedError(StreamError):
    """An ``error`` event or ``response.failed`` ended the response."""


class IncompleteResponseError(StreamError):
    """``response.incomplete``: the answer stopped early (see ``code`` for the reason)."""


class StreamCutError(StreamError):
    """The stream ended without a terminal event: the answer is cut short."""


class RequestInterrupted(AGCloudError):
    """The user interrupted the request; ``partial`` holds what had arrived."""


class ToolError(AGCloudError):
    """The tool-call loop could not go on (unknown tool, round bound reached)."""


_QUOTA_WORDS = ("insufficient_quota", "balance", "quota")


def status_error(
    status: int, body: bytes, headers: dict[str, str] | None = None, *, secret: str | None = None
) -> APIStatusError:
    """Map a non-2xx answer to the right exception with a one-line message.

    Reads both OpenAI's ``{"error": {message, type, param, code}}`` body and AGCloud's
    ``{"type": "error", "error": {type, message}}`` body; anything else is quoted briefly.
    """
    import json

    headers = headers or {}
    message, code, error_type, param = "", None, None, None
    try:
        payload = json.loads(body.decode("utf-8", "replace")) if body else None
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        err = payload.get("error")
        if isinstance(err, dict):
            message = str(err.get("message") or "")
            code = err.get("code")
            error_type = err.get("type")
            param = err.get("param")
        elif isinstance(err, str):
            message = err
        message = message or str(payload.get("message") or "")
    if not message and body:
        message = body[:200].decode("utf-8", "replace")
    server_text = redact(one_line(message, 240), secret) if message else ""
    request_id = headers.get("x-request-id")
    kwargs: dict[str, Any] = {
        "status": status,
        "code": str(code) if code is not None else None,
        "error_type": str(error_type) if error_type is not None else None,
        "param": str(param) if param is not None else None,
        "request_id": request_id,
    }
    said = f" Server said: {server_text}" if server_text else ""
    blob = f"{code} {error_type} {message}".lower()
    if status == 401:
        return AuthenticationError(
            "Authentication failed (401): check AGCLOUD_API_KEY (or run %agcloud login); "
            "the key may be missing, mistyped, revoked or expired.",
            **kwargs,
        )
    if status == 402 or (status in (403, 429) and any(w in blob for w in _QUOTA_WORDS)):
        return QuotaExceededError(
            f"Quota or balance exhausted ({status}): top up or raise the plan limit in the "
            f"AGCloud dashboard; retrying will not help.{said}",
            **kwargs,
        )
    if status == 403:
        return PermissionDeniedError(
            f"Permission denied (403): this key may not use this model or route.{said}", **kwargs
        )
    if status == 404:
        return NotFoundError(
            f"Not found (404): check the model name and AGCLOUD_BASE_URL.{said}", **kwargs
        )
    if status == 429:
        return RateLimitError(
            f"Rate limited (429) after retries: wait a moment and run again.{said}", **kwargs
        )
    if status >= 500:
        return ServerError(
            f"Server error ({status}) after retries: try again shortly.{said}", **kwargs
        )
    if code == "previous_response_not_found":
        return PreviousResponseNotFoundError(
            "The server no longer has the previous response of this conversation: start afresh "
            "with --new (or %agcloud new).",
            **kwargs,
        )
    where = f" (parameter {param})" if param else ""
    return BadRequestError(
        f"Request rejected ({status}){where}: {server_text or 'no details given'}", **kwargs
    )
