"""The pandas face: ``df.respond("question")`` and ``series.respond(...)``.

Registered by the extension once pandas is imported (or by :func:`register_pandas_accessor`).
The summary comes from :mod:`agcloud_magic.dataframes`, the request from the Python API.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from agcloud_magic.dataframes.model_text import guess_name, to_model_text

__all__ = ["RespondAccessor", "register_dask_accessor", "register_pandas_accessor"]


class RespondAccessor:
    """``df.respond("question", **params)`` asks the model about a DataFrame or Series.

    The summary (``to_model_text``) and the question are sent as one input through
    ``agcloud_magic.respond(input, **params)``, whose result is returned.
    ``df.respond.summary(**options)`` returns the exact text that would be sent before the
    question, as a preview.  ``df.respond.map(template, schema)`` sends one prompt per row
    instead (:mod:`agcloud_magic.batching`).
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
        from agcloud_magic.api import respond  # httpx loads with it, on first use

        return respond(text, **params)

    def map(self, template: Any, schema: Any = None, **options: Any) -> Any:
        """A prompt per row, a DataFrame aligned on this index back.

        ``template`` fills ``{column}`` from each row (a Series: ``{value}`` or its name), or
        is a function row -> str; ``schema`` gives typed columns (else one ``answer``), and
        ``error`` says why a row failed.  Nothing shows progress unless asked:
        ``progress=True`` draws a text bar on stderr (``%%respond --each`` shows one itself).
        ``dry_run=True`` sends nothing and returns a ``BatchPlan`` (requests, cached, a rough
        characters/4 token estimate, the first body).  With a schema, up to
        ``rows_per_request`` rows (within ``tokens_per_request``, characters/4) share one
        request; a row the answer misses goes again alone.  ``budget_tokens`` stops the job
        once its requests used that many tokens (the rest: "not run").  At most
        ``concurrency`` (64) requests are in flight, adapting to the server's 429s; ``rpm``
        and ``tpm`` cap requests and tokens per minute.  In a notebook, more than
        ``confirm_rows`` (100) rows to send asks first; ``confirm=True`` says yes in the code.
        See :func:`agcloud_magic.batch`.

        On a dask DataFrame or Series the result is a lazy dask DataFrame, one pandas job per
        partition on the workers (their own key and cache); ``concurrency_total`` bounds the
        requests in flight across a ``distributed`` cluster."""
        from agcloud_magic.batching import map_rows  # httpx loads with it, on first use

        return map_rows(self._obj, template, schema, **options)

    def summary(self, **options: Any) -> str:
        """The summary ``df.respond(...)`` would send (same name guess, same options)."""
        name = options.pop("name", None) or guess_name(self._obj, sys._getframe(1))
        return to_model_text(self._obj, name=name, **options)



def register_pandas_accessor() -> None:
    """Register ``respond`` on ``pandas.DataFrame`` and ``pandas.Series`` (idempotent); on
    dask's too when ``dask.dataframe`` is already imported (:func:`register_dask_accessor`)."""
    import pandas as pd

    for cls, register in ((pd.DataFrame, pd.api.extensions.register_dataframe_accessor),
                          (pd.Series, pd.api.extensions.register_series_accessor)):
        if getattr(cls, "respond", None) is RespondAccessor:
            continue
        register("respond")(RespondAccessor)
    if "dask.dataframe" in sys.modules:
        register_dask_accessor()


def register_dask_accessor() -> None:
    """Register ``respond`` on ``dask.dataframe.DataFrame`` and ``Series`` (idempotent).

    Needs dask (``pip install 'agcloud-magic[dask]'``); imported only here."""
    import dask.dataframe as dd
    from dask.dataframe import extensions

    for cls, register in ((dd.DataFrame, extensions.register_dataframe_accessor),
                          (dd.Series, extensions.register_series_accessor)):
        if getattr(cls, "respond", None) is RespondAccessor:
            continue
        register("respond")(RespondAccessor)
