"""The result of one request: what ``respond()`` returns and ``-o VAR`` stores."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Result", "output_text"]


def output_text(output: list[dict[str, Any]]) -> str:
    """Concatenate, in order, every ``output_text`` part of every message item."""
    texts: list[str] = []
    for item in output:
        if item.get("type") != "message":
            continue
        for part in item.get("content") or ():
            if part.get("type") == "output_text":
                texts.append(part.get("text") or "")
    return "".join(texts)


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

        return {"text/plain": self.text, "text/html": to_safe_html(self.text)}
