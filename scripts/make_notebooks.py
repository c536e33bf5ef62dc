"""Regenerate the demo notebooks in notebooks/ (outputs cleared).

    .venv/bin/python scripts/make_notebooks.py

The notebooks are data; this script is their source, so a change to a demo is a reviewable
diff of Python strings rather than of JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

SETUP = """%load_ext agcloud_magic
# With AGCLOUD_API_KEY set this talks to AGCloud; without it, to the offline stand-in.
%agcloud offline auto"""

OFFLINE_NOTE = (
    "Runs top to bottom as it is: against AGCloud when `AGCLOUD_API_KEY` is set, otherwise "
    "against the built-in offline stand-in (a deterministic echo model that restates what it "
    "received, so you can see exactly what was sent). The first output says which."
)


def md(text: str):
    return new_markdown_cell(text.strip())


def code(text: str):
    return new_code_cell(text.strip())


def quickstart():
    return [
        md(f"# Quickstart\n\n{OFFLINE_NOTE}"),
        code(SETUP),
        md(
            "## Ask\n`%%respond` sends the cell; the answer streams in as safe Markdown, "
            "with a footer (model, tokens, time)."
        ),
        code("%%respond\nIn two sentences: what is a Jupyter kernel?"),
        md(
            "## Chain\nThe next turn continues the conversation (`previous_response_id`). "
            "`%respond` is the one-line form."
        ),
        code("%respond --max-output-tokens 120 And how is it different from the notebook server?"),
        code("%agcloud history"),
        md(
            "## Options and the result object\nEvery request field has an option "
            "(`%respond?` lists them). `-o NAME` keeps the result."
        ),
        code(
            '%%respond --instructions "Answer like a patient teacher." --temperature 0.2 '
            '-o answer\nWhat does "mean" mean in statistics?'
        ),
        code("print(answer.status, answer.model, answer.id)\nprint(answer.usage)"),
        md(
            "## Variables\n`{name}` inserts a kernel variable; other braces stay as written, "
            "and `{{name}}` is a literal."
        ),
        code('topic = "standard deviation"\nlevel = "secondary school"'),
        code(
            "%%respond\nExplain {topic} for a {level} class, with one example.\n"
            'Literal braces stay: {{topic}}, {"json": true}, {1, 2}.'
        ),
        md(
            "## Re-running a cell replaces its turn\nJupyterLab, Notebook 7 and VS Code send a "
            "cell id with each run. Re-running a cell branches from that cell's parent instead "
            "of stacking a duplicate turn. Here the same cell id runs twice:"
        ),
        code(
            "ip = get_ipython()\nfor attempt in range(2):\n"
            '    ip.run_cell("%%respond --max-output-tokens 60\\nName one prime number.", '
            'cell_id="rerun-demo")'
        ),
        code("%agcloud history"),
        md("## Threads and usage"),
        code("%%respond --chat side\nA separate thread: name a colour."),
        code("%agcloud chats\n%agcloud usage"),
        md("## See before you send\n`--dry-run` shows exactly what would be sent."),
        code("%%respond --chat main --dry-run --max-output-tokens 200\nSummarise our chat."),
    ]


def dataframe_summary():
    return [
        md(
            "# DataFrame summaries\n\nExploring the Palmer penguins data (CC0, "
            f"`data/penguins.csv`) with a model's help.\n\n{OFFLINE_NOTE}"
        ),
        code(SETUP),
        code(
            'import pandas as pd\n\npenguins = pd.read_csv("data/penguins.csv")\n'
            'penguins["species"] = penguins["species"].astype("category")\npenguins.shape'
        ),
        md(
            "## What the model sees\n`summarize` builds a bounded, deterministic summary: "
            "shape, dtypes, missing values, distinct counts, statistics, frequent values, "
            "sample rows and alerts. `~` marks estimates (only on large frames)."
        ),
        code('import agcloud_magic\n\nprint(agcloud_magic.summarize(penguins, name="penguins"))'),
        md("## Ask about the frame\n`--dry-run` first, to see the request; then for real."),
        code("%%respond --df penguins --dry-run\nWhat stands out in this table?"),
        code(
            "%%respond --df penguins\nWhat stands out in this table? Which columns have "
            "missing values, and how would you handle them?"
        ),
        md("## Interpolation\nA DataFrame in `{...}` becomes its summary too."),
        code(
            "%%respond\nHere is the table: {penguins}\nSuggest three plots that would show "
            "differences between species."
        ),
        md("## Privacy knobs\nNo sample rows, and a column left out entirely."),
        code(
            "%%respond --df penguins --no-sample-rows --exclude-columns sex,year --dry-run\n"
            "Describe the measurements."
        ),
        md(
            "## From Python\n`df.respond(...)` asks about a frame; `_repr_llm_` lets any "
            "object say what the model sees."
        ),
        code(
            'result = penguins.respond("Which island has the most penguins?")\n'
            "print(result.text[:300])"
        ),
        code(
            "class Experiment:\n    def __init__(self, name, runs):\n"
            "        self.name, self.runs = name, runs\n\n"
            "    def _repr_llm_(self):\n"
            '        return f"Experiment {self.name!r} with {len(self.runs)} runs: {self.runs}"\n\n'
            'exp = Experiment("flipper-growth", [181, 186, 195])'
        ),
        code("%%respond\nIs this experiment big enough to conclude anything? {exp}"),
    ]


def teaching_demo():
    return [
        md(
            f"# Teaching demo\n\nInstructions, temperature, images and the chat panel.\n\n"
            f"{OFFLINE_NOTE}"
        ),
        code(SETUP),
        md(
            "## Set the tone with instructions\nInstructions are resent on every turn of the "
            "thread, so the tone holds."
        ),
        code(
            '%%respond --instructions "You teach 12-year-olds. Short sentences, one example." '
            "--temperature 0.3\nWhy is the sky blue?"
        ),
        code("%respond And why are sunsets red?"),
        md("## Show the model a chart"),
        code(
            'import matplotlib\nmatplotlib.use("Agg")\nimport matplotlib.pyplot as plt\n'
            'import pandas as pd\n\npenguins = pd.read_csv("data/penguins.csv")\n'
            "fig, ax = plt.subplots(figsize=(5, 3.5))\n"
            'for species, rows in penguins.groupby("species"):\n'
            '    ax.scatter(rows["flipper_length_mm"], rows["body_mass_g"], s=10, label=species)\n'
            'ax.set_xlabel("flipper length (mm)")\nax.set_ylabel("body mass (g)")\nax.legend()\n'
            "plt.close(fig)"
        ),
        code(
            "%%respond --new --image fig --detail low\nDescribe this chart for a student in "
            "three sentences."
        ),
        md(
            "## The chat panel\nFor a live demo: type in the panel and press Send (or "
            "Ctrl/Cmd+Enter). It shares the conversation with the magics. Below it is also "
            "driven from code so this notebook runs unattended."
        ),
        code("import agcloud_magic\n\npanel = agcloud_magic.Panel()\npanel"),
        code(
            'panel.prompt.value = "Give the class one fun fact about penguins."\n'
            "panel.send.click()\nresult = panel.wait(timeout=60)\n"
            "# The panel above now shows the answer; a saved or exported copy of this notebook\n"
            "# shows it too (a static copy of the transcript travels with the widget).\n"
            'print(f"{len(panel.transcript)} entries in the panel transcript")'
        ),
    ]


def tools():
    return [
        md(
            "# Python functions as tools\n\nThe model may call only the functions named in "
            "`--tools`; arguments are validated against a schema built from the signature, and "
            "nothing the model writes is ever run as code.\n\n"
            + OFFLINE_NOTE
            + "\n\nOffline, the stand-in calls a tool you offered when the prompt names it or "
            "shares two words with its name and description, reading the arguments from the "
            "prompt (`species Gentoo`), or once for each `call NAME({...})` line; a real model "
            "decides by itself and ignores those lines' syntax."
        ),
        code(SETUP),
        code(
            'import pandas as pd\n\npenguins = pd.read_csv("data/penguins.csv")\n\n\n'
            'def species_stats(species: str, column: str = "body_mass_g") -> dict:\n'
            '    """Count, mean, min and max of a numeric penguin column for one species.\n\n'
            "    Args:\n"
            "        species: Adelie, Chinstrap or Gentoo.\n"
            "        column: a numeric column, e.g. body_mass_g or flipper_length_mm.\n"
            '    """\n'
            '    values = penguins.loc[penguins["species"] == species, column].dropna()\n'
            '    return {"species": species, "column": column, "n": int(values.size),\n'
            '            "mean": round(float(values.mean()), 1) if len(values) else None,\n'
            '            "min": float(values.min()) if len(values) else None,\n'
            '            "max": float(values.max()) if len(values) else None}'
        ),
        md("The schema the model receives, from the signature and the docstring:"),
        code("from agcloud_magic.tools import function_tool\n\nfunction_tool(species_stats)"),
        md("## Asked in plain words\nThe function runs in this kernel; its result is shown."),
        code(
            "%%respond --tools species_stats\n"
            "What are the penguin stats for species Gentoo?"
        ),
        md(
            "## A tool loop over the DataFrame\nEach call is shown as it happens; the results "
            "go back to the model until it answers in text."
        ),
        code(
            "%%respond --tools species_stats\nWhich species is heaviest? Check each one.\n"
            'call species_stats({"species": "Adelie"})\n'
            'call species_stats({"species": "Gentoo"})\n'
            'call species_stats({"species": "Chinstrap"})'
        ),
        md(
            "## Forcing a tool, bounding the rounds\n`--tool-choice NAME` forces a call; "
            "`--max-rounds` bounds the loop."
        ),
        code(
            "%%respond --tools species_stats --tool-choice species_stats --max-rounds 2\n"
            "Body mass of the Gentoo penguins, please.\n"
            'call species_stats({"species": "Gentoo", "column": "body_mass_g"})'
        ),
    ]


# The ticket prompt: the `template` of the Python cells and the body of the --each cells, one
# text, so the --each cells find every row in the cache the Python cells filled.
TICKET_PROMPT = (
    "Label this customer-support ticket for an invoicing app.\n"
    "topic: what it is mainly about;\n"
    "urgent: true if the customer is blocked, losing money or at risk right now;\n"
    "summary: at most ten words.\n\nTicket: {text}"
)



def as_python(text: str) -> str:
    """``text`` as a parenthesised string literal, one line of it per source line."""
    pieces = "".join(f"    {json.dumps(line)}\n" for line in text.splitlines(keepends=True))
    return f"(\n{pieces})"


BATCH_SETUP = """%load_ext agcloud_magic
# With AGCLOUD_API_KEY set this talks to AGCloud; without it, to the offline stand-in.
%agcloud offline auto"""


def batch():
    """A prompt per row: label support tickets (notebooks/data/support_tickets.csv)."""
    # The cells' text is not indented: inside the brackets, it is the cells' own text.
    return [
 md("""
# A prompt per row

Label 40 support tickets (synthetic, CC0, `data/support_tickets.csv`) with a topic, an urgency
flag and a one-line summary: one prompt per row, a typed DataFrame back, then ordinary pandas.

Runs top to bottom as it is: against AGCloud when `AGCLOUD_API_KEY` is set, otherwise against
the built-in offline stand-in. The first output says which.

**Offline, the labels are valid but meaningless.** The stand-in is not a model: it fills the
schema with values that have the right types and categories, chosen deterministically from each
ticket's text, so every cell below runs and the analysis has something to count, but the counts
say nothing about the tickets. Set `AGCLOUD_API_KEY` and run the same notebook to label them for
real.
"""),
 code(BATCH_SETUP),
 code("""
import pandas as pd

tickets = pd.read_csv("data/support_tickets.csv", index_col="ticket_id")
tickets.head()
"""),
 md("""
## The schema and the prompt
One typed column per field: a `Literal` becomes a categorical with exactly those categories,
`bool` a nullable boolean, `str` a string. `{text}` in the template is filled from each row's
`text` column.
"""),
 code("""
from typing import Literal, TypedDict


class TicketLabel(TypedDict):
    topic: Literal["billing", "login", "bug", "feature", "praise", "other"]
    urgent: bool
    summary: str


template = """ + as_python(TICKET_PROMPT)),
 md("""
## Look before sending
`dry_run=True` sends nothing: it shows how many requests the rows would take (up to 20 rows
share a request), a rough token estimate, and the first request body exactly as it would be
POSTed. With a price table (US dollars per million input/output tokens; the package ships
none, so these are an example) it prices the estimate too. A batch of more than 100 rows would
ask before sending (`%agcloud config confirm_rows=N`), so Run All cannot spend silently.
"""),
 code("""
%agcloud config prices="gpt-4o-mini=0.15/0.60"
plan = tickets.respond.map(template, TicketLabel, dry_run=True)
print(plan.describe())
"""),
 md("""
## Label every ticket
`progress=True` draws a bar and ends with one summary line. `budget_tokens` is a hard stop: once
the answers have used that many tokens, nothing more is sent and the rows left say so in
`error`. Each finished row is cached on disk, so running this cell again sends nothing.
"""),
 code("""
labels = tickets.respond.map(
    template,
    TicketLabel,
    rows_per_request=20,
    budget_tokens=50_000,
    progress=True,
)
labels.dtypes
"""),
 md("""
The result is aligned on the tickets' index, so it joins straight on. `error` is missing where a
row succeeded, else one line saying why; a failed row never fails the job, so check it.
"""),
 code("""
labelled = tickets.join(labels)
failed = labelled[labelled["error"].notna()]
print(f"{len(failed)} of {len(labelled)} rows failed")
failed[["text", "error"]]
"""),
 md("## A small analysis"),
 code("""
labelled["topic"].value_counts()
"""),
 code("""
pd.crosstab(labelled["channel"], labelled["urgent"], margins=True)
"""),
 code("""
labelled.loc[labelled["urgent"].fillna(False), ["channel", "topic", "summary"]]
"""),
 md("""
## Again: served from the cache
The same call with the same rows, schema, model and options finds every row in the cache
(`$AGCLOUD_CACHE_DIR`, default the user cache directory): the summary line says how many came
from it, and nothing is sent.
"""),
 code("""
again = tickets.respond.map(template, TicketLabel, progress=True)
again.equals(labels)
"""),
 md("""
## The same from a cell
`%%respond --each tickets` sends the cell once per row (`{text}` from each row), `--schema
TicketLabel` types the columns and `-o labels2` keeps the frame; a progress bar shows while it
runs. First with `--dry-run`: same prompts, schema and options, so every row is already in the
cache and nothing would be sent.
"""),
 code("%%respond --each tickets --schema TicketLabel --dry-run\n" + TICKET_PROMPT),
 md("""
Then for real: the same cell without `--dry-run`, with `-o labels2`; a progress bar shows
while it runs (here every row comes from the cache).
"""),
 code("%%respond --each tickets --schema TicketLabel -o labels2\n" + TICKET_PROMPT),
 code("""
labels2.equals(labels)
"""),
 md("""
## Ask about the result
The labelled frame is a DataFrame like any other: `--df` sends its summary (shape, categories,
counts, sample rows), not every row.
"""),
 code("""
%%respond --df labelled --exclude-columns text,error
Which topics and channels should the support team look at first, and why?
"""),
 code("""
%respond In one sentence: what would you check before trusting these labels?
"""),
    ]


def lesson_replay():
    """Record a lesson once, replay it in class with no key and no network."""
    return [
        md("# Record once, replay in class\n\n"
           "A teacher runs the lesson once against the real service with `%agcloud record`; "
           "the class replays the same answers with `%agcloud replay`: no key, no network, "
           "nothing to pay. Without `AGCLOUD_API_KEY` this notebook records against the "
           "offline stand-in instead, so it runs anywhere."),
        code(SETUP),
        code("# A scratch folder for the cassette and the report (a course keeps them).\n"
             "import os, tempfile\n\nos.chdir(tempfile.mkdtemp())"),
        md("## The teacher records\nThe threads are kept in a file too, so a restarted kernel "
           "continues them (in JupyterLab and VS Code each notebook gets its own store by "
           "itself; here a file is named)."),
        code("%env AGCLOUD_THREADS_FILE=penguin-threads.json\n%agcloud store penguin-threads.json\n"
             "%agcloud record penguins.jsonl"),
        code("%%respond\nName three penguin species."),
        code("%%respond\nWhich of them is the largest?"),
        code("%agcloud record stop\nprint(open('penguins.jsonl').read()[:300], '...')"),
        md("## A restart\nUnloading and loading the extension starts a fresh session, as a "
           "kernel restart does: the threads come back from the store, in one line."),
        code("%unload_ext agcloud_magic\n%load_ext agcloud_magic\n%agcloud history"),
        md("## The class replays\nThe cassette holds the requests and the answers as they "
           "streamed, with ids and times normalised and no key. `%agcloud replay` serves it "
           "from a local stand-in (add `fast` to skip the original pacing)."),
        code("%agcloud replay penguins.jsonl\n%agcloud new"),
        code("%%respond\nName three penguin species."),
        code("%%respond\nWhich of them is the largest?"),
        md("A question that was not recorded would get one line saying what differs from "
           "the closest recorded one (for instance *Name four penguin species.*), and nothing "
           "else is sent anywhere."),
        md("## A report of the lesson\nThe thread as safe Markdown (`--format json` keeps "
           "every item for `%agcloud import`)."),
        code("%agcloud replay stop\n%agcloud export penguins.md\n"
             "print(open('penguins.md').read()[:400])"),
    ]


def main() -> None:
    for name, cells in [
        ("quickstart", quickstart()),
        ("dataframe_summary", dataframe_summary()),
        ("teaching_demo", teaching_demo()),
        ("tools", tools()),
        ("batch", batch()),
        ("lesson_replay", lesson_replay()),
    ]:
        for number, cell in enumerate(cells):
            cell.id = f"{name}-{number:02d}"  # stable ids: regenerating gives a clean diff
        notebook = new_notebook(cells=cells)
        notebook.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        notebook.metadata["language_info"] = {"name": "python"}
        nbformat.validate(notebook)
        nbformat.write(notebook, NOTEBOOKS / f"{name}.ipynb")
        print(f"wrote notebooks/{name}.ipynb ({len(cells)} cells)")


if __name__ == "__main__":
    main()
