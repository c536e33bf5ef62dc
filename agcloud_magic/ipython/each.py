"""``%%respond --each DF``: the cell is a row template, sent once per row of DF.

The batch itself is :func:`agcloud_magic.batching.map_rows` (cache, dedupe, typed columns, an
``error`` column); this module only reads the magic's options, finds the names in the user's
namespace and shows the result.  Options that make no sense for stateless row requests
(threads, tools, attachments, summaries) are refused in one line rather than ignored.
"""

from __future__ import annotations

import sys
from typing import Any

from agcloud_magic.errors import (
    AGCloudError,
    ConfigError,
    NotConfirmedError,
    RequestInterrupted,
)
from agcloud_magic.ipython.options import request_fields

__all__ = ["batch_options", "refuse_each_only", "run_each"]

# (argparse dest, the option as typed): refused with --each, each for a reason in REASON.
NOT_WITH_EACH = (
    ("tools", "--tools"), ("tool_choice", "--tool-choice"), ("max_rounds", "--max-rounds"),
    ("image", "--image"), ("detail", "--detail"), ("file", "--file"), ("df", "--df"),
    ("budget", "--budget"), ("no_sample_rows", "--no-sample-rows"), ("columns", "--columns"),
    ("exclude_columns", "--exclude-columns"), ("new", "--new"), ("chat", "--chat"),
    ("continue_id", "--continue"), ("role", "--role"), ("format", "--format"),
)
REASON = "each row is one stateless request; the result is a DataFrame"
# (argparse dest, the option as typed, map_rows keyword): options of a batch only.
EACH_ONLY = (
    ("schema", "--schema", None), ("concurrency", "--concurrency", "concurrency"),
    ("rows_per_request", "--rows-per-request", "rows_per_request"),
    ("budget_tokens", "--budget-tokens", "budget_tokens"),
    ("budget_cost", "--budget-cost", "budget_cost"), ("rpm", "--rpm", "rpm"),
    ("tpm", "--tpm", "tpm"), ("no_cache", "--no-cache", None), ("yes", "--yes", "confirm"),
    ("text_format", "--text-format", None),
)


def refuse_each_only(args: Any) -> None:
    """One line for a batch option given without ``--each``."""
    for dest, flag, _ in EACH_ONLY:
        if getattr(args, dest, None) not in (None, False):
            raise ConfigError(f"{flag} needs --each DF: it is an option of a batch.")


def batch_options(args: Any) -> dict[str, Any]:
    """The ``map_rows`` keywords the line gave (``--no-cache`` is ``cache=False``)."""
    options = {keyword: getattr(args, dest) for dest, _, keyword in EACH_ONLY
               if keyword is not None and getattr(args, dest) not in (None, False)}
    if args.no_cache:
        options["cache"] = False
    if args.text_format:
        options["schema_as"] = "text_format"
    return options


def run_each(magics: Any, args: Any, template: str) -> None:
    """Run the batch ``--each`` names (or plan it, with ``--dry-run``) and show the frame."""
    import pandas as pd

    for dest, flag in NOT_WITH_EACH:
        if getattr(args, dest, None) not in (None, False, []):
            raise ConfigError(f"{flag} cannot be used with --each: {REASON}.")
    namespace = magics.shell.user_ns
    rows = _lookup(namespace, args.each, "--each")
    if not isinstance(rows, (pd.DataFrame, pd.Series)):
        raise ConfigError(f"--each {args.each}: expected a DataFrame or Series, not "
                          f"{type(rows).__name__}.")
    schema = None if args.schema is None else _lookup(namespace, args.schema, "--schema")
    fields = request_fields(args, magics.request_defaults())
    from agcloud_magic.batching import map_rows
    from agcloud_magic.ipython.progress import progress_sink

    text = template.strip()
    options = batch_options(args)
    if args.dry_run:
        options.pop("confirm", None)
        print(map_rows(rows, text, schema, dry_run=True, **options, **fields).describe())
        return
    try:
        frame = map_rows(rows, text, schema, progress=progress_sink(magics.shell), **options,
                         **fields)
    except ConfigError:
        raise  # the user's mistake: a UsageError, from the magic
    except (RequestInterrupted, NotConfirmedError) as exc:  # nothing lost: one line
        print(str(exc), file=sys.stderr)
        return
    except AGCloudError as exc:  # the batch itself could not run (a row's failure is a cell)
        print(f"Error: {exc}", file=sys.stderr)
        return
    if args.out:
        namespace[args.out] = frame
    from IPython.display import display

    display(frame)


def _lookup(namespace: dict[str, Any], name: str, option: str) -> Any:
    if name not in namespace:
        raise ConfigError(f"{option} {name}: no variable of that name in the namespace.")
    return namespace[name]
