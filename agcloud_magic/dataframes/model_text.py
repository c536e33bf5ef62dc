"""What the model sees for any object, and the ``df.respond(...)`` pandas accessor.

Importing this module does not import pandas: pandas objects are recognised through
``sys.modules`` (an object of a pandas class cannot exist unless pandas is already imported).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

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


class RespondAccessor:
    """``df.respond("question", **params)`` asks the model about a DataFrame or Series.

    The summary (``to_model_text``) and the question are sent as one input through
    ``agcloud_magic.respond(input, **params)``, whose result is returned.
    ``df.respond.summary(**options)`` returns the exact text that would be sent before the
    question, as a preview.
    """

    def __init__(self, pandas_obj: Any) -> None:
        self._obj = pandas_obj

    def __call__(self, question: str, *, summary_options: Mapping[str, Any] | None = None,
                 **params: Any) -> Any:
        if not isinstance(question, str):
            raise TypeError(f"question must be str, not {type(question).__name__}")
        options = dict(summary_options or {})
        name = options.pop("name", None) or guess_name(self._obj, sys._getframe(1))
        text = to_model_text(self._obj, name=name, **options) + "\n\n" + question
        from agcloud_magic import respond  # written elsewhere; imported only when used

        return respond(text, **params)

    def summary(self, **options: Any) -> str:
        """The summary ``df.respond(...)`` would send (same name guess, same options)."""
        name = options.pop("name", None) or guess_name(self._obj, sys._getframe(1))
        return to_model_text(self._obj, name=name, **options)


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


def register_pandas_accessor() -> None:
    """Register ``respond`` on ``pandas.DataFrame`` and ``pandas.Series`` (idempotent)."""
    import pandas as pd

    for cls, register in ((pd.DataFrame, pd.api.extensions.register_dataframe_accessor),
                          (pd.Series, pd.api.extensions.register_series_accessor)):
        if getattr(cls, "respond", None) is RespondAccessor:
            continue
        register("respond")(RespondAccessor)
