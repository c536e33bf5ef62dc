"""A prompt per row on Dask: ``ddf.respond.map`` and ``agcloud_magic.batch(ddf, ...)``.

The result is a lazy dask DataFrame (``map_partitions`` with a declared ``meta``, the empty
frame :func:`~agcloud_magic.batching.columns.result_frame` builds for the schema's columns);
each partition runs :func:`agcloud_magic.batching.map_rows` on the worker, cache on, progress
off.  The task graph carries only the template, the schema and the request options: each worker
builds its own session from its environment (``AGCLOUD_API_KEY``, ``AGCLOUD_BASE_URL``,
``AGCLOUD_MODEL``), so the key never enters the graph, and the cache is the worker machine's
(``$AGCLOUD_CACHE_DIR``).

On a ``distributed`` cluster a :class:`distributed.Semaphore` named after its bound is held
around each partition's job: at most ``concurrency_total // concurrency`` partitions send at
once, each with at most ``concurrency`` requests in flight, so the cluster has at most
``concurrency_total`` requests in flight (for every job that uses the same bound).  Dask itself
is imported only here, when a dask collection is given.
"""

from __future__ import annotations

import sys
from typing import Any

from agcloud_magic.batching.columns import ANSWER, result_frame
from agcloud_magic.batching.request import RowRequest
from agcloud_magic.batching.rows import rows_of
from agcloud_magic.batching.rowschema import row_schema
from agcloud_magic.batching.template import RowTemplate
from agcloud_magic.engine.rules import check
from agcloud_magic.errors import ConfigError

__all__ = ["DEFAULT_CONCURRENCY_TOTAL", "is_dask", "map_dask"]

DEFAULT_CONCURRENCY_TOTAL = 16
PER_PARTITION = 8  # requests in flight per partition unless concurrency= says otherwise


def is_dask(obj: Any) -> bool:
    """Whether ``obj`` is a dask DataFrame or Series (without importing dask)."""
    if "dask.dataframe" not in sys.modules:
        return False
    import dask.dataframe as dd

    return isinstance(obj, (dd.DataFrame, dd.Series))


def map_dask(obj: Any, template: Any, schema: Any, options: dict[str, Any],
             params: dict[str, Any]) -> Any:
    """:func:`~agcloud_magic.batching.map_rows` over a dask collection, lazily (see the
    module docstring); ``options`` are map_rows' own keywords, ``params`` request options.
    ``budget_tokens``, ``budget_cost``, ``rpm`` and ``tpm`` hold per partition here, and
    nothing is asked (``confirm``): the rows are not known until the graph is computed, on
    the workers."""
    if options["client"] is not None:
        raise ConfigError("client= cannot go to dask workers (its key would enter the task "
                          "graph); set AGCLOUD_API_KEY in the workers' environment instead.")
    if options["dry_run"]:
        raise ConfigError("dry_run=True needs a pandas frame; plan a part of it, "
                          "e.g. ddf.head(100).respond.map(..., dry_run=True).")
    if options["progress"] not in (None, False):
        raise ConfigError("progress= is not shown for a dask job; watch the dask dashboard "
                          "or distributed.progress(result.persist()).")
    concurrency = options["concurrency"]
    concurrency = PER_PARTITION if concurrency is None else check("concurrency", concurrency)
    for name in ("rows_per_request", "tokens_per_request", "budget_tokens", "budget_cost",
                 "rpm", "tpm", "prices"):
        check(name, options[name])
    total = options["concurrency_total"]
    total = DEFAULT_CONCURRENCY_TOTAL if total is None else total
    if isinstance(total, bool) or not isinstance(total, int) or total < 1:
        raise ConfigError(f"concurrency_total must be an int >= 1, not {total!r}.")
    # Everything checkable is checked now, in one line, before any worker sees it.
    shape = None if schema is None else row_schema(schema)
    RowRequest(shape, params, options["schema_as"])
    form = RowTemplate(template)
    empty = obj._meta
    names = rows_of(empty).names
    if names is not None and form.function is None:
        form.check(names, "column" if names != ["value"] else "name")
    columns = shape.columns if shape is not None else (ANSWER,)
    meta = result_frame(empty.index, [], [], columns)
    per_partition = min(concurrency, total)
    kept = {k: v for k, v in options.items()
            if k not in ("client", "dry_run", "progress", "confirm", "concurrency_total")}
    kept["concurrency"] = per_partition
    job = Partition(template, schema, params, kept, leases=max(1, total // per_partition))
    return obj.map_partitions(job, meta=meta)


def semaphore_name(leases: int) -> str:
    """The cluster-wide semaphore of every job that lets ``leases`` partitions send at once."""
    return f"agcloud-magic-requests-{leases}"


class Partition:
    """The function each partition runs: only the template, schema and request options
    (no client, no session, no key: the worker reads its own environment)."""

    def __init__(self, template: Any, schema: Any, params: dict[str, Any],
                 options: dict[str, Any], *, leases: int) -> None:
        self.template = template
        self.schema = schema
        self.params = dict(params)
        self.options = dict(options)  # map_rows' keywords for one partition
        self.leases = leases

    def __call__(self, part: Any) -> Any:
        from agcloud_magic.batching import map_rows

        def run() -> Any:
            return map_rows(part, self.template, self.schema, progress=None, **self.options,
                            **self.params)

        if len(part) == 0:  # sends nothing and needs no key: the empty typed frame
            shape = None if self.schema is None else row_schema(self.schema)
            columns = shape.columns if shape is not None else (ANSWER,)
            return result_frame(part.index, [], [], columns)
        semaphore = _cluster_semaphore(self.leases)
        if semaphore is None:
            return run()
        with semaphore:
            return run()


def _cluster_semaphore(leases: int) -> Any:
    """The cluster's semaphore when this runs on a ``distributed`` worker, else ``None``."""
    try:
        from distributed import Semaphore, get_worker
    except ImportError:
        return None
    try:
        get_worker()
    except ValueError:  # the threaded or process scheduler: one machine, concurrency bounds it
        return None
    return Semaphore(max_leases=leases, name=semaphore_name(leases))
