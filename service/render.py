"""Server-side HTML for the document views. Every piece of document text goes through html.escape.

The pages carry no inline script or style (the Content-Security-Policy forbids both): behaviour is
in /static/document.js, looks in /static/style.css.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from html import escape

from index.records import Document, DocumentInfo, Passage, citation_label
from ingest.inline import unique


def page(
    title: str, body: str, script: str = "document.js", current: str | None = None, refresh: int | None = None
) -> str:
    """A whole HTML page around `body` (already escaped HTML); `title` is plain text. `refresh`: seconds after which
    the browser loads the page again (a meta refresh: the Content-Security-Policy allows it, unlike a script)."""
    search = ' aria-current="page"' if current == "search" else ""
    documents = ' aria-current="page"' if current == "documents" else ""
    reload = f'<meta http-equiv="refresh" content="{int(refresh)}">' if refresh is not None else ""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{reload}<title>{escape(title)} · protection-qa</title>"
        '<link rel="icon" href="/favicon.svg" type="image/svg+xml">'
        '<link rel="stylesheet" href="/static/style.css">'
        f'<script src="/static/{escape(script)}" defer></script>'
        '</head><body><a class="skip" href="#main">Skip to the content</a>'
        '<header class="site"><a href="/" class="brand">protection-qa</a>'
        f'<nav aria-label="Site"><a href="/"{search}>Search</a> <a href="/documents"{documents}>Documents</a></nav>'
        f'</header><main id="main" tabindex="-1">{body}</main></body></html>'
    )


@dataclass
class _Links:
    """Footnote anchors by number, passages by anchor, and call ids handed out so far (ids stay unique)."""

    footnotes: dict[str, str]
    passages: dict[str, Passage]
    calls: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, document: Document) -> _Links:
        footnotes: dict[str, str] = {}
        for p in document.passages:
            if p.kind == "footnote" and p.paragraph is not None:
                footnotes.setdefault(p.paragraph, p.anchor)
        return cls(footnotes, {p.anchor: p for p in document.passages})

    def call_id(self, number: str) -> str:
        return unique(f"call-{number}", self.calls)


def _call_html(number: str, links: _Links) -> str:
    target = links.footnotes.get(number)
    shown = escape(number)
    if target is None:  # a call to a footnote the parser did not find: show it, link nowhere
        return f'<sup class="call">{shown}</sup>'
    return (
        f'<sup class="call"><a href="#{escape(target)}" id="{escape(links.call_id(number))}" '
        f'aria-label="footnote {shown}">{shown}</a></sup>'
    )


def _text_with_calls(passage: Passage, links: _Links) -> str:
    """The passage text, escaped, with footnote calls as superscript links to the footnotes."""
    out: list[str] = []
    position = 0
    for call in sorted(passage.footnote_calls, key=lambda c: c.offset):
        out.append(escape(passage.text[position : call.offset]))
        out.append(_call_html(call.number, links))
        position = call.offset
    out.append(escape(passage.text[position:]))
    return "".join(out)


def _meta_line(info: DocumentInfo) -> str:
    parts = [info.body, info.session, info.symbol, info.date or (str(info.year) if info.year else None), info.status]
    return " · ".join(escape(p) for p in parts if p)


# The document page's names for DocumentInfo's fields; a field not named here is shown by its name ("Publisher").
LABELS = {
    "id": "Document id",
    "sha256": "Version (sha256)",
    "source": "File",
    "source_url": "Source",
    "short_title": "Short title",
    "aliases": "Also called",
    "set_aside": "Left out of the index",
}


def _info_rows(info: DocumentInfo, source: str) -> list[tuple[str, str]]:
    """(label, value) for every DocumentInfo field that has a value, in declared order (the title is the page's
    heading); `source` is the file as the reader may see it, each `extra` key is a row of its own."""
    rows: list[tuple[str, str]] = []
    for spec in fields(info):
        value = source if spec.name == "source" else getattr(info, spec.name)
        if spec.name == "title" or value is None or value in ("", (), {}):
            continue
        if isinstance(value, dict):
            rows.extend((field_label(key), str(text)) for key, text in value.items())
        elif isinstance(value, tuple):  # aliases; set_aside's (reason, passages) pairs
            shown = (_counted(item) if isinstance(item, tuple) else str(item) for item in value)
            rows.append((field_label(spec.name), "; ".join(shown)))
        else:
            rows.append((field_label(spec.name), str(value)))
    return rows


def _counted(pair: tuple[str, int]) -> str:
    reason, n = pair
    return f"{reason}: {n} passage{'' if n == 1 else 's'}"


def field_label(name: str) -> str:
    """What the document page calls a DocumentInfo field or an `extra` key."""
    return LABELS.get(name, name.replace("_", " ").capitalize())


def _info_html(info: DocumentInfo, source: str) -> str:
    rows = "".join(f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" for label, value in _info_rows(info, source))
    return f'<details class="doc-info"><summary>About this document</summary><dl>{rows}</dl></details>'


def _number(passage: Passage) -> str:
    """The paragraph number in the margin, a link to the passage itself (to copy or share)."""
    if not passage.paragraph:
        return '<span class="num" aria-hidden="true"></span>'
    anchor, number = escape(passage.anchor), escape(passage.paragraph)
    return f'<a class="num" href="#{anchor}" aria-label="{escape(passage.label)}">{number}</a>'


def _back_link(passage: Passage, links: _Links) -> str:
    caller = links.passages.get(passage.called_from or "")
    if caller is None:
        return ""
    return (
        f' <a class="back" href="#{escape(caller.anchor)}">↩<span class="sr"> back to {escape(caller.label)}</span></a>'
    )


def _passage_html(passage: Passage, title: str, links: _Links) -> str:
    anchor = escape(passage.anchor)
    if passage.kind == "heading":
        level = min(len(passage.section) + 1, 6) if passage.section else 2
        return f'<h{level} class="heading" id="{anchor}">{escape(passage.text)}</h{level}>'
    cite = escape(citation_label(passage, title))
    page_attr = f' data-page="{passage.page}"' if passage.page is not None else ""
    tag = "li" if passage.kind == "list-item" else "p"
    back = _back_link(passage, links) if passage.kind == "footnote" else ""
    return (
        f'<{tag} class="passage {escape(passage.kind)}" id="{anchor}"{page_attr} data-cite="{cite}">'
        f"{_number(passage)}{_text_with_calls(passage, links)}{back}</{tag}>"
    )


def _body_passages(document: Document) -> list[Passage]:
    """The passages shown in the body: no footnotes (they go at the end), no cover or title headings."""
    return [
        p
        for p in document.passages
        if p.kind != "footnote" and not (p.kind == "heading" and p.anchor.startswith(("cover-", "title")))
    ]


def _body_html(document: Document, links: _Links) -> list[str]:
    out: list[str] = []
    in_list = False
    page_now: int | None = None
    for passage in _body_passages(document):
        if passage.page is not None and page_now is not None and passage.page != page_now:
            if in_list:
                out.append("</ul>")
                in_list = False
            out.append(f'<p class="page-mark">Page {passage.page}</p>')
        page_now = passage.page if passage.page is not None else page_now
        if passage.kind == "list-item" and not in_list:
            out.append('<ul class="items">')
            in_list = True
        elif passage.kind != "list-item" and in_list:
            out.append("</ul>")
            in_list = False
        out.append(_passage_html(passage, document.info.title, links))
    if in_list:
        out.append("</ul>")
    return out


def document_page(document: Document, source: str) -> str:
    """The whole document: what is known about it, headings, passages with numbers in the margin, footnotes at
    the end. `source` is the file's path as the reader may see it (relative to its corpus folder)."""
    info = document.info
    links = _Links.of(document)
    body: list[str] = [
        f'<article class="document" aria-labelledby="doc-title"><h1 id="doc-title">{escape(info.title)}</h1>'
    ]
    meta = _meta_line(info)
    if meta:
        body.append(f'<p class="doc-meta">{meta}</p>')
    if info.source_url:
        body.append(f'<p class="doc-meta">Source: <span class="source-url">{escape(info.source_url)}</span></p>')
    body.append(_info_html(info, source))
    body.extend(_body_html(document, links))
    footnotes = [p for p in document.passages if p.kind == "footnote"]
    if footnotes:
        body.append('<section class="footnotes" aria-labelledby="footnotes-title">')
        body.append('<h2 id="footnotes-title">Footnotes</h2>')
        body.extend(_passage_html(p, info.title, links) for p in footnotes)
        body.append("</section>")
    body.append("</article>")
    return page(info.title, "".join(body))


def documents_page(documents: Iterable[DocumentInfo], counts: dict[str, int]) -> str:
    """The list of every indexed document, each a link to its document view."""
    rows = []
    for info in documents:
        meta = _meta_line(info)
        rows.append(
            f'<li><a href="/documents/{escape(info.id)}">{escape(info.title)}</a>'
            f'<span class="doc-meta">{meta + " · " if meta else ""}{counts.get(info.id, 0)} passages</span></li>'
        )
    listing = '<ul class="doclist">' + "".join(rows) + "</ul>" if rows else "<p>No documents are indexed yet.</p>"
    return page("Documents", "<h1>Documents</h1>" + listing, current="documents")


def missing_page(document_id: str) -> str:
    """The 404 page for a document id that is not in the index (the id is shown escaped)."""
    body = (
        '<h1>No such document</h1><p>There is no document <code class="wrap">'
        f'{escape(document_id)}</code> in the index. See <a href="/documents">the list of documents</a>.</p>'
    )
    return page("No such document", body, current="documents")


def sentence(text: str) -> str:
    """`text` ending with a full stop (the API's messages are clauses: "...; try again in a few seconds")."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."


def unavailable_page(heading: str, message: str, refresh: int) -> str:
    """The page a document view answers while the service loads or has no index: what is happening, as text, and
    that it reloads itself."""
    body = (
        f"<h1>{escape(heading)}</h1>"
        f'<p class="state warn" role="alert">The service is not ready yet: {escape(sentence(message))}</p>'
        f"<p>This page reloads itself every {refresh} seconds until the service is ready. "
        '<a href="/">The search page</a> retries by itself too.</p>'
    )
    return page(heading, body, current="documents", refresh=refresh)
