"""A prompt per row: ``df.respond.map``, ``series.respond.map`` and ``agcloud_magic.batch``.

Each row's prompt comes from a template (:mod:`.template`); identical prompts are sent once and
their rows share the answer; finished rows come from and go to an on-disk cache (:mod:`.cache`);
the rest run concurrently through the one turn engine (:mod:`.job`), each as one stateless
request whose forced ``record_row`` function call is the row's typed result
(:mod:`.request`, :mod:`.rowschema`).  The result is a DataFrame aligned on the input's index
(:mod:`.columns`).  This package sits between the faces (the accessor) and the engine; it
imports neither IPython nor ipywidgets.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

from agcloud_magic.batching.cache import RowCache, row_key
from agcloud_magic.batching.columns import ANSWER, result_frame
from agcloud_magic.batching.group import (
    DEFAULT_ROWS_PER_REQUEST,
    DEFAULT_TOKENS_PER_REQUEST,
    can_group,
    groups,
)
from agcloud_magic.batching.job import Job, Outcome
from agcloud_magic.batching.ondask import is_dask, map_dask
from agcloud_magic.batching.pacer import START, Pacer
from agcloud_magic.batching.plan import BatchPlan, plan_of
from agcloud_magic.batching.progress import Progress, ProgressSink, Reporter, sink_for
from agcloud_magic.batching.request import RowRequest
from agcloud_magic.batching.rows import rows_of
from agcloud_magic.batching.rowschema import row_schema
from agcloud_magic.batching.template import RowTemplate
from agcloud_magic.engine.pricing import EXAMPLE, PriceTable
from agcloud_magic.engine.rules import check
from agcloud_magic.engine.session import current_session
from agcloud_magic.errors import ConfigError, NotConfirmedError

__all__ = ["BatchPlan", "Progress", "ProgressSink", "batch", "map_rows"]

WHOLE_ANSWER_TIMEOUT = 600.0  # seconds an unstreamed row request may take (the deadline too)
DEFAULT_CONCURRENCY = 64  # the most in flight; the pacer starts at 32 and adapts below this
# map_rows' own keywords (everything else is a request option).
OPTIONS = ("concurrency", "cache", "client", "progress", "dry_run", "rows_per_request",
           "tokens_per_request", "budget_tokens", "concurrency_total", "rpm", "tpm", "confirm",
           "budget_cost", "prices", "schema_as")


def batch(items: Any, template: Any, schema: Any = None, **options: Any) -> Any:
    """One request per item of ``items`` (a list or any iterable); a DataFrame back.

    ``template`` is a ``str`` whose ``{value}`` is the item (or ``{key}`` a key of a dict
    item), ``{{``/``}}`` literal braces, or a function item -> str.  ``schema`` (a dict of
    name -> type, a TypedDict, a dataclass, a pydantic model or a JSON schema) gives one typed
    column per field; without it, one ``answer`` column.  ``error`` is missing where the row
    succeeded, else one line saying why it failed; a failed row never fails the job.
    ``cache=False`` neither reads nor writes the cache (``$AGCLOUD_CACHE_DIR``, see
    :mod:`agcloud_magic.batching.cache`).  The schema goes as a forced strict function tool;
    ``schema_as="text_format"`` sends it as ``text.format`` ``json_schema`` instead (for a
    model or gateway without forced tools).  Keywords other than those described here are
    request options, checked like :func:`agcloud_magic.respond`'s.

    At most ``concurrency`` requests (default 64) are in flight.  The job starts with 32 (or
    with ``concurrency`` when it is given: the account's limits are yours to know) and adapts
    (:mod:`.pacer`): it doubles each round trip until the server first answers 429 (or 503),
    halves on each such push-back and holds new requests for its ``Retry-After``, then grows
    by one per round trip while it stays quiet.  A request whose retries all met a rate limit
    is sent again later instead of failing its rows.  ``rpm`` and ``tpm`` keep the job under
    a known quota (requests and tokens per rolling minute; tokens estimated as characters/4
    and corrected by each answer's usage) rather than finding it by 429s.

    In a notebook (once ``%load_ext agcloud_magic`` ran), a batch that would send more than
    ``confirm_rows`` rows (100; ``%agcloud config confirm_rows=N``, 0 for every batch) asks
    first, with the requests and tokens it would take; anything but yes sends nothing and
    raises :class:`~agcloud_magic.errors.NotConfirmedError`, as does a front end that cannot
    ask (nbclient, ``nbconvert --execute``).  ``confirm=True`` says yes in the code.

    Progress is shown only when asked: ``progress=True`` draws a text bar on stderr (at most
    five updates a second, then one summary line); any object with ``update(Progress)`` and
    ``finish(Progress)`` receives the counts instead.  (``%%respond --each`` shows a bar by
    itself: a widget in a notebook.)

    ``dry_run=True`` sends nothing and returns a :class:`~agcloud_magic.batching.BatchPlan`:
    the requests that would be sent (distinct prompts not in the cache), a rough token
    estimate (characters/4 of the prompts, instructions and schema; no tokenizer, so read it as
    an order of magnitude; plus ``max_output_tokens`` per request when set) and the first
    request body exactly as it would be POSTed (without the key, which is never in a body).

    With a schema, up to ``rows_per_request`` distinct prompts share one request, as long as
    their prompts total at most ``tokens_per_request`` (characters/4): the rows go as
    ``### row <id>`` blocks and the forced tool answers ``{"rows": [...]}``.  A row missing,
    doubled or invalid in that answer, or every row of a request that failed, is sent again
    alone (with its repair round).  ``rows_per_request=1`` sends each row alone; so does a
    batch without a schema.  The cache is per row either way.

    ``budget_tokens`` is a hard stop: once the answered requests have used that many tokens
    (their ``usage``), nothing more is sent and every row left gets the error "not run: the
    budget of N tokens is spent"; it is checked before each request, so it can be passed by
    at most the requests already in flight.  ``budget_cost`` is the same in US dollars, for
    a model in the price table: ``prices=`` (text such as ``"gpt-4o-mini=0.15/0.60"``, USD per
    million input/output tokens, or a dict model -> (input, output)), else the session's
    ``prices`` setting (``%agcloud config prices=...``).  With a price, the dry run, the
    question above ``confirm_rows`` and the progress show the cost too.

    A dask DataFrame or Series gives a lazy dask DataFrame (:mod:`.ondask`): each partition
    runs on a worker with that worker's key and cache; ``client=``, ``dry_run`` and
    ``progress`` are refused there, ``budget_tokens``, ``rpm`` and ``tpm`` are per partition,
    ``concurrency`` defaults to 8 per partition, and on a ``distributed`` cluster at most
    ``concurrency_total`` (default 16) requests are in flight across all workers.
    """
    return map_rows(items, template, schema, **options)


def map_rows(obj: Any, template: Any, schema: Any = None, *,
             concurrency: int | None = None, cache: bool = True, client: Any = None,
             progress: Any = None, dry_run: bool = False,
             rows_per_request: int = DEFAULT_ROWS_PER_REQUEST,
             tokens_per_request: int = DEFAULT_TOKENS_PER_REQUEST,
             budget_tokens: int | None = None, concurrency_total: int | None = None,
             rpm: int | None = None, tpm: int | None = None, confirm: bool = False,
             budget_cost: float | None = None, prices: Any = None, schema_as: str = "tool",
             **params: Any) -> Any:
    """:func:`batch` over a DataFrame's rows (``{column}``), a Series' values (``{value}`` or
    ``{<series name>}``) or an iterable's items; aligned on their index.  A dask collection
    goes to :func:`~agcloud_magic.batching.ondask.map_dask` (a lazy result)."""
    if is_dask(obj):
        options = {k: v for k, v in locals().items() if k in OPTIONS}
        return map_dask(obj, template, schema, options, params)
    if concurrency_total is not None:
        raise ConfigError("concurrency_total= bounds a dask job across its workers; "
                          "on one machine concurrency= alone bounds the requests.")
    # Given, concurrency is where the job starts too (the user knows the account's limits);
    # by default the pacer starts at its START and may grow to DEFAULT_CONCURRENCY.
    given = check("concurrency", concurrency)
    rows_per_request = check("rows_per_request", rows_per_request)
    tokens_per_request = check("tokens_per_request", tokens_per_request)
    budget_tokens = check("budget_tokens", budget_tokens)
    budget_cost = check("budget_cost", budget_cost)
    pacer = Pacer(given or DEFAULT_CONCURRENCY, start=given or START, rpm=check("rpm", rpm),
                  tpm=check("tpm", tpm))
    rows = rows_of(obj)
    shape = None if schema is None else row_schema(schema)
    request = RowRequest(shape, params, schema_as)
    form = RowTemplate(template)
    if rows.names is not None and form.function is None:
        form.check(rows.names, "column" if rows.names != ["value"] else "name")
    prompts = [form.render(context, row, label)
               for context, row, label in rows.each(want_row=form.function is not None)]
    sink = sink_for(progress)
    # Nothing was sent so far: every error above is the user's, in one line.
    session = current_session()
    if dry_run:  # no key needed to look: the settings in force, unchecked
        settings = client.settings if client is not None else session.settings()
    elif client is None:
        settings = session.checked_settings()
        if request.fields.get("stream") is False:
            # Unstreamed, an answer arrives whole: the silence before it is the whole answer's
            # time, not a gap between tokens, so the gap timeout must not cut a long one.
            settings = dataclasses.replace(
                settings, timeout=max(settings.timeout, WHOLE_ANSWER_TIMEOUT))
        client = session.client(settings)
    else:
        settings = client.settings
    model = request.fields.get("model") or settings.model
    table = PriceTable.parse(check("prices", prices) if prices is not None
                             else session.prefs.prices)
    if budget_cost is not None and table.rates(model) is None:
        raise ConfigError(f"budget_cost needs a price for {model}: pass prices= or set "
                          f"%agcloud config {EXAMPLE}.")
    distinct = list(dict.fromkeys(prompts))
    keys = {p: row_key_for(request, p, settings) for p in distinct} if cache else {}
    store = RowCache() if cache else None
    try:
        outcomes = _cached(store, keys)
        todo = [p for p in distinct if p not in outcomes]
        batches = groups(todo, rows_per_request, tokens_per_request, multi=can_group(shape))
        if dry_run:
            return plan_of(request, batches, len(outcomes), model, table)
        if not confirm:
            _ask_first(session, request, batches, len(outcomes), model, table)
        job = Job(session, client, request, batches, keys, store, pacer, budget_tokens,
                  budget_cost=budget_cost, prices=table, model=model)
        counting = _Counts(prompts, outcomes, job)
        reporter = Reporter(sink, len(prompts), counting)
        reporter.tick()  # the bar appears at once, with the cached rows counted
        try:
            job.run(counting.finished, len(prompts), reporter.tick)
        finally:
            reporter.finish()  # the summary also after Ctrl-C: it says what was kept
        outcomes.update(job.outcomes)
    finally:
        if store is not None:
            store.close()
    done = [outcomes.get(p, Outcome(error="not sent")) for p in prompts]
    columns = shape.columns if shape is not None else (ANSWER,)
    return result_frame(rows.index, [o.values for o in done], [o.error for o in done], columns)


class _Counts:
    """The rows' counts for progress: the cached ones, then the job's as they finish (each
    prompt counted once per row that has it; only what finished since the last look is read,
    so a tick costs no walk over every row)."""

    def __init__(self, prompts: list[str], cached: dict[str, Outcome], job: Job) -> None:
        self.rows_of = Counter(prompts)
        self.from_cache = sum(self.rows_of[p] for p in cached)
        self.done = self.from_cache
        self.failed = 0
        self.seen = 0  # prompts of job.finished already counted
        self.job = job

    def __call__(self) -> tuple[int, int, int, int, float | None]:
        finished = self.job.finished  # appended on the loop thread; read up to its length now
        upto = len(finished)
        for prompt in finished[self.seen:upto]:
            if self.job.outcomes[prompt].values is not None:
                self.done += self.rows_of[prompt]
            else:
                self.failed += self.rows_of[prompt]
        self.seen = upto
        return self.done, self.failed, self.from_cache, self.job.tokens, self.job.cost

    def finished(self) -> int:
        done, failed, *_ = self()
        return done + failed


def _ask_first(session: Any, request: RowRequest, batches: list[list[str]], cached: int,
               model: str, table: PriceTable) -> None:
    """Above ``confirm_rows`` rows to send, the front end's yes (if it can ask) or nothing."""
    rows = sum(len(b) for b in batches)
    if session.confirm is None or rows <= session.prefs.confirm_rows:
        return
    question = plan_of(request, batches, cached, model, table).question(rows)
    if not session.confirm(question):
        raise NotConfirmedError(f"Not sent: the batch of {rows:,} rows was not confirmed.")


def row_key_for(request: RowRequest, prompt: str, settings: Any) -> str:
    """The cache key of one prompt under these settings (the API key is never in it)."""
    return row_key(request.key_material(prompt, settings.model, settings.base_url))


def _cached(store: RowCache | None, keys: dict[str, str]) -> dict[str, Outcome]:
    if store is None:
        return {}
    hits = store.get_many(keys.values())
    return {p: Outcome(hits[k]) for p, k in keys.items() if isinstance(hits.get(k), dict)}
