"""One exception tree for every expected failure.

Each class carries a one-line ``message`` that says what went wrong and what to do about it;
``str(exc)`` is that line.  The API key never appears in a message or a repr: messages are built
from status codes, error codes and server text, and :func:`redact` scrubs anything that looks like
a key from server text before it is kept.

::

    AGCloudError
    ├── ConfigError                      settings or options are unusable; nothing was sent
    │   ├── MissingKeyError              no AGCLOUD_API_KEY
    │   ├── InvalidKeyError              the key holds characters no key has
    │   └── InsecureBaseURLError         http:// to a non-loopback host
    ├── APIStatusError                   the server answered with a non-2xx status
    │   ├── BadRequestError              400 / 422
    │   │   └── PreviousResponseNotFoundError
    │   ├── AuthenticationError          401
    │   ├── PermissionDeniedError        403
    │   ├── NotFoundError                404
    │   │   └── ModelNotFoundError       unknown model (404, or a gateway's 400)
    │   ├── RateLimitError               429 (after retries)
    │   │   └── QuotaExceededError       insufficient_quota / balance / 402
    │   └── ServerError                  5xx (after retries)
    ├── ConnectionFailedError            could not connect (after retries)
    │   └── ConnectionDroppedError       closed mid-request, after it was sent (not re-sent)
    ├── RequestTimeoutError              no answer in time
    │   └── DeadlineExceededError        the whole request took longer than its deadline
    ├── StreamError                      the response failed after it started
    │   ├── ResponseFailedError          ``error`` event or ``response.failed``
    │   ├── IncompleteResponseError      ``response.incomplete`` (e.g. max_output_tokens)
    │   ├── StreamCutError               the stream ended without a terminal event
    │   └── ServerDataError              the answer is not usable Responses API data
    │       └── AnswerTooLargeError      the answer passed the size cap
    ├── RequestInterrupted               the user interrupted (Ctrl-C, Stop)
    ├── NotConfirmedError                a large batch was not confirmed; nothing was sent
    ├── SpendingLimitError               the kernel's budget would be passed; nothing was sent
    └── ToolError                        the tool loop could not go on
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "AGCloudError",
    "APIStatusError",
    "AnswerTooLargeError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigError",
    "ConnectionDroppedError",
    "ConnectionFailedError",
    "DeadlineExceededError",
    "IncompleteResponseError",
    "InsecureBaseURLError",
    "InvalidKeyError",
    "MissingKeyError",
    "ModelNotFoundError",
    "NotConfirmedError",
    "NotFoundError",
    "PermissionDeniedError",
    "PreviousResponseNotFoundError",
    "QuotaExceededError",
    "RateLimitError",
    "RequestInterrupted",
    "RequestTimeoutError",
    "ResponseFailedError",
    "ServerDataError",
    "ServerError",
    "SpendingLimitError",
    "StreamCutError",
    "StreamError",
    "ToolError",
    "one_line",
    "printable",
    "redact",
    "remember_secret",
    "replace_surrogates",
    "request_id_from",
    "scrub",
    "status_error",
]

_KEY_PATTERN = re.compile(r"(sk-[A-Za-z0-9_\-]{2})[A-Za-z0-9_\-]{4,}")


# Every key the package was given (see remember_secret), newest last: redact() masks them all
# whatever their shape, so a server echoing the key in any field cannot get it shown.  Bounded:
# a session that cycles through keys keeps the most recent ones.
_SECRETS: dict[str, None] = {}
_MAX_SECRETS = 32
# Shorter strings are not remembered: masking every "abc" in every message would garble the
# messages, and such a value is no secret worth the name.
_MIN_SECRET = 8


def remember_secret(secret: str | None) -> None:
    """Mask ``secret`` in every message and error attribute from now on (see :func:`redact`)."""
    if not secret or len(secret) < _MIN_SECRET:
        return
    _SECRETS.pop(secret, None)
    _SECRETS[secret] = None
    while len(_SECRETS) > _MAX_SECRETS:
        del _SECRETS[next(iter(_SECRETS))]


def redact(text: str, secret: str | None = None) -> str:
    """Return ``text`` with ``secret``, every remembered key and anything shaped like an
    ``sk-`` key masked."""
    for known in (secret, *reversed(_SECRETS)):
        if known and known in text:
            text = text.replace(known, "[redacted key]")
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


# C0 and C1 controls (ESC starts a terminal's title, clipboard and screen sequences; 0x9b is
# a one-byte CSI) and the bidirectional overrides that make text read differently than it is.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_LOW_SURROGATE = "\udc00"


def replace_surrogates(text: str, *, keep_ends: bool = False) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD; ``keep_ends`` keeps a low one at
    the start and a high one at the end (the halves a neighbouring delta may complete)."""
    if not _LONE_SURROGATE.search(text):
        return text
    last = len(text) - 1

    def replace(match: re.Match[str]) -> str:
        char, at = match.group(), match.start()
        low = char >= _LOW_SURROGATE
        if keep_ends and ((at == 0 and low) or (at == last and not low)):
            return char
        return "\ufffd"

    return _LONE_SURROGATE.sub(replace, text)



def printable(text: str) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``), so a server's
    string cannot drive a terminal or reorder what is read; other text is kept as it is."""
    return _CONTROL.sub(lambda m: _escape(m.group()), str(text))


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace so a server message fits on one line, cut at ``limit`` characters;
    control characters are shown escaped (:func:`printable`)."""
    flat = printable(" ".join(str(text).split()))
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class AGCloudError(Exception):
    """Base of every expected failure; ``str()`` is a one-line message with a hint."""

    hint: str = ""

    def __init__(self, message: str, *, partial: Any = None) -> None:
        self.message = one_line(message, limit=600)
        # The partial result (text already streamed) of a request that failed mid-way.
        self.partial = partial
        super().__init__(self.message)

    def __setattr__(self, name: str, value: Any) -> None:
        # Every text attribute (message, code, param, request_id ...) may quote the server,
        # which saw the key: masked on the way in, so no attribute can show it.  Half of a
        # surrogate pair (a UTF-16 gateway's "\ud83d") would make it unprintable in a kernel
        # or a terminal: replaced too.
        if isinstance(value, str):
            value = replace_surrogates(redact(value))
        super().__setattr__(name, value)

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


class InvalidKeyError(ConfigError):
    """The key holds characters no API key has (a pasted zero-width space, a line break)."""


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


class ModelNotFoundError(NotFoundError):
    """The server (or a gateway, with a 400) does not know the model, or not for this key."""


class RateLimitError(APIStatusError):
    """429 after the retries ran out."""


class QuotaExceededError(RateLimitError):
    """The account's quota or balance is exhausted; retrying will not help."""


class ServerError(APIStatusError):
    """5xx after the retries ran out."""


class ConnectionFailedError(AGCloudError):
    """The server could not be reached."""


class ConnectionDroppedError(ConnectionFailedError):
    """The connection was closed after the request went out, with no answer; it is not re-sent
    (the server may already have run it)."""


class RequestTimeoutError(AGCloudError):
    """The server did not answer in time."""


class DeadlineExceededError(RequestTimeoutError):
    """The whole request (connect, headers, every byte of the answer) took longer than its
    deadline, however steadily the server trickled."""


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


class ServerDataError(StreamError):
    """The server answered with something that is not usable Responses API data: malformed
    or mislabelled events, an HTML page, a redirect, a body that does not decode."""


class AnswerTooLargeError(ServerDataError):
    """The answer passed the configured size cap; what arrived before it is kept."""


class RequestInterrupted(AGCloudError):
    """The user interrupted the request; ``partial`` holds what had arrived."""


class NotConfirmedError(AGCloudError):
    """A batch above ``confirm_rows`` was not confirmed (or could not be asked): nothing was
    sent."""


class SpendingLimitError(AGCloudError):
    """The request would pass the kernel's budget (``%agcloud budget``): it was not sent."""


class ToolError(AGCloudError):
    """The tool-call loop could not go on (unknown tool, round bound reached)."""




# -- reading an error body ------------------------------------------------------------------

# Where gateways put the request id, most specific first: OpenAI's own, then what LiteLLM
# passes through from the upstream, LiteLLM's call id, Azure API Management's, AWS's.
REQUEST_ID_HEADERS = (
    "x-request-id", "request-id", "x-litellm-call-id", "apim-request-id", "x-amzn-requestid",
)


def request_id_from(headers: Mapping[str, str] | None) -> str | None:
    """The request id a server or gateway sent (the first of :data:`REQUEST_ID_HEADERS`)."""
    if not headers:
        return None
    lowered = {str(name).lower(): value for name, value in headers.items()}
    return next((lowered[name] for name in REQUEST_ID_HEADERS if lowered.get(name)), None)


def _sse_payload(text: str) -> Any:
    """The first JSON object in the ``data:`` lines of an SSE body (a gateway that streams its
    error: ``data: {"error": ...}`` then ``data: [DONE]``), or ``None``."""
    for line in text.splitlines():
        if not line.startswith("data:"):
            continue
        value = line[5:].strip()
        try:
            payload = json.loads(value)
        except ValueError:
            continue
        if isinstance(payload, dict):
            return payload
    return None


def _payload(body: bytes, headers: Mapping[str, str]) -> Any:
    """The body as JSON, from a JSON body or an SSE one; ``None`` if it is neither."""
    text = body.decode("utf-8", "replace") if body else ""
    try:
        return json.loads(text) if text else None
    except ValueError:
        pass
    kind = str(headers.get("content-type") or "")
    if kind.startswith("text/event-stream") or text.lstrip().startswith(("data:", "event:")):
        return _sse_payload(text)
    return None


def _error_fields(payload: Any) -> tuple[str, Any, Any, Any]:
    """``(message, code, type, param)`` of an OpenAI or AGCloud error body."""
    message, code, error_type, param = "", None, None, None
    if isinstance(payload, dict):
        err = payload.get("error")
        if isinstance(err, dict):
            message = str(err.get("message") or "")
            code, error_type, param = err.get("code"), err.get("type"), err.get("param")
        elif isinstance(err, str):
            message = err
        message = message or str(payload.get("message") or "")
    return message, code, error_type, param


_DECODER = json.JSONDecoder()


def _unwrap(message: str, inner: list[dict[str, Any]], depth: int = 0) -> str:
    """``message`` with every error body embedded in it (a gateway quoting its upstream, as
    LiteLLM does: ``OpenAIException - {"error": {...}}``) replaced by that body's own message;
    the embedded error objects are appended to ``inner``, outermost first."""
    if depth > 3 or "{" not in message or len(message) > 20_000:
        return message  # bounded: a failed raw_decode may scan to the end, once per brace
    out, start = [], 0
    index = message.find("{")
    while index != -1:
        try:
            value, end = _DECODER.raw_decode(message, index)
        except ValueError:
            index = message.find("{", index + 1)
            continue
        err = value.get("error") if isinstance(value, dict) else None
        if not isinstance(err, dict):
            index = message.find("{", end)
            continue
        inner.append(err)
        out.append(message[start:index])
        out.append(_unwrap(str(err.get("message") or ""), inner, depth + 1))
        start = end
        index = message.find("{", end)
    out.append(message[start:])
    return "".join(out)


_PREVIOUS_NOT_FOUND = re.compile(r"previous response with id .{0,500}? not found", re.I | re.S)
_MODEL_NAMED = (
    re.compile(r"\bmodel [`'\"]([^`'\"\s]{1,200})[`'\"] does not exist", re.I),
    re.compile(r"invalid model name passed in model=(\S{1,200}?)\.?(?:\s|$)", re.I),
    re.compile(r"\bunknown model[:\s]+[`'\"]?([^`'\"\s,]{1,200})", re.I),
)
_MODEL_UNKNOWN = re.compile(
    r"model_not_found|invalid model name|unknown model|model [`'\"]?\S+?[`'\"]? does not exist",
    re.I,
)
# Money, not pace: a balance, credit or billing limit stays exhausted however long one waits.
_QUOTA = re.compile(r"insufficient_quota|balance|quota|credit|billing", re.I)
# ... unless the text names a rate window: "quota exceeded for requests per minute" passes.
_RATE_WINDOW = re.compile(r"per (second|minute|hour)|rate.?limit|try again in|\b[rt]pm\b", re.I)


def _model_name(text: str) -> str | None:
    for pattern in _MODEL_NAMED:
        found = pattern.search(text)
        if found:
            return found.group(1)
    return None


def _is_quota(status: int, codes: set[str], text: str) -> bool:
    if status == 402 or "insufficient_quota" in codes:
        return True
    return status in (403, 429) and bool(_QUOTA.search(text)) and not _RATE_WINDOW.search(text)


def _unknown_model(
    status: int, kwargs: dict[str, Any], name: str | None, base_url: str | None
) -> ModelNotFoundError:
    named = f"Unknown model '{one_line(name, 120)}'" if name else "Unknown model"
    where = f"{base_url.rstrip('/')}/models" if base_url else "$AGCLOUD_BASE_URL/models"
    return ModelNotFoundError(
        f"{named} ({status}): the server does not offer it to this key. %agcloud models (or "
        f"GET {where}) lists the models; choose one with --model or %agcloud config model=NAME.",
        **kwargs,
    )


def status_error(
    status: int,
    body: bytes,
    headers: Mapping[str, str] | None = None,
    *,
    secret: str | None = None,
    model: str | None = None,
    base_url: str | None = None,
) -> APIStatusError:
    """Map a non-2xx answer to the right exception with a one-line message.

    Reads OpenAI's ``{"error": {message, type, param, code}}`` body, AGCloud's
    ``{"type": "error", "error": {type, message}}``, either sent as SSE ``data:`` lines, and a
    gateway's body that quotes its upstream's inside its message (LiteLLM: top-level ``code``
    is the HTTP status, the upstream's code sits in the nested JSON); anything else is quoted
    briefly.  ``model`` (the one sent) and ``base_url`` name the way out of an unknown model.
    """
    headers = {str(k).lower(): v for k, v in (headers or {}).items()}
    message, code, error_type, param = _error_fields(_payload(body, headers))
    inner: list[dict[str, Any]] = []
    flat = _unwrap(message, inner)
    codes = {str(c) for c in [code, *(e.get("code") for e in inner)] if c is not None}
    if inner and (code is None or str(code).isdigit()):
        # A gateway's "code": "400" says less than the upstream's own code.
        code = next((e.get("code") for e in inner if e.get("code") is not None), code)
    if param is None:
        param = next((e.get("param") for e in inner if e.get("param") is not None), None)
    if not flat and body:
        flat = body[:200].decode("utf-8", "replace")
    server_text = redact(one_line(flat, 240), secret) if flat else ""
    kwargs: dict[str, Any] = {
        "status": status,
        "code": str(code) if code is not None else None,
        "error_type": str(error_type) if error_type is not None else None,
        "param": str(param) if param is not None else None,
        "request_id": request_id_from(headers),
    }
    said = f" Server said: {server_text}" if server_text else ""
    blob = f"{' '.join(sorted(codes))} {error_type} {flat} {message}"
    if status == 401:
        # Behind a gateway the refused key may be the gateway's own upstream key, which the
        # user cannot fix with theirs: keep our hint, and the server's words that tell.
        gateway = " (or, behind a gateway, its own upstream key may be the one refused)"
        return AuthenticationError(
            "Authentication failed (401): check AGCLOUD_API_KEY (or run %agcloud login); "
            f"the key may be missing, mistyped, revoked or expired{gateway if inner else ''}."
            f"{said}",
            **kwargs,
        )
    if _is_quota(status, codes, blob):
        return QuotaExceededError(
            f"Quota or balance exhausted ({status}): top up or raise the plan limit in the "
            f"AGCloud dashboard; retrying will not help.{said}",
            **kwargs,
        )
    if status in (400, 404, 409, 422) and (
        "previous_response_not_found" in blob or _PREVIOUS_NOT_FOUND.search(message)
    ):
        return PreviousResponseNotFoundError(
            "The server no longer has the previous response of this conversation: start afresh "
            "with --new (or %agcloud new).",
            **kwargs,
        )
    if status in (400, 404, 422) and _MODEL_UNKNOWN.search(blob):
        return _unknown_model(status, kwargs, model or _model_name(flat), base_url)
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
    where = f" (parameter {param})" if param else ""
    return BadRequestError(
        f"Request rejected ({status}){where}: {server_text or 'no details given'}", **kwargs
    )
