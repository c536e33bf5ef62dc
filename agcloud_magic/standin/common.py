"""Small shared pieces of the stand-in: ids, the API error type, JSON encoding, text splitting."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

__all__ = [
    "ApiError",
    "dumps",
    "new_id",
    "split_pieces",
]


def new_id(prefix: str) -> str:
    """Return an id such as ``resp_<48 hex>``; ``call_`` ids are shorter, like the real ones."""
    if prefix == "call":
        return "call_" + secrets.token_hex(12)
    return f"{prefix}_{secrets.token_hex(24)}"


def dumps(value: Any) -> str:
    """Compact one-line JSON, the way the real API puts it on the wire."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# A word with the whitespace before it; trailing whitespace becomes its own piece.  Every
# character of the input is matched, so "".join(pieces) == text always holds.
_WORDS = re.compile(r"\s*\S+|\s+$")
# For JSON arguments: identifier-ish runs and punctuation runs, like a tokenizer would cut them.
_ARGS = re.compile(r"\s*\w+|\s*[^\w\s]+|\s+")


def split_pieces(text: str, *, kind: str = "words") -> list[str]:
    """Split ``text`` into stream deltas whose concatenation is exactly ``text``."""
    pattern = _ARGS if kind == "args" else _WORDS
    pieces = pattern.findall(text)
    # Guard the invariant the whole protocol rests on (4.4 #1 and #2).
    if "".join(pieces) != text:  # pragma: no cover - the patterns cover every character
        return [text] if text else []
    return pieces


class ApiError(Exception):
    """An error answered as a plain JSON body before any stream starts.

    ``style="openai"`` gives ``{"error": {message, type, param, code}}``; ``style="agcloud"``
    gives the Anthropic-like envelope seen in AGCloud's docs: ``{"type": "error",
    "error": {type, message}}``.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        style: str = "openai",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type
        self.param = param
        self.code = code
        self.style = style
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """The JSON body for this error, in the chosen style."""
        if self.style == "agcloud":
            return {"type": "error", "error": {"type": self.error_type, "message": self.message}}
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }
