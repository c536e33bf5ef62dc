"""What a batch iterates: a DataFrame's rows, a Series' values or any iterable's items.

Each row gives the names a template may use (its context), the object a template function
receives, and its label in the index the result is aligned on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Rows", "rows_of"]


@dataclass
class Rows:
    """``index`` labels the result; ``names`` are the names every row has (``None``: rows
    differ, as mappings in a list may, and each is checked as it renders)."""

    index: Any
    names: list[str] | None
    source: Any

    def each(self, want_row: bool) -> Iterator[tuple[Mapping[str, Any], Any, Any]]:
        """``(context, row, label)`` per row; ``row`` (what a template function gets) is
        built only when ``want_row``, since a DataFrame row as a Series costs time."""
        import pandas as pd

        obj = self.source
        if isinstance(obj, pd.DataFrame):
            names = self.names or []
            rows = obj.iterrows() if want_row else ((label, None) for label in obj.index)
            tuples = obj.itertuples(index=False, name=None)
            for values, (label, row) in zip(tuples, rows, strict=True):
                yield dict(zip(names, values, strict=True)), row, label
        elif isinstance(obj, pd.Series):
            for label, value in obj.items():
                context = {"value": value}
                if obj.name is not None:
                    context[str(obj.name)] = value
                yield context, value, label
        else:
            for label, item in enumerate(obj):
                context = dict(item) if isinstance(item, Mapping) else {"value": item}
                yield context, item, label


def rows_of(obj: Any) -> Rows:
    """The rows of a DataFrame, Series, or iterable (consumed once, into a list)."""
    import pandas as pd

    if isinstance(obj, pd.DataFrame):
        return Rows(obj.index, [str(c) for c in obj.columns], obj)
    if isinstance(obj, pd.Series):
        names = ["value"] + ([str(obj.name)] if obj.name is not None else [])
        return Rows(obj.index, names, obj)
    if isinstance(obj, (str, bytes)) or not isinstance(obj, Iterable):
        from agcloud_magic.errors import ConfigError

        raise ConfigError(
            f"batch needs a list (or other iterable) of items, not {type(obj).__name__}."
        )
    items = list(obj)
    if all(not isinstance(item, Mapping) for item in items):
        names: list[str] | None = ["value"]
    else:
        names = None
    return Rows(pd.RangeIndex(len(items)), names, items)
