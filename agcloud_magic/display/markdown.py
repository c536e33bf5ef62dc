"""Safe Markdown for untrusted model text, and splitting of streamed Markdown into blocks.

Model text is untrusted, and a notebook front end inserts the ``text/html`` of a cell it just ran
without sanitising it.  So the HTML is made safe here, by construction:

* markdown-it-py parses CommonMark (plus tables and strikethrough) with raw HTML switched off, so
  any tag in the text comes out as escaped text, never as markup;
* a link survives only if its URL is http(s), mailto, a ``#fragment`` or relative; it opens in a
  new tab with ``rel="noopener noreferrer nofollow"``; anything else stays literal text;
* images are never loaded (a remote image URL can carry data out in its query string): an
  http(s) image becomes a link labelled ``🖼 alt``, any other image just its alt text;
* a code block keeps a ``language-xxx`` class, limited to a harmless alphabet.

:class:`BlockSplitter` cuts streamed Markdown into finished top-level blocks (a blank line outside
a fenced code block ends one) and an open tail, in time proportional to the new text, so a
renderer can send each finished block once and re-render only the tail.
"""

from __future__ import annotations

import functools
import html
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

__all__ = [
    "BlockSplitter",
    "escape",
    "extract_code",
    "first_fence",
    "safe_url",
    "split_blocks",
    "to_safe_html",
]

LINK_REL = "noopener noreferrer nofollow"
_ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
# Browsers drop ASCII whitespace and C0 controls from URLs before parsing the scheme, so
# "java\tscript:" is still javascript: to them.  Remove them before looking for a scheme.
_URL_JUNK = re.compile(r"[\x00-\x20\x7f]+")
_LANG_OK = re.compile(r"[A-Za-z0-9_+#.\-]{1,40}")
# A fence opener or closer: 3+ backticks or tildes.  Any indentation is accepted (not only the
# CommonMark 0-3 spaces at top level) because fences nested in list items ("10. ```py") are
# indented further; treating a rare non-fence as a fence only delays a split, never breaks one.
_FENCE = re.compile(r"[ \t]*(`{3,}|~{3,})(.*?)\r?\n?\Z", re.DOTALL)


def safe_url(url: str) -> bool:
    """Return True if ``url`` may be a link target: http(s), mailto, ``#fragment`` or relative.

    Used both as markdown-it's ``validateLink`` (on the normalised URL) and when rendering, so a
    URL that is refused never becomes an ``href``.
    """
    bare = _URL_JUNK.sub("", url)
    colon = bare.find(":")
    if colon < 0:
        return True
    # A colon after the first "/", "?" or "#" is part of a relative path, query or fragment.
    for delim in "/?#":
        pos = bare.find(delim)
        if 0 <= pos < colon:
            return True
    return bare[:colon].lower() in _ALLOWED_SCHEMES


def _image_url_ok(url: str) -> bool:
    """Images become links only for absolute http(s) URLs; relative ones would point at the
    Jupyter server, which is not what the model meant."""
    bare = _URL_JUNK.sub("", url).lower()
    return bare.startswith(("http://", "https://"))


@functools.lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    """Build the one parser lazily (construction costs about a millisecond)."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    # Refuse unsafe URLs at parse time: the link syntax then stays literal, visible text.
    md.validateLink = safe_url  # type: ignore[method-assign]
    return md


def _plain(tokens: list[Token] | None) -> str:
    """Plain text of inline tokens (what an image's alt text says)."""
    out: list[str] = []
    for tok in tokens or ():
        if tok.type in ("text", "code_inline"):
            out.append(tok.content)
        elif tok.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif tok.children:
            out.append(_plain(tok.children))
    return "".join(out)


def _secure_inline(children: list[Token]) -> list[Token]:
    """Second line of defence over parsed inline tokens: re-check every link, add ``rel`` and
    ``target``, and turn images into links or text so nothing is fetched."""
    from markdown_it.token import Token

    out: list[Token] = []
    kept: list[bool] = []  # one entry per open link: was its link_open kept?
    for tok in children:
        if tok.type == "link_open":
            ok = safe_url(str(tok.attrGet("href") or ""))
            kept.append(ok)
            if ok:
                tok.attrSet("rel", LINK_REL)
                if not str(tok.attrGet("href")).startswith("#"):  # in-page jumps stay in-page
                    tok.attrSet("target", "_blank")
                out.append(tok)
        elif tok.type == "link_close":
            if kept.pop() if kept else False:
                out.append(tok)
        elif tok.type == "image":
            src = str(tok.attrGet("src") or "")
            label = "🖼 " + (_plain(tok.children) or tok.content or "image")
            text = Token("text", "", 0, content=label)
            # Inside a link the image's label just joins the link text (no nested <a>).
            if _image_url_ok(src) and safe_url(src) and not any(kept):
                attrs = {"href": src, "rel": LINK_REL, "target": "_blank", "title": src}
                out += [Token("link_open", "a", 1, attrs=attrs), text, Token("link_close", "a", -1)]
            else:
                out.append(text)
        else:
            out.append(tok)
    return out


def to_safe_html(markdown_text: str) -> str:
    """Render untrusted Markdown to HTML that is inert whatever the input.

    The output uses only ordinary Markdown tags (``p``, ``em``, ``strong``, ``s``, ``code``,
    ``pre``, ``a``, lists, headings, ``blockquote``, ``hr``, ``br`` and tables), and its only
    attributes are ``href``/``rel``/``target``/``title`` on links, ``class="language-…"`` on
    code, ``start`` on ordered lists and ``style="text-align:…"`` on table cells.
    """
    md = _parser()
    env: dict = {}
    tokens = md.parse(markdown_text, env)
    for tok in tokens:
        if tok.type == "inline" and tok.children:
            tok.children = _secure_inline(tok.children)
        elif tok.type == "fence":
            lang = tok.info.split(maxsplit=1)[0] if tok.info.strip() else ""
            tok.info = lang if _LANG_OK.fullmatch(lang) else ""
    return md.renderer.render(tokens, md.options, env)


def escape(text: str) -> str:
    """HTML-escape text, quotes included (for text and attribute values alike)."""
    return html.escape(text, quote=True)


class BlockSplitter:
    """Cut streamed Markdown into finished top-level blocks and an open tail.

    A block ends with the first blank line that follows some content, outside a fenced code
    block (``` or ~~~ of any length; a fence closes on a line of the same character at least as
    long).  Blank lines before content belong to the next block, so ``"".join(blocks) + tail``
    is always the text fed so far.  Only complete lines are classified, and each character is
    looked at a bounded number of times, so :meth:`feed` costs O(len(delta)) amortised.

    >>> s = BlockSplitter()
    >>> s.feed("# Title\\n\\nSome te"), s.tail
    (['# Title\\n\\n'], 'Some te')
    """

    def __init__(self) -> None:
        self._lines: list[str] = []  # complete lines of the open block
        self._lines_len = 0  # total length of self._lines
        self._partial: list[str] = []  # pieces of the unfinished last line (joined once, at "\n")
        self._partial_len = 0
        self._content = False  # the open block has a non-blank line
        self._fence: str | None = None  # the opening marker while inside a fenced block
        self._fence_line = ""
        self._fence_start = 0  # offset in the open block just after the opening line

    @property
    def tail(self) -> str:
        """The open block: everything fed since the last finished block."""
        return "".join(self._lines) + "".join(self._partial)

    @property
    def tail_len(self) -> int:
        """``len(self.tail)`` in O(1)."""
        return self._lines_len + self._partial_len

    @property
    def complete_len(self) -> int:
        """Length of the tail's complete lines (the tail up to and including its last newline)."""
        return self._lines_len

    @property
    def fence(self) -> tuple[str, int] | None:
        """Inside a fenced block: its opening line and the tail offset where its content starts."""
        if self._fence is None:
            return None
        return self._fence_line, self._fence_start

    def feed(self, delta: str) -> list[str]:
        """Add streamed text; return the blocks that this text finished (often none)."""
        done: list[str] = []
        start = 0
        while True:
            nl = delta.find("\n", start)
            if nl < 0:
                if start < len(delta):
                    self._partial.append(delta[start:])
                    self._partial_len += len(delta) - start
                break
            piece = delta[start : nl + 1]
            if self._partial:
                self._partial.append(piece)
                piece = "".join(self._partial)
                self._partial.clear()
                self._partial_len = 0
            self._lines.append(piece)
            self._lines_len += len(piece)
            if self._ends_block(piece):
                done.append("".join(self._lines))
                self._lines.clear()
                self._lines_len = 0
                self._content = False
            start = nl + 1
        return done

    def _ends_block(self, line: str) -> bool:
        """Classify one complete line (already appended to the open block)."""
        if self._fence is not None:
            m = _FENCE.fullmatch(line)
            if (
                m
                and not m.group(2).strip()
                and m.group(1)[0] == self._fence[0]
                and len(m.group(1)) >= len(self._fence)
            ):
                self._fence = None
            return False
        if not line.strip():
            return self._content
        m = _FENCE.fullmatch(line)
        # A backtick fence's info string may not contain a backtick (that is inline code).
        if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
            self._fence = m.group(1)
            self._fence_line = line.rstrip("\r\n")
            self._fence_start = self._lines_len
        self._content = True
        return False


def split_blocks(text: str) -> tuple[list[str], str]:
    """Split Markdown into finished top-level blocks and the open tail (:class:`BlockSplitter`)."""
    splitter = BlockSplitter()
    blocks = splitter.feed(text)
    return blocks, splitter.tail


def first_fence(text: str) -> tuple[str, str] | None:
    """The first fenced code block of ``text`` as ``(language, content)``, or None.

    An unclosed fence runs to the end of the text (as CommonMark says), so a cut-short answer
    still yields its code.
    """
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        m = _FENCE.fullmatch(line)
        if not m or (m.group(1)[0] == "`" and "`" in m.group(2)):
            continue
        marker, indent = m.group(1), len(line) - len(line.lstrip(" "))
        lang = m.group(2).split(maxsplit=1)[0] if m.group(2).strip() else ""
        body: list[str] = []
        for inner in lines[i + 1 :]:
            c = _FENCE.fullmatch(inner)
            if (
                c
                and not c.group(2).strip()
                and c.group(1)[0] == marker[0]
                and len(c.group(1)) >= len(marker)
            ):
                break
            # Content lines lose up to the opener's indentation, as in CommonMark.
            strip = min(indent, len(inner) - len(inner.lstrip(" ")))
            body.append(inner[strip:])
        return lang, "".join(body)
    return None


def extract_code(text: str) -> str | None:
    """Content of the first fenced code block of ``text`` (for ``--format code``), or None."""
    found = first_fence(text)
    return None if found is None else found[1]
