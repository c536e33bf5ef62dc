"""Offline stand-in for AGCloud's (OpenAI-compatible) Responses API, for tests and demos.

It is a real HTTP server on loopback that speaks the protocol of
``reference/responses-protocol.md`` with deterministic models that say plainly that no model
was called: ``echo`` (every listed name but ``lorem``, so ``gpt-4o-mini`` works offline),
``lorem`` / ``lorem-N`` (N deltas of Markdown) and scripted turns.  Faults can be injected per
request.

    with serve() as srv:
        client = OpenAI(base_url=srv.base_url, api_key="sk-test-123")

Models (the response echoes the requested model name).  Only listed models are served:
:data:`DEFAULT_MODELS` (``echo``, ``lorem``, ``gpt-4o-mini``, ``gpt-4o``, ``gpt-4.1``,
``gpt-4.1-mini``, ``o4-mini``: every name the README, docs and panel use) unless
``serve(models=[...])`` (or ``--models a,b``) gives another list.  ``GET /v1/models`` and
``GET /v1/models/{id}`` list them; any other name is the API's 404 ``model_not_found`` (after
the body's checks, before a scripted turn is consumed).

* ``echo`` and every other listed name: restates the last user message, reports every part
  received (images and files with MIME type and size) and the parameters; "Turn N" is the
  depth of the ``previous_response_id`` chain.  With function tools, each line
  ``call NAME({json})`` becomes a ``function_call`` (several lines: parallel calls); else a
  tool the message asks for in plain words (its name, or two keywords of its name and
  description) is called with arguments read from the message (enum values, numbers,
  ``name=value``); ``tool_choice`` "required" or a named function forces a call.  The exact
  rule is in :mod:`.toolcall`.  No match: the plain echo.  Tool results that follow the last
  user message are answered with ``Tool results: NAME -> output``.
  Structured requests (a forced ``strict: true`` function tool, or ``text.format``
  ``json_schema``) get a deterministic valid instance of the schema derived from the message,
  one per ``### row <id>`` block when the schema has a ``rows`` array; see :mod:`.structured`.
* ``lorem`` / ``lorem-N``: exactly N text deltas (default 500) of Markdown.
* ``srv.script([...])``: scripted turns, whatever the model (see ``StandinServer.script``).

``max_output_tokens`` counts one token per delta; running out ends with
``response.incomplete``.  Faults (``fail_next``, ``slow_first_byte``, ``drip``, ``stall_after``,
``cut_after``, ``error_mid_stream``, ``fail_in_stream``, ``ignore_stream``) apply FIFO to the
next requests that arrive; a stream-only fault met by a ``stream:false`` request answers 500
``standin_fault_mismatch``.  ``srv.requests`` records each request as it arrived, and
``srv.streams`` how far each stream got and how it ended (``client_gone`` for a cancel).
Profiles apply to every request until changed and are off by default:
``srv.latency(first_token=0.8, tokens_per_second=60)`` (a token is ~4 characters of output,
streamed or not) and ``srv.rate_limit(rpm=500, tpm=200_000)`` (429 ``rate_limit_exceeded``
with ``Retry-After`` over a rolling 60 s window), also ``--first-token``,
``--tokens-per-second``, ``--rpm`` and ``--tpm`` on the command line; ``srv.requests_served``
and ``srv.rate_limited`` count what happened.
Stored responses stay in memory (at most ``max_stored``), and with ``serve(store_path=...)``
(``--store-path``) in a JSON-lines file a later server loads (see :mod:`.store`).
Scripted turns are consumed only by requests that pass validation.  Streams use chunked
encoding on keep-alive connections; a cut leaves the chunked body unterminated unless
``clean=True``.  Also served: ``GET``/``DELETE /v1/responses/{id}``, ``GET /v1/models``.

Standard library only; shares no code with the client side of the package on purpose.
"""

from .catalog import DEFAULT_MODELS
from .records import RecordedRequest, StoredResponse, StreamRecord
from .server import StandinServer, serve

__all__ = [
    "DEFAULT_MODELS", "RecordedRequest", "StandinServer", "StoredResponse", "StreamRecord", "serve",
]
