"""DataFrame summaries for language models.

``summarize(df)`` is what ``%%respond --df NAME`` and ``{name}`` interpolation send;
``to_model_text(obj)`` is what the model sees for any object (``_repr_llm_()`` honoured);
the ``df.respond("question")`` accessor lives in :mod:`agcloud_magic.accessor` (a face).

Importing this package does not import pandas or numpy; they are loaded on the first summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .model_text import to_model_text

__all__ = ["summarize", "to_model_text"]


def summarize(obj: Any, *, name: str | None = None, budget: int = 6000, sample_rows: int = 5,
              columns: Sequence | None = None, exclude: Sequence | None = None,
              sample_size: int = 100_000, seed: int = 0) -> str:
    """Describe a DataFrame or Series for a language model, in at most ``budget`` characters.

    Markdown-flavoured text: a header (shape, memory, index, duplicate rows, legend), one
    ``name | dtype | non-null | distinct | stats`` line per column, the names of the columns that
    did not fit (grouped by dtype), ``sample_rows`` real rows at fixed-seed positions, and alerts.
    Row counts, null counts, min, max, mean and sd are exact; on frames longer than
    ``sample_size`` rows, quantiles, frequent values and most distinct counts come from a
    ``seed``-determined sample and are marked ``~``. The same frame and options give the same
    text in every process.

    ``columns`` (allow list) and ``exclude`` (deny list) select columns by label (unknown labels
    raise ``ValueError``); a withheld column is not named or described at all.
    ``sample_rows=0`` sends no rows; the statistics still quote values (frequent values,
    min/max), so exclude a column to keep its values out entirely. The header says what was
    withheld. Raises ``ValueError`` for ``budget`` below 300 and ``TypeError`` for non-pandas
    objects.
    """
    from .summary import summarize as _summarize

    return _summarize(obj, name=name, budget=budget, sample_rows=sample_rows, columns=columns,
                      exclude=exclude, sample_size=sample_size, seed=seed)
