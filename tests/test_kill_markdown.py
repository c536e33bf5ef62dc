"""Mutation-testing gaps in the safe-Markdown renderer: URL checks, image labels and the first
fenced block.  Pure functions, tested directly."""

from __future__ import annotations

import pytest

from agcloud_magic.display.markdown import (
    BlockSplitter,
    _image_url_ok,
    escape,
    extract_code,
    first_fence,
    safe_url,
    to_safe_html,
)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        (" https://example.com", True),  # leading junk is dropped, as browsers do
        ("\nmailto:a@example.com", True),
        ("java\tscript:alert(1)", False),
        ("javascript:x/y:z", False),  # the scheme ends at the first colon, not the last
        ("javaXscript:alert(1)", False),
        ("docs/a:b/c", True),  # a colon after the first "/" is part of a relative path
        ("?q=a:b", True),
        ("#frag:x", True),
        (":alert(1)", False),  # an empty scheme is refused
        ("relative/path", True),
    ],
)
def test_safe_url(url, ok):
    assert safe_url(url) is ok


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("http://example.com/a.png", True),
        ("HTTPS://example.com/a.png", True),
        (" \thttp://example.com/a.png", True),
        ("/files/a.png", False),
        ("data:image/png;base64,AAAA", False),
    ],
)
def test_image_url_ok(url, ok):
    assert _image_url_ok(url) is ok


def test_a_plain_http_image_becomes_a_link():
    html = to_safe_html("![cat](http://example.com/cat.png)")
    assert '<a href="http://example.com/cat.png"' in html and ">🖼 cat</a>" in html
    assert "<img" not in html


@pytest.mark.parametrize(
    ("markdown", "label"),
    [
        ("![a `b` c\nd](https://example.com/i.png)", "🖼 a b c d"),  # code and a soft break
        ("![a  \nb](https://example.com/i.png)", "🖼 a b"),  # a hard break
        ("![outer ![inner *em*](x.png)](https://y.com/i.png)", "🖼 outer inner em"),
        ("![](https://example.com/i.png)", "🖼 image"),
    ],
)
def test_image_labels_are_the_plain_alt_text(markdown, label):
    assert f">{label}</a>" in to_safe_html(markdown)


def test_first_fence_language_is_the_first_word_of_the_info():
    assert first_fence("```python extra words\nx = 1\n```\n") == ("python", "x = 1\n")
    assert first_fence("```\nplain\n```\n") == ("", "plain\n")


def test_a_backtick_in_the_info_string_disqualifies_only_backtick_fences():
    text = "``` not`a fence\n~~~py`x\ncode\n~~~\n"
    assert first_fence(text) == ("py`x", "code\n")
    assert first_fence("```a`b\nno\n") is None


def test_first_fence_strips_at_most_the_openers_indent():
    assert first_fence("  ```py\n code\n    more\n  ```\n") == ("py", "code\n  more\n")
    assert extract_code("text\n~~~~\nA\n~~~\nB\n~~~~\nafter") == "A\n~~~\nB\n"


@pytest.mark.parametrize("opener", ["```TeX", "```py  ", "~~~~ a b\t"])
def test_the_open_fence_line_keeps_everything_but_its_line_end(opener):
    splitter = BlockSplitter()
    assert splitter.feed("intro\n\n") == ["intro\n\n"]
    splitter.feed(opener + "\r\nx = 1\n")
    assert splitter.fence == (opener, len(opener) + 2)


def test_escape_covers_quotes_for_attribute_values():
    assert escape("<a href=\"x\" title='y'>&</a>") == (
        "&lt;a href=&quot;x&quot; title=&#x27;y&#x27;&gt;&amp;&lt;/a&gt;"
    )


def test_an_image_renders_as_exactly_this_link_and_keeps_the_text_around_it():
    assert to_safe_html("see ![cat](https://e.com/c.png) now") == (
        '<p>see <a href="https://e.com/c.png" rel="noopener noreferrer nofollow" '
        'target="_blank" title="https://e.com/c.png">🖼 cat</a> now</p>\n'
    )


def test_an_image_after_a_closed_link_still_becomes_a_link():
    html = to_safe_html("[a](https://x.com) and ![img](https://y.com/i.png)")
    assert html.count("<a ") == 2 and html.count("</a>") == 2
    assert '<a href="https://y.com/i.png"' in html


def test_code_block_language_class():
    assert 'class="language-python"' in to_safe_html("```python extra words\ncode\n```\n")
    assert to_safe_html("```\ncode\n```\n") == "<pre><code>code\n</code></pre>\n"
