"""What the model sees for any object (the ``df.respond`` accessor, a face, is in
:mod:`agcloud_magic.accessor`).

Importing this module does not import pandas: pandas objects are recognised through
``sys.modules`` (an object of a pandas class cannot exist unless pandas is already imported).
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["MIN_TEXT_BUDGET", "cut_text", "guess_name", "is_pandas_object", "to_model_text"]

MIN_TEXT_BUDGET = 100


def to_model_text(obj: Any, *, name: str | None = None, budget: int = 6000,
                  **summary_options: Any) -> str:
    """The text a model gets for ``obj``, at most ``budget`` characters.

    * ``obj._repr_llm_()`` when the object's class defines it (must return ``str``), cut at a
      line boundary if too long;
    * a pandas DataFrame or Series: :func:`summarize` (``summary_options`` are passed on);
    * anything else: ``str(obj)``, cut with a note saying how much was left out.
    """
    if not isinstance(budget, int) or budget < MIN_TEXT_BUDGET:
        raise ValueError(f"budget must be an int >= {MIN_TEXT_BUDGET} characters, got {budget!r}")
    if getattr(type(obj), "_repr_llm_", None) is not None:
        text = obj._repr_llm_()
        if not isinstance(text, str):
            raise TypeError(f"{type(obj).__name__}._repr_llm_() must return str, "
                            f"not {type(text).__name__}")
        return cut_text(text, budget)
    if is_pandas_object(obj):
        from .summary import summarize

        return summarize(obj, name=name, budget=budget, **summary_options)
    return cut_text(str(obj), budget)


def is_pandas_object(obj: Any) -> bool:
    """True for a pandas DataFrame or Series, without importing pandas."""
    pd = sys.modules.get("pandas")
    if pd is None:
        return False
    frame, series = getattr(pd, "DataFrame", None), getattr(pd, "Series", None)
    return (frame is not None and isinstance(obj, frame)) or \
        (series is not None and isinstance(obj, series))


def cut_text(text: str, budget: int) -> str:
    """``text`` if it fits, else its start plus a note, cut after a whole line when there is one
    in the kept part (a single over-long line is cut inside, as there is no better place)."""
    if len(text) <= budget:
        return text
    total = len(text)
    note_max = f"\n[... cut: first {total:,} of {total:,} characters shown]"
    keep = text[: max(budget - len(note_max), 0)]
    nl = keep.rfind("\n")
    if nl > 0:
        keep = keep[:nl]
    return keep + f"\n[... cut: first {len(keep):,} of {total:,} characters shown]"


def guess_name(obj: Any, frame: Any) -> str:
    """A variable name bound to ``obj`` in the caller (locals, then globals), else the Series
    name when it is a string, else ``'df'``. Names starting with ``_`` (IPython's output
    history) and non-identifiers (tool-generated temporaries) are skipped; ties are broken
    alphabetically so the guess is deterministic."""
    for scope in (frame.f_locals, frame.f_globals) if frame is not None else ():
        names = sorted(k for k, v in list(scope.items())
                       if v is obj and k.isidentifier() and not k.startswith("_"))
        if names:
            return names[0]
    series_name = getattr(obj, "name", None)
    if isinstance(series_name, str) and series_name:
        return series_name
    return "df"
