"""One row's request and how its answer is read: a forced ``record_row`` function call.

With a schema, the request carries one strict function tool whose parameters are the schema,
and ``tool_choice`` forces it, so the call's ``arguments`` are the row's result.  The engine is
told not to run that function (``Ask.stop_at_calls``): the turn ends at the first response.
With ``schema_as="text_format"`` the schema goes as ``text.format`` ``json_schema`` (strict)
instead, and the answer's text is the result: for models or gateways that do structured
output but not forced tools.  Without a schema the answer's text is the result.  Requests
are stateless: a fresh ``Conversation`` each, nothing chained, nothing recorded in a
notebook thread.

Rows are asked for without streaming (``"stream": false``) unless ``stream=True`` is passed:
nobody watches a row's answer arrive, and a streamed answer costs the client a parsed event per
token (h11, SSE, JSON, the accumulator: ~12 events a row of a two-field schema, ~2.5x the
client's CPU per row at 20 rows a request, ``bench/bench_batch_cpu.py``).  The price: the
client's ``timeout`` (60 s by default, the longest silence it waits for) then bounds the whole
answer of a request rather than each gap between its tokens.
"""

from __future__ import annotations

import json
from typing import Any

from agcloud_magic.batching.cache import KeyMaterial
from agcloud_magic.batching.rowschema import RowSchema
from agcloud_magic.engine.ask import Ask
from agcloud_magic.errors import ConfigError, one_line
from agcloud_magic.tools import ToolRegistry
from agcloud_magic.wire.result import Result

__all__ = ["CARRIERS", "FUNCTION", "RowRequest", "reason", "structured_output"]

FUNCTION = "record_row"
CARRIERS = ("tool", "text_format")  # how a schema travels: a forced tool, or text.format
# Keywords of respond() that make no sense for one stateless, forced-tool request per row.
REFUSED = ("tools", "tool_choice", "previous_response_id", "max_rounds", "max_tool_calls",
           "max_tool_calls_per_round")
# Fields that do not change an answer, so they stay out of the cache key.
NOT_IN_KEY = ("stream",)


class RowRequest:
    """The request options of a batch, checked once, and the Asks made from them."""

    def __init__(self, schema: RowSchema | None, params: dict[str, Any],
                 schema_as: str = "tool") -> None:
        for name in REFUSED:
            if params.get(name) is not None:
                raise ConfigError(
                    f"{name} cannot be set for a batch: each row is one stateless request"
                    + (f" with its own forced {FUNCTION} tool." if schema else ".")
                )
        if schema_as not in CARRIERS:
            raise ConfigError(f"schema_as must be one of {', '.join(CARRIERS)}, not "
                              f"{schema_as!r}.")
        if schema is not None and schema_as == "text_format" and params.get("text") is not None:
            raise ConfigError("text cannot be set with schema_as='text_format': the schema "
                              "goes in text.format.")
        self.schema = schema
        self.schema_as = schema_as
        # The same rules as respond()'s keywords, checked before anything is sent.
        self.fields = Ask(text="-", fields=dict(params), source="batch").fields
        if self.fields.get("stream") is None:
            self.fields["stream"] = False  # see the module docstring (not in the cache key)
        self.spec = None if schema is None else {
            "type": "function", "name": FUNCTION, "strict": True,
            "description": "Record the result for this row.", "parameters": schema.parameters,
        }
        self._materials: dict[tuple[str, str], KeyMaterial] = {}

    def key_material(self, prompt: str, model: str, base_url: str) -> dict[str, Any]:
        """What decides a row's answer (hashed into its cache key); the same for every
        prompt but the prompt, so that part is made (and encoded) once per model and URL."""
        made = self._materials.get((model, base_url))
        if made is None:
            fields = dict(self.fields)
            made = self._materials[(model, base_url)] = KeyMaterial.template({
                "base_url": base_url,
                "model": fields.pop("model", None) or model,
                "instructions": fields.pop("instructions", None),
                "schema": None if self.spec is None else self.spec["parameters"],
                "prompt": None,
                "params": {k: v for k, v in fields.items() if k not in NOT_IN_KEY},
                # Only when not the default: the rows cached before this option still hit.
                **({} if self.schema_as == "tool" else {"schema_as": self.schema_as}),
            })
        return made.filled(prompt)

    def ask(self, prompt: str) -> Ask:
        """The row's first request."""
        return self._ask(text=prompt)

    def repair(self, prompt: str, bad: str, problem: str) -> Ask:
        """A fresh request: the prompt again, then what was wrong with the last answer."""
        if self.schema_as == "tool":
            note = (f"Your call to {FUNCTION} had arguments that do not fit its schema.\n"
                    f"Arguments: {bad[:4000]}\nProblem: {problem}\n"
                    f"Call {FUNCTION} again with arguments that fit the schema.")
        else:
            note = (f"Your answer does not fit the JSON schema.\nAnswer: {bad[:4000]}\n"
                    f"Problem: {problem}\nAnswer again with JSON that fits the schema.")
        items = [_user(prompt), _user(note)]
        return self._ask(text="", items=items)

    def _ask(self, text: str, items: list[dict[str, Any]] | None = None) -> Ask:
        fields, tools = carried(self.fields, self.spec, self.schema_as)
        return Ask(text=text, items=items, fields=fields, tools=tools, stop_at_calls=True,
                   source="batch")

    def read(self, result: Result) -> tuple[dict[str, Any] | None, str, str]:
        """``(values, "", "")`` for a good answer, else ``(None, problem, what came)``."""
        if self.schema is None:
            return {"answer": result.text}, "", ""
        value, problem, raw = structured_output(result, self.schema_as)
        if problem:
            return None, problem, raw
        problems = self.schema.check(value)
        if problems:
            return None, "; ".join(problems[:5]), raw
        return value, "", ""


def carried(fields: dict[str, Any], spec: dict[str, Any] | None,
            schema_as: str) -> tuple[dict[str, Any], ToolRegistry | None]:
    """The request fields and tools that carry ``spec`` (a ``record_row`` function spec) the
    way ``schema_as`` says: a forced strict tool, or ``text.format`` json_schema."""
    fields = dict(fields)
    if spec is None:
        return fields, None
    if schema_as == "text_format":
        fields["text"] = {"format": {"type": "json_schema", "name": FUNCTION, "strict": True,
                                     "schema": spec["parameters"]}}
        return fields, None
    fields["tool_choice"] = {"type": "function", "name": FUNCTION}
    return fields, ToolRegistry(specs=[spec])


def structured_output(result: Result, schema_as: str) -> tuple[Any, str, str]:
    """The answer's structured value: ``(value, "", raw)``, or ``(None, problem, raw)``."""
    if schema_as == "text_format":
        raw, what = result.text, "the answer is"
        if not raw.strip():
            return None, "the model gave no answer text", raw
    else:
        calls = [c for c in result.function_calls if c.get("name") == FUNCTION]
        if not calls:
            return None, f"the model answered without calling {FUNCTION}", result.text
        raw = calls[0].get("arguments")
        raw, what = (raw if isinstance(raw, str) else json.dumps(raw)), "the arguments are"
    try:
        return json.loads(raw), "", raw
    except ValueError as exc:
        return None, f"{what} not JSON ({exc})", raw


def _user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def reason(exc: BaseException) -> str:
    """One line for a failed row (the package's errors are one line already)."""
    return one_line(str(exc) or type(exc).__name__, limit=600)
