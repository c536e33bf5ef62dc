"""How a finished read ends: the :class:`~agcloud_magic.wire.result.Result`, or the error that
carries it as ``partial``.  Pure: the same events always end the same way.

* ``response.completed`` -> the result;
* ``response.incomplete`` -> :class:`~agcloud_magic.errors.IncompleteResponseError` (the reason
  as its ``code``; a ``max_output_tokens`` cut still exists on the server);
* ``response.failed`` or an ``error`` event -> :class:`~agcloud_magic.errors.ResponseFailedError`;
* no terminal event (the stream stopped) -> :class:`~agcloud_magic.errors.StreamCutError`, or
  :class:`~agcloud_magic.errors.ServerDataError` when some of what came was not JSON events
  (then the answer is not a usable stream at all, and "run again" is the wrong hint).

Server text kept on a failed result, and quoted in the message, is scrubbed of the key.
"""

from __future__ import annotations

from typing import Any

from agcloud_magic.errors import (
    IncompleteResponseError,
    ResponseFailedError,
    ServerDataError,
    StreamCutError,
    redact,
    scrub,
)
from agcloud_magic.wire import events as ev
from agcloud_magic.wire.accumulator import Accumulator
from agcloud_magic.wire.result import Result

__all__ = ["conclude", "whole_response"]


def whole_response(body: bytes) -> Accumulator:
    """An accumulator fed with one whole Response (a non-streamed answer, or a gateway's JSON
    answer to a stream request) as its terminal event; anything but a JSON object feeds
    nothing but the count of malformed data (and so ends as unusable server data)."""
    acc = Accumulator()
    try:
        data = ev.load_json(body)
    except ValueError:
        data = None
    if isinstance(data, dict):
        status = data.get("status")
        kind = {"incomplete": ev.INCOMPLETE, "failed": ev.FAILED}.get(
            status if isinstance(status, str) else "", ev.COMPLETED)
        acc.feed({"type": kind, "response": data})
    else:
        acc.malformed += 1
    return acc


def _scrubbed(value: Any, secret: str | None) -> Any:
    try:
        return scrub(value, secret)
    except RecursionError:
        # A server object nested nearly as deep as the parser allows: too deep to walk from
        # here, and nothing a user reads; drop it rather than keep an unscrubbed copy.
        return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def conclude(acc: Accumulator, *, elapsed: float, request_id: str | None,
             secret: str | None) -> Result:
    """The result of a finished read, or the error carrying it (see the module docstring)."""
    result = acc.finish(cut=True)
    result.elapsed = elapsed
    result.request_id = request_id
    if acc.terminal == ev.COMPLETED:
        return result
    # A failed or cut response keeps the server's error text on the result (-o VAR): scrub our
    # key from it, whatever its shape, as from the message below.
    result.error = _scrubbed(result.error, secret)
    result.response = _scrubbed(result.response, secret)
    if acc.terminal == ev.INCOMPLETE:
        reason = _text((result.incomplete_details or {}).get("reason")) or "unknown reason"
        hint = " (raise --max-output-tokens)" if reason == "max_output_tokens" else ""
        raise IncompleteResponseError(
            f"The answer is incomplete: {reason}{hint}.", code=reason, partial=result
        )
    if acc.terminal == ev.FAILED or acc.error_message is not None:
        error = result.error or {}
        code = ev.error_details({"error": error})[0] or acc.error_code
        message = _text(error.get("message")) or acc.error_message or "no details given"
        # AGCloudError itself only knows what an sk- key looks like: scrub ours, whatever its
        # shape, as status_error does for HTTP errors.
        message = redact(message, secret)
        raise ResponseFailedError(
            f"The response failed ({code or 'error'}): {message}", code=code, partial=result
        )
    if acc.malformed:
        raise ServerDataError(
            f"The server's answer is not usable Responses API data: {acc.malformed} of its "
            "data lines were no JSON event, and it ended without a final response. Check "
            "that AGCLOUD_BASE_URL points at a Responses API (…/v1).",
            partial=result,
        )
    raise StreamCutError(
        "The answer was cut short: the stream ended before the response finished; run the "
        "cell again.",
        partial=result,
    )
