"""HTML -> passages: headings (h1-h6), paragraphs (p) and list items (li), as in the UDHR's page.

Items of an ordered list are numbered 1., 2., ... as a browser shows them, so "Article 13" with
an <ol> of two items gives "Article 13(1)" and "Article 13(2)". The page's <title> or first <h1>
is the document's title. Scripts, styles and navigation are skipped. Parsed with the standard
library's tolerant HTMLParser: malformed markup still yields its text.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from html.parser import HTMLParser

from index.records import Passage

from .articles import Numbering
from .blocks import Block
from .headings import document_style
from .inline import normalise
from .language import detect, majority

_SKIP = frozenset({"script", "style", "nav", "template", "noscript", "svg"})
_BLOCKS = frozenset({"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "dd", "dt", "td", "th", "pre"})


@dataclass
class _List:
    ordered: bool
    count: int = 0


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.title: str | None = None
        self.language: str | None = None
        self._text: list[str] = []
        self._tag: str | None = None
        self._skip = 0
        self._lists: list[_List] = []
        self._marker = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
        elif tag == "html":
            self.language = dict(attrs).get("lang")
        elif tag == "title":
            self._in_title = True
        elif tag in ("ol", "ul"):
            self._flush()
            self._lists.append(_List(tag == "ol"))
        elif tag in _BLOCKS:
            self._flush()
            self._tag = tag
            if tag == "li" and self._lists:
                current = self._lists[-1]
                current.count += 1
                self._marker = f"{current.count}. " if current.ordered else ""
        elif tag == "br":
            self._text.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False
        elif tag in ("ol", "ul"):
            self._flush()
            if self._lists:
                self._lists.pop()
        elif tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.title = normalise(f"{self.title or ''} {data}") or None
            return
        self._text.append(data)

    def _flush(self) -> None:
        text = normalise("".join(self._text))
        self._text = []
        tag = self._tag
        if not text:
            return  # an <li> whose text is in a <p>: its number waits for that text
        marker, self._marker = self._marker, ""
        if tag is not None and tag[0] == "h" and tag[1:].isdigit():
            self.blocks.append(Block("heading", text, level=int(tag[1:])))
        else:
            self.blocks.append(Block("text", marker + text, language=detect(text)))

    def close(self) -> None:
        super().close()
        self._flush()


def parse_html(text: str, document_id: str, title: str | None = None) -> tuple[list[Passage], dict[str, str]]:
    """HTML text -> passages (headings included) and what the page says about itself (title, language)."""
    reader = _Reader()
    reader.feed(text)
    reader.close()
    blocks = reader.blocks
    heading = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), None)
    if heading and blocks and blocks[0].text == heading:
        blocks = blocks[1:]  # the page's h1 is its title, not a section
    name = title or heading or reader.title
    passages = Numbering(document_id, document_style(blocks, name)).feed(blocks)
    language = (reader.language or "").split("-")[0].lower() or majority(p.language for p in passages)
    passages = [p if p.language or p.kind == "heading" else replace(p, language=language or None) for p in passages]
    metadata = {k: v for k, v in (("title", name), ("language", language)) if v}
    return passages, metadata
