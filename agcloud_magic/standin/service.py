"""``POST /v1/responses`` semantics: chaining, tool-output checks, choosing the model, storing.

Pure request -> response logic; the HTTP handler owns the wire.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from .common import ApiError
from .events import Rendered, render_plan, response_skeleton
from .inputs import count_tokens, function_call_outputs, function_calls
from .models import model_plan, script_plan
from .records import StoredResponse

if TYPE_CHECKING:
    from .replay import Recording
    from .server import StandinServer

__all__ = ["commit", "create_response"]


def _chain(srv: StandinServer, previous_id: str | None) -> list[StoredResponse]:
    """Stored ancestors, nearest first; an unknown parent is the API's 400."""
    if previous_id is None:
        return []
    parent = srv.stored.get(previous_id)
    if parent is None:
        raise ApiError(
            400, f"Previous response with id '{previous_id}' not found.",
            param="previous_response_id", code="previous_response_not_found",
        )
    chain, seen = [parent], {parent.id}
    while chain[-1].previous_response_id and chain[-1].previous_response_id not in seen:
        ancestor = srv.stored.get(chain[-1].previous_response_id)
        if ancestor is None:  # deleted ancestor: the context simply ends there
            break
        chain.append(ancestor)
        seen.add(ancestor.id)
    return chain


def _call_names(chain: list[StoredResponse], input_value: Any) -> dict[str, str]:
    names: dict[str, str] = {}
    for record in reversed(chain):
        for item in [*function_calls(record.input), *record.response.get("output", [])]:
            if item.get("type") == "function_call":
                names[item["call_id"]] = item["name"]
    for item in function_calls(input_value):
        names[item["call_id"]] = item["name"]
    return names


def _check_tool_outputs(
    chain: list[StoredResponse], input_value: Any, names: dict[str, str]
) -> None:
    given = {o["call_id"] for o in function_call_outputs(input_value)}
    if chain:
        for item in chain[0].response.get("output", []):
            if item.get("type") == "function_call" and item["call_id"] not in given:
                raise ApiError(
                    400, f"No tool output found for function call {item['call_id']}.",
                    param="input", code=None,
                )
    orphans = sorted(given - set(names))
    if orphans:
        raise ApiError(
            400, f"No tool call found for function call output with call_id {orphans[0]}.",
            param="input", code=None,
        )


def _context_tokens(chain: list[StoredResponse]) -> int:
    """Chained turns are billed again as input on every request (protocol section 6)."""
    total = 0
    for record in chain:
        total += count_tokens(record.input)
        for item in record.response.get("output", []):
            for part in item.get("content") or []:
                total += len(str(part.get("text", "")).split())
            total += len(str(item.get("arguments", "")).split())
    return total


def _replayed(recording: Recording) -> Rendered:
    return Rendered(
        list(recording.events),
        copy.deepcopy(recording.final) if recording.final else None,
        recording.snapshot or {},
        {"replay": recording.path},
    )


def create_response(srv: StandinServer, body: dict[str, Any]) -> Rendered:
    """Build the response for a validated body; raises :class:`ApiError` for protocol 400s."""
    if srv.cassette is not None:  # a recorded lesson: the recorded answer, or a 400
        events, final, waits = srv.cassette.answer(body)
        return Rendered(events, final, {}, {"replay": "cassette", "waits": waits,
                                            "input": body["input"], "store": True,
                                            "previous_response_id": None, "turn": 0})
    previous_id = body.get("previous_response_id")
    chain = [] if srv.drop_history else _chain(srv, previous_id)
    names = _call_names(chain, body["input"])
    _check_tool_outputs(chain, body["input"], names)
    turn = chain[0].turn + 1 if chain else 1
    scripted = srv._pop_script()
    if scripted is not None:
        plan = script_plan(scripted)
    else:
        plan = model_plan(body, turn=turn, call_names=names)
    if plan.replay is not None:
        rendered = _replayed(plan.replay)
    else:
        own = plan.input_tokens
        if own is None:
            own = count_tokens(body["input"], body.get("instructions"))
        input_tokens = _context_tokens(chain) + own
        rendered = render_plan(
            plan, response_skeleton(body), input_tokens=max(1, input_tokens),
            max_output_tokens=body.get("max_output_tokens"),
        )
    rendered.meta.update(
        turn=turn, input=body["input"], previous_response_id=previous_id,
        store=body.get("store") is not False,
    )
    return rendered


def commit(srv: StandinServer, rendered: Rendered) -> None:
    """Store a finished response unless ``store`` was false or it failed."""
    final = rendered.final
    if not rendered.meta.get("store") or not final:
        return
    if final.get("status") not in ("completed", "incomplete"):
        return
    srv._remember(StoredResponse(
        id=final["id"], response=copy.deepcopy(final), input=rendered.meta["input"],
        turn=rendered.meta["turn"], previous_response_id=rendered.meta["previous_response_id"],
    ))
