"""A streamed answer end to end in a real kernel: front-end bytes and kernel CPU, naive vs ours.

    .venv/bin/python bench/bench_stream.py [--runs 5] [--tokens 500,2000]

The stand-in runs in its own process and streams ``lorem-N`` (N text deltas); a real ipykernel
runs each strategy; the client counts the IOPub display messages it receives.

* ``naive``: what chatlab-style tools do: read the SSE with httpx, and on every delta re-render
  the whole Markdown text into one display handle;
* ``naive 10/s``: the same, throttled to ten updates a second (plus the final one);
* ``ours``: ``%%respond -m lorem-N``.

Columns: display messages; payload bytes (the ``data`` values of display_data and
update_display_data, UTF-8, no headers) and their ratio to the answer's size; kernel CPU time
over the cell (``time.process_time`` in the kernel: main thread, our loop thread and the IOPub
thread); time from sending the cell to the first display message that shows answer text.
Medians over ``--runs``; rows at 100 tokens/s use a stand-in paced at 10 ms per event.
"""

from __future__ import annotations

import argparse
import queue
import statistics
import time

from _standin_proc import standin_process
from jupyter_client.manager import start_new_kernel

KEY = "sk-test-bench-stream"

NAIVE = r'''
def _naive(model, every=0.0):
    import json, time, httpx
    from IPython.display import Markdown, display
    handle = display(Markdown(""), display_id=True)
    text, last = "", 0.0
    body = {"model": model, "input": "go", "stream": True}
    headers = {"Authorization": "Bearer " + os.environ["AGCLOUD_API_KEY"]}
    url = os.environ["AGCLOUD_BASE_URL"] + "/responses"
    with httpx.stream("POST", url, json=body, headers=headers, timeout=60) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                event = json.loads(line[6:])
                if event["type"] == "response.output_text.delta":
                    text += event["delta"]
                    now = time.monotonic()
                    if now - last >= every:
                        handle.update(Markdown(text))
                        last = now
    handle.update(Markdown(text))
'''

CELL = """import os, time, json
_c0 = time.process_time()
{call}
print("CPU=" + str(time.process_time() - _c0))
"""


def run_cell(kc, code: str, timeout: float = 120) -> dict:
    """Execute ``code``; return display stats, printed stdout and timings from the IOPub stream."""
    started = time.monotonic()
    msg_id = kc.execute(code)
    stats = {"messages": 0, "bytes": 0, "first": None, "stdout": "", "answer": ""}
    shown: list[tuple[float, str]] = []
    while True:
        try:
            msg = kc.get_iopub_msg(timeout=timeout)
        except queue.Empty:
            raise RuntimeError("kernel went quiet") from None
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind in ("display_data", "update_display_data"):
            data = content.get("data", {})
            size = sum(len(str(v).encode()) for v in data.values())
            stats["messages"] += 1
            stats["bytes"] += size
            shown.append((time.monotonic() - started, " ".join(map(str, data.values()))))
            plain = data.get("text/plain", "")
            if plain and "Markdown" not in plain:
                stats["answer"] = plain
            if "text/markdown" in data:
                stats["answer"] = data["text/markdown"]
        elif kind == "stream":
            stats["stdout"] += content["text"]
        elif kind == "error":
            raise RuntimeError("\n".join(content["traceback"]))
        elif kind == "status" and content["execution_state"] == "idle":
            # First visible text: the first display showing the answer's first word.
            first_word = next((w for w in stats["answer"].split() if w.isalpha()), "")
            stats["first"] = next((t for t, text in shown if first_word and first_word in text),
                                  None)
            return stats


def bench(base: str, tokens: int, runs: int) -> dict[str, dict[str, float]]:
    env_code = (f"import os\nos.environ['AGCLOUD_BASE_URL'] = {base!r}\n"
                f"os.environ['AGCLOUD_API_KEY'] = {KEY!r}\n")
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        run_cell(kc, env_code + "%load_ext agcloud_magic\n" + NAIVE)
        model = f"lorem-{tokens}"
        strategies = {
            "naive": f"_naive({model!r})",
            "naive 10/s": f"_naive({model!r}, every=0.1)",
            "ours": f"get_ipython().run_cell_magic('respond', '-m {model} --new', 'go')",
        }
        rows: dict[str, list[dict]] = {name: [] for name in strategies}
        answer_bytes = 0
        for call in strategies.values():  # warm-up (imports, connections)
            run_cell(kc, CELL.format(call=call))
        for _ in range(runs):
            for name, call in strategies.items():
                stats = run_cell(kc, CELL.format(call=call))
                stats["cpu"] = float(stats["stdout"].split("CPU=")[1].split()[0])
                rows[name].append(stats)
                if name == "ours":
                    answer_bytes = len(stats["answer"].encode())
        result = {}
        for name, samples in rows.items():
            med = {k: statistics.median(s[k] for s in samples if s[k] is not None)
                   for k in ("messages", "bytes", "cpu", "first")}
            med["ratio"] = med["bytes"] / max(answer_bytes, 1)
            med["answer"] = answer_bytes
            result[name] = med
        return result
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tokens", default="500,2000")
    args = parser.parse_args()
    sizes = [int(t) for t in args.tokens.split(",")]
    print(f"Streamed answer in a real kernel, median of {args.runs} runs\n")
    print("| answer | rate | strategy | display msgs | payload KB | x answer | kernel CPU ms "
          "| first text ms |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    plans = [(tokens, "as fast as served", 0.0) for tokens in sizes]
    plans.append((sizes[0], "100 tokens/s", 0.01))
    for tokens, rate, delay in plans:
        with standin_process(token_delay=delay) as base:
            result = bench(base, tokens, args.runs)
        for name, m in result.items():
            print(f"| {tokens} tokens ({m['answer'] / 1024:.1f} KB) | {rate} | {name} | "
                  f"{m['messages']:.0f} | {m['bytes'] / 1024:.1f} | {m['ratio']:.1f}x | "
                  f"{m['cpu'] * 1000:.1f} | {m['first'] * 1000:.0f} |")


if __name__ == "__main__":
    main()
