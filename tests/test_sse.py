"""The SSE parser over arbitrary chunkings, line endings and the recorded real streams."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from agcloud_magic.wire.accumulator import Accumulator
from agcloud_magic.wire.events import decode_event
from agcloud_magic.wire.sse import ServerSentEvent, SSEParser

from .helpers import fixture_files, fixture_stream_bytes


def parse_in_chunks(raw: bytes, cuts: list[int]) -> list[ServerSentEvent]:
    parser = SSEParser()
    events: list[ServerSentEvent] = []
    start = 0
    for cut in [*sorted(set(cuts)), len(raw)]:
        events += parser.feed(raw[start:cut])
        start = cut
    return events


# Data lines may hold any text but line breaks (those split data into several lines).
line_text = st.text(
    alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=30
)
event_strategy = st.tuples(
    st.one_of(st.none(), st.sampled_from(["response.output_text.delta", "error", "x.unknown"])),
    st.lists(line_text, min_size=1, max_size=3),
    st.booleans(),  # a comment line before the event
)


def serialize(events, newline: str) -> tuple[bytes, list[ServerSentEvent]]:
    out, expected = [], []
    for name, data_lines, comment in events:
        if comment:
            out.append(": keep-alive" + newline)
        if name is not None:
            out.append(f"event: {name}{newline}")
        for line in data_lines:
            # "data:x" and "data: x" both mean x; a value starting with a space needs the space.
            out.append(f"data: {line}{newline}")
        out.append(newline)
        expected.append(ServerSentEvent(name or "message", "\n".join(data_lines), None))
    return "".join(out).encode("utf-8"), expected


@settings(max_examples=300, deadline=None)
@given(
    events=st.lists(event_strategy, min_size=1, max_size=6),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    data=st.data(),
)
def test_any_chunking_gives_the_same_events(events, newline, data):
    raw, expected = serialize(events, newline)
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(raw)), max_size=12))
    assert parse_in_chunks(raw, cuts) == expected


@settings(max_examples=100, deadline=None)
@given(text=st.text(min_size=1, max_size=40), data=st.data())
def test_split_inside_a_utf8_character(text, data):
    payload = json.dumps({"type": "response.output_text.delta", "delta": text + "é€😀"})
    raw = f"event: response.output_text.delta\ndata: {payload}\n\n".encode()
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(raw)), max_size=len(raw)))
    (event,) = parse_in_chunks(raw, cuts)
    assert json.loads(event.data)["delta"] == text + "é€😀"


def test_rules_for_fields_and_endings():
    raw = (
        b": comment\n"
        b"data:no-space\n\n"
        b"event: custom\nid: 7\ndata: first\ndata: second\nretry: 10\nunknown: x\n\n"
        b"data: [DONE]\n\n"
        b"data: unterminated"
    )
    events = parse_in_chunks(raw, [])
    assert events == [
        ServerSentEvent("message", "no-space", None),
        ServerSentEvent("custom", "first\nsecond", "7"),
        ServerSentEvent("message", "[DONE]", "7"),
    ]
    assert decode_event(events[2]) is None  # [DONE] is not an event


def test_event_without_type_takes_the_sse_name():
    (event,) = parse_in_chunks(b'event: response.created\ndata: {"sequence_number": 0}\n\n', [])
    assert decode_event(event) == {"sequence_number": 0, "type": "response.created"}


def expected_from_terminal(path) -> dict:
    """What the final event of a recording says, read without our accumulator."""
    lines = [json.loads(d) for d in _data_lines(path)]
    final = lines[-1]["response"]
    texts = [
        part["text"]
        for item in final["output"]
        if item["type"] == "message"
        for part in item["content"]
        if part["type"] == "output_text"
    ]
    calls = [
        (i["name"], i["arguments"], i["call_id"])
        for i in final["output"]
        if i["type"] == "function_call"
    ]
    error_events = [e for e in lines if e["type"] == "error"]
    return {
        "status": final["status"],
        "text": "".join(texts),
        "calls": calls,
        "usage": final["usage"],
        "error": final["error"],
        "has_error_event": bool(error_events),
    }


def _data_lines(path):
    raw = fixture_stream_bytes(path).decode()
    return [line[6:] for line in raw.splitlines() if line.startswith("data: ")]


def test_every_recorded_stream_parses_to_what_its_final_event_holds():
    checked = 0
    for path in fixture_files():
        if path.suffix not in (".sse", ".jsonl"):
            continue
        want = expected_from_terminal(path)
        raw = fixture_stream_bytes(path)
        for step in (1, 7, 4096):  # byte by byte, small chunks, one piece
            acc = Accumulator()
            for sse in parse_in_chunks(raw, list(range(step, len(raw), step))):
                event = decode_event(sse)
                if event is not None:
                    acc.feed(event)
            result = acc.finish(cut=True)
            assert result.status == want["status"], path.name
            assert result.text == want["text"], path.name
            assert [
                (c["name"], c["arguments"], c["call_id"]) for c in result.function_calls
            ] == want["calls"]
            assert result.usage == want["usage"], path.name
            assert result.error == want["error"], path.name
            assert (acc.error_message is not None) == want["has_error_event"], path.name
            assert acc.sequence_gaps == 0
        checked += 1
    assert checked == 11
