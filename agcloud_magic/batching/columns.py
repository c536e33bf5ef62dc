"""The result frame: one typed column per schema field (or ``answer``), then ``error``.

Types follow the schema: a Literal or Enum is a categorical with exactly its values as
categories, ``int`` nullable ``Int64``, ``float`` ``Float64``, ``bool`` ``boolean``, ``str``
``string``; a failed row is missing in each of them, so a column's dtype never depends on
which rows failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agcloud_magic.batching.rowschema import Column

__all__ = ["ANSWER", "result_frame"]

ANSWER = Column("answer", "string")


def result_frame(index: Any, values: Sequence[dict[str, Any] | None],
                 errors: Sequence[str | None], columns: Sequence[Column]) -> Any:
    """The DataFrame aligned on ``index``: ``values[i]`` is row i's result (``None`` when
    it failed, with its reason in ``errors[i]``)."""
    import pandas as pd

    data = {}
    for column in columns:
        raw = [None if row is None else row.get(column.name) for row in values]
        data[column.name] = pd.Series(_array(raw, column), index=index, name=column.name)
    data["error"] = pd.Series(pd.array(list(errors), dtype="string"), index=index)
    return pd.DataFrame(data, index=index)


def _array(raw: list[Any], column: Column) -> Any:
    import pandas as pd

    try:
        if column.dtype == "category":
            return pd.Categorical(raw, categories=list(column.categories))
        if column.dtype != "object":
            return pd.array(raw, dtype=column.dtype)
    except (TypeError, ValueError):
        pass  # a JSON schema the server did not keep to: keep the values as they came
    return pd.array(raw, dtype=object)
