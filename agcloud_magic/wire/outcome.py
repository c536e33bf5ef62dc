"""How a finished read ends: the :class:`~agcloud_magic.wire.result.Result`, or the error that
carries it as ``partial``.  Pure: the same events always end the same way.

* ``response.completed`` -> the result;
* ``response.incomplete`` -> :class:`~agcloud_magic.errors.IncompleteResponseError` (the reason
  as its ``code``; a ``max_output_tokens`` cut still exists on the server);
* ``response.failed`` or an ``error`` event -> :class:`~agcloud_magic.errors.ResponseFailedError`;
* no terminal event (the stream stopped) -> :class:`~agcloud_magic.errors.StreamCutError`.

Server text kept on a failed result, and quoted in the message, is scrubbed of the key.
"""

from __future__ import annotations

import json

from agcloud_magic.errors import (
    IncompleteResponseError,
    ResponseFailedError,
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
    nothing (and so ends as a cut answer)."""
    acc = Accumulator()
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict):
        status = data.get("status")
        kind = {"incomplete": ev.INCOMPLETE, "failed": ev.FAILED}.get(status, ev.COMPLETED)
        acc.feed({"type": kind, "response": data})
    return acc


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
    result.error = scrub(result.error, secret)
    result.response = scrub(result.response, secret)
    if acc.terminal == ev.INCOMPLETE:
        reason = (result.incomplete_details or {}).get("reason") or "unknown reason"
        hint = " (raise --max-output-tokens)" if reason == "max_output_tokens" else ""
        raise IncompleteResponseError(
            f"The answer is incomplete: {reason}{hint}.", code=reason, partial=result
        )
    if acc.terminal == ev.FAILED or acc.error_message is not None:
        error = result.error or {}
        code = error.get("code") or acc.error_code
        message = error.get("message") or acc.error_message or "no details given"
        # AGCloudError itself only knows what an sk- key looks like: scrub ours, whatever its
        # shape, as status_error does for HTTP errors.
        message = redact(message, secret)
        raise ResponseFailedError(
            f"The response failed ({code or 'error'}): {message}", code=code, partial=result
        )
    raise StreamCutError(
        "The answer was cut short: the stream ended before the response finished; run the "
        "cell again.",
        partial=result,
    )
