"""TextBuffer: the same text as joining the pieces, whatever the pieces and the cuts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agcloud_magic.textbuffer import TextBuffer


@given(st.lists(st.text(max_size=5), max_size=3000), st.integers(0, 2000))
def test_a_buffer_holds_exactly_what_was_appended(pieces, cut):
    buffer = TextBuffer()
    for piece in pieces:
        buffer.append(piece)
    whole = "".join(pieces)
    assert len(buffer) == len(whole)
    assert buffer.getvalue() == whole
    assert buffer.getvalue() == whole  # asking again changes nothing
    buffer.truncate(cut)
    buffer.append("tail")
    assert buffer.getvalue() == whole[:cut] + "tail"
    assert len(buffer) == len(whole[:cut]) + 4


def test_millions_of_pieces_are_kept_in_a_few_strings():
    buffer = TextBuffer()
    for _ in range(100_000):
        buffer.append("ab")
    # What a garbage collection walks and a join iterates: ~1,100 strings, not 100,000.
    assert len(buffer._joined) + len(buffer._open) <= 100_000 // TextBuffer.CHUNK + TextBuffer.CHUNK
    assert buffer.getvalue() == "ab" * 100_000
