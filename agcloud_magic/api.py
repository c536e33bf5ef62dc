"""The Python face: ``respond()``, ``arespond()`` and :class:`Client` mirror the magic.

Each call becomes one :class:`~agcloud_magic.engine.ask.Ask` and runs through the same turn
driver as ``%%respond`` (so Python tools get the same validated, bounded loop), on the session
the faces share: the loaded extension's (so ``%agcloud login``/``offline`` and ``%config`` apply
here too), else one made from the environment.  Calls are stateless: they chain only through
an explicit ``previous_response_id`` and never move a notebook thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from agcloud_magic.engine.ask import Ask
from agcloud_magic.engine.conversation import Conversation
from agcloud_magic.engine.driver import NULL_SINK
from agcloud_magic.engine.runner import get_runner
from agcloud_magic.engine.session import current_session
from agcloud_magic.http.client import Client as _HTTPClient
from agcloud_magic.wire.result import Result

__all__ = ["Client", "arespond", "respond"]

EventCallback = Callable[[dict[str, Any]], None]


class Client(_HTTPClient):
    """A connection to the Responses API (see :class:`agcloud_magic.http.client.Client`),
    with :meth:`respond` / :meth:`arespond` that run the full turn through it."""

    def respond(self, input: Any, **params: Any) -> Result:
        """:func:`agcloud_magic.respond` through this client (same keywords)."""
        return respond(input, client=self, **params)

    async def arespond(self, input: Any, **params: Any) -> Result:
        """:func:`agcloud_magic.arespond` through this client (same keywords)."""
        return await arespond(input, client=self, **params)


def _ask(input: Any, params: dict[str, Any]) -> Ask:
    """The Ask for a call: ``input`` is a string, one message dict, or a list of input items."""
    from agcloud_magic.tools import (
        DEFAULT_MAX_CALLS,
        DEFAULT_MAX_CALLS_PER_ROUND,
        DEFAULT_MAX_ROUNDS,
        ToolRegistry,
    )

    fields = dict(params)
    tools = fields.pop("tools", None)
    previous = fields.pop("previous_response_id", None)
    max_rounds = fields.pop("max_rounds", None) or DEFAULT_MAX_ROUNDS
    per_round = _pop_bound(fields, "max_tool_calls_per_round", DEFAULT_MAX_CALLS_PER_ROUND)
    max_calls = _pop_bound(fields, "max_tool_calls", DEFAULT_MAX_CALLS)
    if isinstance(input, dict):
        input = [input]
    text, items = (input, None) if isinstance(input, str) else ("", list(input))
    return Ask(
        text=text,
        items=items,
        fields=fields,
        continue_id=previous,
        tools=ToolRegistry(tools) if tools else None,
        max_rounds=max_rounds,
        max_calls_per_round=per_round,
        max_calls=max_calls,
        source="api",
    )


def _pop_bound(fields: dict[str, Any], name: str, default: int) -> Any:
    """A tool-call bound given as a keyword (checked by the Ask), else its default."""
    value = fields.pop(name, None)
    return default if value is None else value


def respond(
    input: Any,
    *,
    client: _HTTPClient | None = None,
    on_event: EventCallback | None = None,
    **params: Any,
) -> Result:
    """Send ``input`` to the Responses API and return the :class:`Result`.

    Keywords are request fields (``model``, ``instructions``, ``max_output_tokens``,
    ``temperature``, ``top_p``, ``stream``, ``tools``, ``tool_choice``, ``reasoning``,
    ``previous_response_id``, ``truncation``, and any other field of the API), checked by the
    same rules as the magic's options.  ``on_event`` sees every raw event as it arrives.

    ``tools`` may hold Python callables next to JSON tool specs: then the model's calls to
    them are answered (only those functions run; arguments are validated first) and the
    request is repeated, chained by ``previous_response_id``, until the model answers in text
    or ``max_rounds`` (default 8) is reached.  At most ``max_tool_calls_per_round`` (16) calls
    of one response and ``max_tool_calls`` (64) in all are run; a response asking for more
    runs none of its calls and raises a ``ToolError``.  With JSON function specs alone (no
    Python callable) nothing runs here: the first response's calls come back unanswered in
    ``result.function_calls``, for the caller to run, as with the bare API.
    """
    ask = _ask(input, params)
    session = current_session()
    return session.respond(
        ask, conversation=Conversation(), on_event=on_event, client=client or session.client()
    )


async def arespond(
    input: Any,
    *,
    client: _HTTPClient | None = None,
    on_event: EventCallback | None = None,
    **params: Any,
) -> Result:
    """Awaitable :func:`respond`: runs on the package's private loop, so the caller's loop
    (the kernel's, patched by nest-asyncio or not) is never blocked or re-entered; Python tools
    run in a worker thread."""
    ask = _ask(input, params)
    session = current_session()
    coro = session.arun(ask, NULL_SINK, conversation=Conversation(), on_event=on_event,
                        client=client or session.client())
    return await asyncio.wrap_future(get_runner().submit(coro))
