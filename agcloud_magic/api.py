"""The Python face: ``respond()`` and ``arespond()`` mirror the ``%%respond`` magic."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .config import Settings
from .result import Result
from .runner import get_runner

if TYPE_CHECKING:  # httpx loads with the client, on the first request, not at %load_ext
    from .client import Client

EventCallback = Callable[[dict[str, Any]], None]

# Request fields respond() names explicitly; any other keyword passes through to the body.
_FIELDS = (
    "model", "instructions", "max_output_tokens", "temperature", "top_p", "stream", "tools",
    "tool_choice", "reasoning", "previous_response_id", "truncation",
)

_CLIENTS: dict[Settings, Client] = {}


def current_settings() -> Settings:
    """The settings in force: the loaded extension's (so ``%agcloud login``/``offline`` and
    ``%config`` apply to the Python API too), else the environment, read now."""
    if "IPython" in sys.modules:
        from IPython import get_ipython

        from .extension import get_magics

        shell = get_ipython()
        magics = get_magics(shell) if shell is not None else None
        if magics is not None:
            return magics.settings()
    return Settings.from_env()


def default_client(settings: Settings | None = None) -> Client:
    """A client for ``settings`` (default: :func:`current_settings`), reused across calls."""
    from .client import Client

    settings = settings or current_settings()
    client = _CLIENTS.get(settings)
    if client is None:
        client = _CLIENTS[settings] = Client(settings)
    return client


def request_body(input: Any, **params: Any) -> dict[str, Any]:
    """The JSON body for ``input`` and request fields; ``None`` values are left out.

    ``input`` is a string, a list of input items, or one message dict.  Streaming is on unless
    ``stream=False``.
    """
    if isinstance(input, dict):
        input = [input]
    body: dict[str, Any] = {"input": input}
    for key, value in params.items():
        if value is not None:
            body[key] = value
    body.setdefault("stream", True)
    return body


def respond(
    input: Any,
    *,
    client: Client | None = None,
    on_event: EventCallback | None = None,
    **params: Any,
) -> Result:
    """Send ``input`` to the Responses API and return the :class:`Result`.

    Keywords are request fields (``model``, ``instructions``, ``max_output_tokens``,
    ``temperature``, ``top_p``, ``stream``, ``tools``, ``tool_choice``, ``reasoning``,
    ``previous_response_id``, ``truncation``, and any other field of the API).

    ``tools`` may hold Python callables next to JSON tool specs: then the model's calls to
    them are answered (only those functions run; arguments are validated first) and the
    request is repeated, chained by ``previous_response_id``, until the model answers in text
    or ``max_rounds`` (default 8) is reached.
    """
    client = client or default_client()
    tools = params.get("tools")
    if tools and any(callable(tool) for tool in tools):
        return _respond_with_tools(client, input, on_event, **params)
    return client.create(request_body(input, **params), on_event=on_event)


def _respond_with_tools(
    client: Client,
    input: Any,
    on_event: EventCallback | None,
    *,
    tools: list[Any],
    max_rounds: int | None = None,
    **params: Any,
) -> Result:
    """The tool loop of :func:`respond` (the magics run theirs through the session)."""
    from .exchange import rounds_exhausted
    from .tools import DEFAULT_MAX_ROUNDS, ToolRegistry

    registry = ToolRegistry(tools)
    bound = max_rounds or DEFAULT_MAX_ROUNDS
    body = request_body(input, tools=registry.specs(), **params)
    # Follow-ups carry the tool outputs; a forced tool_choice would only loop.
    follow = {k: v for k, v in params.items() if k not in ("previous_response_id", "tool_choice")}
    for _round in range(bound + 1):
        result = client.create(body, on_event=on_event)
        calls = result.function_calls
        if not calls:
            return result
        if _round == bound:
            break
        outputs = [run.output_item for run in registry.run_all(calls)]
        body = request_body(
            outputs, tools=registry.specs(), previous_response_id=result.id, **follow
        )
    raise rounds_exhausted(bound, result, "max_rounds")


async def arespond(
    input: Any,
    *,
    client: Client | None = None,
    on_event: EventCallback | None = None,
    **params: Any,
) -> Result:
    """Awaitable :func:`respond`: runs on the package's private loop, so the caller's loop
    (the kernel's, patched by nest-asyncio or not) is never blocked or re-entered."""
    client = client or default_client()
    tools = params.get("tools")
    if tools and any(callable(tool) for tool in tools):
        # Python tools run in a worker thread, off the caller's loop and off ours.
        return await asyncio.get_running_loop().run_in_executor(
            None, lambda: _respond_with_tools(client, input, on_event, **params)
        )
    future = get_runner().submit(client.acreate(request_body(input, **params), on_event=on_event))
    return await asyncio.wrap_future(future)
