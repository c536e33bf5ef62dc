"""The prompt of each row: a ``{column}`` template (``{{``/``}}`` escape braces) or a callable.

A template's names are looked up whole in the row (``{first name}`` and ``{a.b}`` are column
names, never attribute or index access, so a template cannot reach into objects), with the
format spec and ``!r``/``!s``/``!a`` conversions of :meth:`str.format`.  Names are checked
against the columns before anything is rendered or sent.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Collection, Mapping
from typing import Any

from agcloud_magic.errors import ConfigError, one_line

__all__ = ["RowTemplate"]

_CONVERSIONS: dict[str, Callable[[Any], str]] = {"r": repr, "s": str, "a": ascii}


class RowTemplate:
    """A compiled template: ``render(context, row, label)`` gives one row's prompt."""

    def __init__(self, template: str | Callable[[Any], str]) -> None:
        self.function: Callable[[Any], str] | None = None
        self.parts: list[tuple[str, str | None, str, str | None]] = []
        if callable(template):
            self.function = template
            return
        if not isinstance(template, str):
            raise ConfigError(
                f"template must be a str with {{column}} names or a function row -> str, "
                f"not {type(template).__name__}."
            )
        try:
            self.parts = list(string.Formatter().parse(template))
        except ValueError as exc:  # an unmatched brace: say where, as str.format would
            raise ConfigError(
                f"template {one_line(template, 80)!r} does not parse: {exc} (write {{{{ and "
                "}} for literal braces)."
            ) from None
        for _literal, name, _spec, _conversion in self.parts:
            if name is not None and (name == "" or name.isdigit()):
                raise ConfigError(
                    "template placeholders must name a column, like {text}; positional {} "
                    "and {0} have nothing to fill them."
                )

    @property
    def names(self) -> list[str]:
        """The names the template uses, in order, each once."""
        return list(dict.fromkeys(name for _, name, _, _ in self.parts if name is not None))

    def check(self, available: Collection[str], what: str = "column") -> None:
        """ConfigError naming the first name not in ``available`` (nothing has been sent)."""
        for name in self.names:
            if name not in available:
                shown = ", ".join(repr(n) for n in list(available)[:20]) or "none"
                raise ConfigError(
                    f"The template names {name!r}, which is not a {what} here; the {what}s "
                    f"are {shown}."
                )

    def render(self, context: Mapping[str, Any], row: Any, label: Any) -> str:
        """The prompt for one row: ``context`` fills names, ``row`` goes to a function."""
        if self.function is not None:
            text = self.function(row)
            if not isinstance(text, str):
                raise ConfigError(
                    f"The template function returned {type(text).__name__} for row {label!r}; "
                    "it must return a str."
                )
            return text
        pieces: list[str] = []
        for literal, name, spec, conversion in self.parts:
            pieces.append(literal)
            if name is None:
                continue
            if name not in context:
                raise ConfigError(f"Row {label!r} has no {name!r} for the template.")
            value = context[name]
            if conversion:
                value = _CONVERSIONS[conversion](value)
            try:
                pieces.append(format(value, spec or ""))
            except (TypeError, ValueError) as exc:
                raise ConfigError(
                    f"Row {label!r}: {{{name}:{spec}}} cannot format {type(value).__name__} "
                    f"({exc})."
                ) from None
        return "".join(pieces)
