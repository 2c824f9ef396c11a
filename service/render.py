"""Server-side HTML for the document views. Every piece of document text goes through html.escape."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from index.records import Document, DocumentInfo, Passage, citation_label


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · protection-qa</title>"
        '<link rel="stylesheet" href="/static/style.css">'
        '<script src="/static/document.js" defer></script>'
        "</head><body>"
        '<a class="skip" href="#main">Skip to the text</a>'
        '<header class="site" role="banner"><a href="/" class="brand">protection-qa</a>'
        '<nav aria-label="Site"><a href="/">Search</a> <a href="/documents">Documents</a></nav></header>'
        f'<main id="main" tabindex="-1">{body}</main>'
        "</body></html>"
    )


def _text_with_calls(passage: Passage) -> str:
    """The passage text, escaped, with footnote calls as superscript links to the footnotes."""
    out: list[str] = []
    position = 0
    for call in sorted(passage.footnote_calls, key=lambda c: c.offset):
        out.append(escape(passage.text[position : call.offset]))
        number = escape(call.number)
        out.append(
            f'<sup class="call"><a href="#fn-{number}" id="call-{number}" '
            f'aria-label="footnote {number}">{number}</a></sup>'
        )
        position = call.offset
    out.append(escape(passage.text[position:]))
    return "".join(out)


def _meta_line(info: DocumentInfo) -> str:
    parts = [info.body, info.session, info.symbol, info.date or (str(info.year) if info.year else None), info.status]
    return " · ".join(escape(p) for p in parts if p)


def _passage_html(passage: Passage, title: str) -> str:
    anchor = escape(passage.anchor)
    cite = escape(citation_label(passage, title))
    number = escape(passage.paragraph) if passage.paragraph and passage.kind != "footnote" else ""
    page = f' data-page="{passage.page}"' if passage.page is not None else ""
    if passage.kind == "heading":
        return f'<h2 class="heading" id="{anchor}"{page}>{escape(passage.text)}</h2>'
    if passage.kind == "footnote":
        back = (
            f' <a class="back" href="#{escape(passage.called_from)}" aria-label="back to the text">↩</a>'
            if passage.called_from
            else ""
        )
        return (
            f'<p class="passage footnote" id="{anchor}"{page} data-cite="{cite}">'
            f'<span class="num">{escape(passage.paragraph or "")}</span>{_text_with_calls(passage)}{back}</p>'
        )
    tag = "li" if passage.kind == "list-item" else "p"
    return (
        f'<{tag} class="passage {escape(passage.kind)}" id="{anchor}"{page} data-cite="{cite}">'
        f'<span class="num" aria-hidden="true">{number}</span>{_text_with_calls(passage)}</{tag}>'
    )


def document_page(document: Document) -> str:
    """The whole document: headings, passages with numbers in the margin, footnotes at the end."""
    info = document.info
    body: list[str] = [f'<article class="document"><h1>{escape(info.title)}</h1>']
    meta = _meta_line(info)
    if meta:
        body.append(f'<p class="doc-meta">{meta}</p>')
    if info.source_url:
        body.append(f'<p class="doc-meta">Source: <span class="source-url">{escape(info.source_url)}</span></p>')
    in_list = False
    footnotes = [p for p in document.passages if p.kind == "footnote"]
    for passage in document.passages:
        if passage.kind == "footnote" or (passage.kind == "heading" and passage.anchor.startswith(("cover-", "title"))):
            continue
        if passage.kind == "list-item" and not in_list:
            body.append('<ul class="items">')
            in_list = True
        elif passage.kind != "list-item" and in_list:
            body.append("</ul>")
            in_list = False
        body.append(_passage_html(passage, info.title))
    if in_list:
        body.append("</ul>")
    if footnotes:
        body.append(
            '<section class="footnotes" aria-labelledby="footnotes-title"><h2 id="footnotes-title">Footnotes</h2>'
        )
        body.extend(_passage_html(p, info.title) for p in footnotes)
        body.append("</section>")
    body.append("</article>")
    return _page(info.title, "".join(body))


def documents_page(documents: Iterable[DocumentInfo], counts: dict[str, int]) -> str:
    rows = []
    for info in documents:
        meta = _meta_line(info)
        rows.append(
            f'<li><a href="/documents/{escape(info.id)}">{escape(info.title)}</a>'
            f'<span class="doc-meta"> {meta + " · " if meta else ""}{counts.get(info.id, 0)} passages</span></li>'
        )
    body = '<h1>Documents</h1><ul class="doclist">' + "".join(rows) + "</ul>"
    return _page("Documents", body)
