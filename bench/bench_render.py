"""Render cost of a streamed answer in a real kernel: naive re-rendering vs our renderer.

Run: ``.venv/bin/python bench/bench_render.py`` (``--help`` for sizes, rates and runs).

A synthetic Markdown answer (paragraphs, a list, a code block, a table; tokens of ~5-6 chars) is
streamed inside a real ipykernel through three strategies:

* ``naive``: ``display(Markdown(text), display_id=True)``, updated with the whole text per delta;
* ``naive 10/s``: the same, updated at most every 0.1 s (and once at the end);
* ``ours``: :func:`agcloud_magic.ipython.renderers.make_renderer` driven by a session-like
  drain loop.

Counted on the client from the IOPub messages: the payload bytes of display messages (their
``data`` values, UTF-8, no headers) and the number of messages.  Timed inside the kernel: render
CPU (main-thread CPU inside the display/renderer calls, pacing sleeps excluded), kernel CPU (the
whole process over the run, IOPub thread included) and the time from the start to the first
display message showing answer text.  Each row is the median of several runs.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

_PROSE = (
    "the data shows a clear trend in monthly revenue across regions while costs stay flat and "
    "margins improve slowly for most product lines except hardware where supply issues remain "
    "customers in the north spend more per order but churn faster than those in the south "
    "we should check seasonality outliers missing values and the effect of the new pricing"
)
_WORDS = _PROSE.split()


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 18))]
    if rng.random() < 0.3:
        i = rng.randrange(len(words))
        words[i] = rng.choice(("**", "`", "*")).join(("", words[i], ""))
    return " ".join(words).capitalize() + "."


def synthetic_answer(tokens: int, seed: int = 0) -> list[str]:
    """A deterministic Markdown answer cut into about ``tokens`` deltas of ~5-6 characters."""
    rng = random.Random(seed)
    sections: list[str] = []
    total = 0
    n = 0
    while total < tokens * 5.6:
        n += 1
        kind = n % 5
        if kind == 1:
            sections.append(f"## Part {n}\n\n" + " ".join(_sentence(rng) for _ in range(4)))
        elif kind == 2:
            sections.append("\n".join(f"- {_sentence(rng)}" for _ in range(rng.randint(3, 6))))
        elif kind == 3:
            body = "\n".join(
                f"df{i} = df.groupby('region')['revenue'].agg(['mean', 'sum'])  # step {i}"
                for i in range(rng.randint(6, 14))
            )
            sections.append(f"```python\nimport pandas as pd\n\n{body}\nprint(df0)\n```")
        elif kind == 4:
            rows = "\n".join(
                f"| {rng.choice(_WORDS)} | {rng.randint(1, 9999):,} | {rng.random():.2f} |"
                for _ in range(rng.randint(4, 8))
            )
            sections.append("| region | revenue | share |\n|---|---:|---:|\n" + rows)
        else:
            sections.append(" ".join(_sentence(rng) for _ in range(rng.randint(3, 6))))
        total = sum(len(s) + 2 for s in sections)
    text = "Here is what the data says.\n\n" + "\n\n".join(sections) + "\n"
    # Cut into tokens of 2-9 characters (mean ~5.6), like a tokenizer's pieces of words; the
    # first token is the first word, which the timing of the first visible text looks for.
    deltas: list[str] = ["Here"]
    i = 4
    while i < len(text):
        step = rng.choice((2, 3, 4, 5, 5, 6, 6, 7, 7, 8, 9))
        deltas.append(text[i : i + step])
        i += step
    return deltas[:tokens] if len(deltas) > tokens else deltas


# Kernel-side code: feed the deltas at a rate and print one JSON line of timings.  "render" CPU
# is main-thread CPU inside the display/renderer calls only (not the pacing sleeps); "kernel" CPU
# is the whole process over the run (it includes the IOPub thread's serialising and sending).
_KERNEL_CODE = textwrap.dedent(
    """
    import json as _json, time as _time
    def _bench(strategy, deltas, rate):
        from IPython.display import display, Markdown
        spent = [0.0]
        def timed(fn, *args, **kw):
            c = _time.thread_time()
            out = fn(*args, **kw)
            spent[0] += _time.thread_time() - c
            return out
        def pace(i):
            if rate:
                pause = start + i / rate - _time.perf_counter()
                if pause > 0:
                    _time.sleep(pause)
        cpu0, t0 = _time.process_time(), _time.time()
        start = _time.perf_counter()
        if strategy.startswith("naive"):
            interval = 0.1 if strategy == "naive10" else 0.0
            h = timed(display, Markdown(""), display_id=True)
            text, last = "", -1.0
            for i, d in enumerate(deltas):
                pace(i)
                text += d
                now = _time.perf_counter()
                if now - last >= interval:
                    timed(h.update, Markdown(text))
                    last = now
            timed(h.update, Markdown(text))
        else:
            from agcloud_magic.display.render import format_footer
            from agcloud_magic.ipython.renderers import make_renderer
            r = timed(make_renderer)
            timed(r.start)
            for i, d in enumerate(deltas):
                if rate:  # a session's drain loop: wait for the next delta, flush when due
                    arrival = start + i / rate
                    while True:
                        wait = arrival - _time.perf_counter()
                        due = timed(r.next_due)
                        if due is not None and due <= wait:
                            _time.sleep(max(due, 0.0))
                            timed(r.flush)
                            continue
                        if wait > 0:
                            _time.sleep(wait)
                        break
                timed(r.append, d)
            usage = {"input_tokens": 42, "output_tokens": len(deltas)}
            footer = format_footer("bench-model", usage, _time.perf_counter() - start)
            timed(r.finish, footer=footer, metadata={"response_id": "resp_bench"})
        print("BENCH" + _json.dumps({"cpu": _time.process_time() - cpu0,
                                     "render_cpu": spent[0], "t0": t0}))
    """
)


def _run_one(kc, strategy: str, deltas: list[str], rate: float, probe: str) -> dict:
    """Execute one strategy in the kernel and tally its IOPub display traffic."""
    msg_id = kc.execute(f"_bench({strategy!r}, {json.dumps(deltas)}, {rate!r})", silent=False)
    nbytes = messages = 0
    first_visible: float | None = None
    stats: dict | None = None
    while True:
        msg = kc.get_iopub_msg(timeout=120)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind in ("display_data", "update_display_data"):
            data = content["data"]
            messages += 1
            nbytes += sum(len(str(v).encode()) for v in data.values())
            if first_visible is None and any(probe in str(v) for v in data.values()):
                first_visible = msg["header"]["date"].timestamp()
        elif kind == "stream" and content["text"].startswith("BENCH"):
            stats = json.loads(content["text"][5:].strip())
        elif kind == "error":
            raise RuntimeError("\n".join(content["traceback"]))
        elif kind == "status" and content["execution_state"] == "idle":
            break
    assert stats is not None, "the kernel did not report its timings"
    return {
        "bytes": nbytes,
        "messages": messages,
        "cpu_ms": stats["cpu"] * 1000,
        "render_ms": stats["render_cpu"] * 1000,
        "first_ms": (first_visible - stats["t0"]) * 1000 if first_visible else float("nan"),
    }


def main() -> None:
    """Parse options, run the matrix in one kernel, print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="500,2000", help="answer sizes in tokens (comma-separated)")
    ap.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="tokens/s for the sizes above (0 = as fast as possible)",
    )
    ap.add_argument(
        "--paced",
        default="500@100",
        help="extra paced runs as SIZE@RATE, comma-separated ('' for none)",
    )
    ap.add_argument("--runs", type=int, default=3, help="runs per cell (the median is shown)")
    args = ap.parse_args()

    from jupyter_client.manager import start_new_kernel

    cases = [(int(s), args.rate) for s in args.sizes.split(",") if s]
    for spec in filter(None, args.paced.split(",")):
        size, rate = spec.split("@")
        cases.append((int(size), float(rate)))
    strategies = (("naive", "naive"), ("naive10", "naive 10/s"), ("ours", "ours"))

    km, kc = start_new_kernel(kernel_name="python3", cwd=str(REPO))
    try:
        kc.execute_interactive(_KERNEL_CODE, timeout=60)
        kc.execute_interactive("import agcloud_magic.ipython.renderers", timeout=60)  # warm imports
        rows = []
        for size, rate in cases:
            deltas = synthetic_answer(size)
            answer_bytes = len("".join(deltas).encode())
            first_word = deltas[0]
            for key, label in strategies:
                _run_one(kc, key, deltas[:20], 0.0, first_word)  # warm-up (imports, caches)
                runs = [_run_one(kc, key, deltas, rate, first_word) for _ in range(args.runs)]

                def med(field: str, runs: list[dict] = runs) -> float:
                    return statistics.median(r[field] for r in runs)

                rows.append(
                    (
                        f"{len(deltas)} @ {'max' if not rate else f'{rate:g}/s'}",
                        f"{answer_bytes:,}",
                        label,
                        f"{med('bytes'):,.0f}",
                        f"{med('bytes') / answer_bytes:,.1f}x",
                        f"{med('messages'):.0f}",
                        f"{med('render_ms'):.1f}",
                        f"{med('cpu_ms'):.1f}",
                        f"{med('first_ms'):.1f}",
                    )
                )
                print(f"  done: {rows[-1][0]} {label}", flush=True)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)

    head = (
        "deltas @ rate",
        "answer bytes",
        "strategy",
        "display bytes",
        "vs answer",
        "messages",
        "render CPU ms",
        "kernel CPU ms",
        "first text ms",
    )
    print(f"\nMedian of {args.runs} runs per row, one real ipykernel.\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" if i == 2 else "---:" for i in range(len(head))) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
