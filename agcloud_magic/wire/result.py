"""The result of one request: what ``respond()`` returns and ``-o VAR`` stores."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Result", "clean_usage", "output_text"]

# The token counts every face reads (footer, %agcloud usage, history, the panel).
_COUNTS = ("input_tokens", "output_tokens", "total_tokens")


def output_text(output: list[dict[str, Any]]) -> str:
    """Concatenate, in order, every ``output_text`` part of every message item (items, parts
    and texts of the wrong type are skipped: the output comes from the server)."""
    texts: list[str] = []
    for item in output:
        if not isinstance(item, dict) or item.get("type") != "message":
            continue
        content = item.get("content")
        for part in content if isinstance(content, list) else ():
            if isinstance(part, dict) and part.get("type") == "output_text":
                text = part.get("text")
                if isinstance(text, str):
                    texts.append(text)
    return "".join(texts)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def clean_usage(usage: Any) -> dict[str, Any] | None:
    """The server's ``usage`` in the shape the package reads, or ``None`` if it is no object.

    ``input_tokens``, ``output_tokens`` and ``total_tokens`` that are not non-negative ints
    become 0 (the key stays, so the footer still shows a count); a ``*_details`` entry is
    kept only as a dict, its fields zeroed the same way; any other field is kept only as a
    non-negative int.  Checked once, here, so no later reader (``%agcloud usage``, history,
    the footer) fails on a turn a server once answered oddly.
    """
    if not isinstance(usage, dict):
        return None
    clean: dict[str, Any] = {}
    for key, value in usage.items():
        if key.endswith("_details"):
            if isinstance(value, dict):
                clean[key] = {k: v if _is_count(v) else 0 for k, v in value.items()}
        elif key in _COUNTS:
            clean[key] = value if _is_count(value) else 0
        elif _is_count(value):
            clean[key] = value
    return clean


@dataclass
class Result:
    """One response: ``.text``, ``.id``, ``.model``, ``.status``, ``.usage``, ``.output``.

    ``status`` is the server's (``completed``, ``incomplete``, ``failed``) or ``interrupted`` /
    ``cut`` when the stream stopped on our side.  The object renders itself as safe HTML in a
    notebook (model text is untrusted, so never as raw Markdown).
    """

    id: str | None = None
    model: str | None = None
    status: str = "in_progress"
    text: str = ""
    output: list[dict[str, Any]] = field(default_factory=list)
    usage: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    incomplete_details: dict[str, Any] | None = None
    reasoning_summary: str = ""
    refusal: str = ""
    response: dict[str, Any] | None = field(default=None, repr=False)
    request_id: str | None = None
    elapsed: float | None = None
    #: What the client did on the way that the reader should know (one line each), e.g. a
    #: thread replayed from the kernel's copy after ``previous_response_not_found``.
    notes: list[str] = field(default_factory=list)

    @property
    def function_calls(self) -> list[dict[str, Any]]:
        """The ``function_call`` items of the output, in order."""
        return [item for item in self.output if item.get("type") == "function_call"]

    @property
    def response_id(self) -> str | None:
        """Alias of :attr:`id`."""
        return self.id

    def json(self) -> Any:
        """The answer parsed as JSON (raises ``ValueError`` if it is not JSON)."""
        return json.loads(self.text)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        preview = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        return (
            f"Result(id={self.id!r}, model={self.model!r}, status={self.status!r}, "
            f"text={preview!r})"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from agcloud_magic.display.markdown import to_safe_html
        from agcloud_magic.display.render import plain_text

        return {"text/plain": plain_text(self.text), "text/html": to_safe_html(self.text)}
