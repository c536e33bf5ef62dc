"""Per-call client cost: ours vs raw httpx vs httpx-sse vs the openai SDK, one run, one server.

    .venv/bin/python bench/bench_client.py [--calls 40] [--tokens 500]

The stand-in runs in its own process and answers with ``lorem-N`` (N text deltas).  Every
contender makes the same calls in interleaved rounds; the table shows the median wall time
per call (the whole request: connect reuse, send, read, parse, including the server's time)
and the median CPU time the client process spent on it (the client's own cost), each with its
ratio to raw httpx.
"Raw httpx" reads the SSE lines and JSON-decodes each data line, which is the least any
client must do.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import httpx
from _standin_proc import standin_process

KEY = "sk-test-bench-key"


def contenders(base: str, model: str) -> dict[str, dict[str, Callable[[], object]]]:
    headers = {"Authorization": f"Bearer {KEY}"}
    raw = httpx.Client(timeout=30)

    def raw_stream():
        text = []
        with raw.stream(
            "POST",
            f"{base}/responses",
            headers=headers,
            json={"model": model, "input": "go", "stream": True},
        ) as r:
            for line in r.iter_lines():
                if line.startswith("data: "):
                    event = json.loads(line[6:])
                    if event["type"] == "response.output_text.delta":
                        text.append(event["delta"])
        return "".join(text)

    def raw_plain():
        r = raw.post(
            f"{base}/responses",
            headers=headers,
            json={"model": model, "input": "go", "stream": False},
        )
        return r.json()

    from httpx_sse import connect_sse

    def sse_stream():
        text = []
        with connect_sse(
            raw,
            "POST",
            f"{base}/responses",
            headers=headers,
            json={"model": model, "input": "go", "stream": True},
        ) as source:
            for sse in source.iter_sse():
                event = json.loads(sse.data)
                if event["type"] == "response.output_text.delta":
                    text.append(event["delta"])
        return "".join(text)

    from agcloud_magic.http.client import Client
    from agcloud_magic.http.settings import Settings

    ours = Client(Settings(api_key=KEY, base_url=base, model=model))

    def ours_stream():
        return ours.create({"input": "go", "stream": True}).text

    def ours_plain():
        return ours.create({"input": "go", "stream": False}).text

    import openai

    sdk = openai.OpenAI(api_key=KEY, base_url=base, max_retries=0)

    def sdk_stream():
        text = []
        for event in sdk.responses.create(model=model, input="go", stream=True):
            if event.type == "response.output_text.delta":
                text.append(event.delta)
        return "".join(text)

    def sdk_plain():
        return sdk.responses.create(model=model, input="go").output_text

    return {
        "streamed": {
            "raw httpx": raw_stream,
            "httpx-sse": sse_stream,
            "agcloud-magic": ours_stream,
            "openai SDK": sdk_stream,
        },
        "non-streamed": {
            "raw httpx": raw_plain,
            "agcloud-magic": ours_plain,
            "openai SDK": sdk_plain,
        },
    }


def measure(
    fns: dict[str, Callable[[], object]], calls: int
) -> dict[str, tuple[float, float]]:
    """Median (wall, client CPU) seconds per call; CPU is this process's only, not the server's."""
    wall: dict[str, list[float]] = {name: [] for name in fns}
    cpu: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():  # warm-up: connections, imports, caches
        fn()
    for _ in range(calls):
        for name, fn in fns.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            cpu[name].append(time.process_time() - start_cpu)
            wall[name].append(time.perf_counter() - start)
    return {n: (statistics.median(wall[n]), statistics.median(cpu[n])) for n in fns}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--tokens", type=int, default=500)
    args = parser.parse_args()
    with standin_process() as base:
        groups = contenders(base, f"lorem-{args.tokens}")
        print(
            f"Per-call cost, {args.tokens}-token answer, median of {args.calls} calls "
            "(stand-in in a separate process on 127.0.0.1)\n"
        )
        print("| mode | client | wall ms | vs raw | client CPU ms | vs raw |")
        print("|---|---|---:|---:|---:|---:|")
        for mode, fns in groups.items():
            medians = measure(fns, args.calls)
            base_wall, base_cpu = medians["raw httpx"]
            for name, (w, c) in medians.items():
                print(f"| {mode} | {name} | {w * 1000:.2f} | {w / base_wall:.2f}x | "
                      f"{c * 1000:.2f} | {c / base_cpu:.2f}x |")


if __name__ == "__main__":
    main()
