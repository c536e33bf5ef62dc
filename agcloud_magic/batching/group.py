"""Many rows in one request: grouping prompts, the multi-row request, and reading its answer.

Distinct prompts are grouped in order, up to ``rows_per_request`` rows and a prompt budget of
``tokens_per_request`` (characters/4 of the rendered prompts; no tokenizer, like the dry
run's estimate).  A group's request carries the rows as ``### row <id>`` blocks, after the
opening all its prompts share (the template's fixed text, sent once), and one strict
forced ``record_row`` tool whose parameters wrap the row schema: ``{"rows": [{"id": ..,
<fields>}, ..]}``.  Each row object is checked against the row schema on its own; a row that is
missing, duplicated or invalid is not failed here but handed back to be retried alone on the
one-row path (which has its repair round).  Without a schema there is no typed envelope to
put many answers in, and a schema with an ``id`` field would clash with the row's id: in both
cases each row goes alone.
"""

from __future__ import annotations

import copy
import math
import re
from typing import Any

from agcloud_magic.batching.request import FUNCTION, RowRequest, carried, structured_output
from agcloud_magic.batching.rowschema import RowSchema
from agcloud_magic.engine.ask import Ask
from agcloud_magic.engine.meter import CHARS_PER_TOKEN
from agcloud_magic.wire.result import Result

__all__ = ["DEFAULT_ROWS_PER_REQUEST", "DEFAULT_TOKENS_PER_REQUEST", "GroupRequest", "can_group",
           "groups"]

DEFAULT_ROWS_PER_REQUEST = 20
DEFAULT_TOKENS_PER_REQUEST = 4000
MIN_SHARED = 40  # characters: a shorter shared opening stays in every row
ROW_LINE = re.compile(r"^###[ \t]+row[ \t]+\S+[ \t]*$", re.MULTILINE)
NOTE = ("The input holds several rows, each after a line '### row <id>'; text before the "
        f"first such line applies to every row. Call {FUNCTION} once with one object in "
        "'rows' for every row, in order, each with that row's id and derived from that row's "
        "text alone.")
TEXT_NOTE = ("The input holds several rows, each after a line '### row <id>'; text before the "
             "first such line applies to every row. Answer with one object in 'rows' for every "
             "row, in order, each with that row's id and derived from that row's text alone.")


def prompt_tokens(prompt: str) -> int:
    """The budget's estimate of one prompt: characters/4, at least 1."""
    return max(1, math.ceil(len(prompt) / CHARS_PER_TOKEN))


def groups(prompts: list[str], rows_per_request: int, tokens_per_request: int,
           multi: bool) -> list[list[str]]:
    """``prompts`` in order, cut into groups within both limits.  A prompt over the budget
    by itself, or one holding a ``### row`` line of its own (which would blur the row
    boundaries), goes alone; so does every prompt when ``multi`` is false."""
    if not multi or rows_per_request <= 1:
        return [[p] for p in prompts]
    out: list[list[str]] = []
    current: list[str] = []
    used = 0
    for prompt in prompts:
        cost = prompt_tokens(prompt)
        if cost > tokens_per_request or ROW_LINE.search(prompt):
            out.append([prompt])
            continue
        if current and (len(current) >= rows_per_request or used + cost > tokens_per_request):
            out.append(current)
            current, used = [], 0
        current.append(prompt)
        used += cost
    if current:
        out.append(current)
    return out


def shared_opening(prompts: list[str]) -> str:
    """The opening every prompt of a group starts with, up to a white space, when it is at
    least :data:`MIN_SHARED` characters and every prompt has text of its own after it; else
    ``""``.  Sent once before the rows instead of once in each, it saves its tokens on every
    row but one (most templates put their instructions first: "Classify ... Review: {text}")."""
    if len(prompts) < 2:
        return ""
    # The lexically first and last prompts share exactly what all of them share.
    first, last = min(prompts), max(prompts)
    size = next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b),
                min(len(first), len(last)))
    common = first[:size]
    cut = max(common.rfind(" "), common.rfind("\n"), common.rfind("\t")) + 1
    if cut < MIN_SHARED or any(not p[cut:].strip() for p in prompts):
        return ""
    return common[:cut]


def can_group(schema: RowSchema | None) -> bool:
    """Whether rows of this schema can share a request: it needs a schema (the envelope), and
    one without an ``id`` field of its own (which the row's id would clash with)."""
    return schema is not None and "id" not in schema.parameters.get("properties", {})


def rows_parameters(schema: RowSchema) -> dict[str, Any]:
    """The forced tool's parameters: ``{"rows": [<row schema plus a string id>]}``, strict."""
    item = copy.deepcopy(schema.parameters)
    # A pydantic schema's "$ref": "#/$defs/.." resolve from the root, so its $defs move there.
    definitions = item.pop("$defs", None)
    item["properties"] = {"id": {"type": "string"}, **item.get("properties", {})}
    required = [r for r in item.get("required", list(schema.parameters["properties"]))
                if r != "id"]
    item["required"] = ["id", *required]
    item["additionalProperties"] = False
    parameters: dict[str, Any] = {
        "type": "object", "properties": {"rows": {"type": "array", "items": item}},
        "required": ["rows"], "additionalProperties": False,
    }
    if definitions:
        parameters["$defs"] = definitions
    return parameters


class GroupRequest:
    """The multi-row Ask for a batch's options, and how its answer is read."""

    def __init__(self, request: RowRequest) -> None:
        assert request.schema is not None  # groups() sends schema-less rows alone
        self.schema = request.schema
        self.schema_as = request.schema_as
        self.fields = dict(request.fields)
        own = self.fields.get("instructions")
        note = NOTE if self.schema_as == "tool" else TEXT_NOTE
        self.fields["instructions"] = f"{own}\n\n{note}" if own else note
        self.spec = {"type": "function", "name": FUNCTION, "strict": True,
                     "description": "Record the result of every row.",
                     "parameters": rows_parameters(self.schema)}

    @staticmethod
    def ids(prompts: list[str]) -> list[str]:
        """The rows' ids in the request: their positions, from 1."""
        return [str(i) for i in range(1, len(prompts) + 1)]

    def ask(self, prompts: list[str]) -> Ask:
        """One request for these rows: their shared opening once (the template's fixed text,
        usually), then each row's own text after its ``### row <id>`` line."""
        opening = shared_opening(prompts)
        cut = len(opening)
        blocks = "\n".join(f"### row {i}\n{p[cut:]}" for i, p in zip(self.ids(prompts), prompts,
                                                                    strict=True))
        text = f"{opening.rstrip()}\n{blocks}" if opening else blocks
        fields, tools = carried(self.fields, self.spec, self.schema_as)
        return Ask(text=text, fields=fields, tools=tools, stop_at_calls=True, source="batch")

    def read(self, result: Result, prompts: list[str]) -> dict[str, dict[str, Any]]:
        """The rows the answer gives validly, by prompt; the others are to go alone."""
        value, problem, _ = structured_output(result, self.schema_as)
        if problem:
            return {}
        rows = value.get("rows") if isinstance(value, dict) else None
        if not isinstance(rows, list):
            return {}
        by_id = dict(zip(self.ids(prompts), prompts, strict=True))
        found: dict[str, dict[str, Any]] = {}
        seen: set[str] = set()
        twice: set[str] = set()
        for row in rows:
            row_id = str(row.get("id")) if isinstance(row, dict) else None
            if row_id is None or row_id not in by_id:
                continue
            if row_id in seen:
                twice.add(row_id)  # two answers for one row: trust neither
                continue
            seen.add(row_id)
            fields = {k: v for k, v in row.items() if k != "id"}
            if not self.schema.check(fields):
                found[row_id] = fields
        return {by_id[i]: v for i, v in found.items() if i not in twice}
