"""``{name}`` interpolation of kernel variables in prompt text. Pure; never evaluates code.

Only ``{identifier}`` is replaced, by the variable's model text (a DataFrame becomes its
summary, an object with ``_repr_llm_`` says what it wants, anything else is ``str()``).  Every
other brace stays as written: JSON, set literals, ``{x + 1}``, ``{ name }``.  ``{{name}}`` is the
escape for a literal ``{name}``.  An unknown name is an error, so a typo never reaches the model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from agcloud_magic.errors import ConfigError

__all__ = ["UnknownVariableError", "interpolate", "names_in"]

_PATTERN = re.compile(r"\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


class UnknownVariableError(ConfigError):
    """A ``{name}`` in the prompt names no variable."""


def names_in(text: str) -> list[str]:
    """The variable names ``text`` would interpolate, in order of first use."""
    seen: dict[str, None] = {}
    for match in _PATTERN.finditer(text):
        if match.group(2):
            seen.setdefault(match.group(2), None)
    return list(seen)


def interpolate(
    text: str,
    namespace: Mapping[str, Any],
    render: Callable[[str, Any], str] = lambda _name, value: str(value),
) -> str:
    """Replace each ``{name}`` with ``render(name, namespace[name])``."""
    missing = [name for name in names_in(text) if name not in namespace]
    if missing:
        listed = ", ".join(f"{{{n}}}" for n in missing)
        raise UnknownVariableError(
            f"Unknown variable {listed} in the prompt: define it first, or write "
            f"{{{{{missing[0]}}}}} for literal braces."
        )
    rendered: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        escaped, name = match.group(1), match.group(2)
        if escaped:
            return "{" + escaped + "}"
        if name not in rendered:
            try:
                rendered[name] = render(name, namespace[name])
            except Exception as exc:  # the user's __str__ / _repr_llm_: their bug, our one line
                raise ConfigError(
                    f"{{{name}}} could not be turned into text ({type(exc).__name__}: {exc}); "
                    "fix its __str__ (or _repr_llm_), or pass something else."
                ) from None
        return rendered[name]

    return _PATTERN.sub(replace, text)
