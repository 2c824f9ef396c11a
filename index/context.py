"""What a passage's document says about it: the name, section path and label, matched beside the body.

A passage's text stays verbatim (what a reader sees and what is highlighted); what the ranking sees is
richer. The model embeds each window as "name. heading. label." followed by the window's text,
so "What does the GCM say about detention?" meets Objective 13's heading and the GCM's name, and the
lexical index matches a passage on its heading and label as well as its body. Documents are named
by their short title (else their title) where the index holds more than one document: in an index of one
document the name is the same before every window and only blurs what tells its passages apart. A plain
label ("para. 7") tells the model nothing and is left to the lexical side. An item that a lead-in introduces
reads it after its label ("CEDAW. Article 5. Article 5(a). States Parties shall take all appropriate measures:"
before "To modify the social and cultural patterns ..."): alone, the item does not say who must do it. The item's
lead-in is its parent's text ("Article 5" for "Article 5(a)", the passage before a list's items) when that parent
is a lead-in (ingest/noise.py) or ends open (":", "—"); it is cut, not the headings, where the context would pass
its budget. The lexical side is left as it was: BM25 matches an item on its own words. CONTEXT names the scheme:
change it whenever these texts change, so older generations are embedded again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from .records import DocumentInfo, Passage, parent_label

# 8: an item reads its lead-in after its label; 7: a one-sentence passage's sentence is embedded alone too
CONTEXT = "name-heading-label/8"
MAX_CONTEXT_TOKENS = 64  # and never more than a quarter of the model's window


def document_name(info: DocumentInfo | None) -> str | None:
    """The name the model reads before each window: the short title ("GCM", "ECHR"), else the title."""
    return (info.short_title or info.title) if info is not None else None


_PLAIN_LABEL = re.compile(r"^(para\.|paragraph|footnote|p\.)\s*\d", re.IGNORECASE)
_OPEN = re.compile(r"[:—–][\"'”’)\]]*$")


def lead_ins(passages: Sequence[Passage]) -> dict[str, str]:
    """The lead-in each item of one document's `passages` reads after its label: passage id -> the parent's text."""
    return {item: parent.text for item, parent in lead_in_parents(passages).items()}


def lead_in_parents(passages: Sequence[Passage]) -> dict[str, Passage]:
    """The passage that leads into each item of `passages` (one document's, or several documents' one after the
    other, in order): passage id -> the parent, which the service shows above the item.

    The parent is the passage of the same section cited without the item's last letter or number ("Article 5"
    for "Article 5(a)", "Article 5(a)" for "Article 5(a)(i)"), or for a list item the passage before its list.
    """
    cited: dict[str, Passage] = {}
    out: dict[str, Passage] = {}
    before: Passage | None = None  # the last passage that is not a list item: what a list's items continue
    document = None
    for p in passages:
        if p.document_id != document:
            document, cited, before = p.document_id, {}, None
        if p.kind == "heading":
            before = None
            continue
        above = parent_label(p.label)
        parent = cited.get(above) if above is not None else None
        if parent is None and p.kind == "list-item":
            parent = before
        if parent is not None and parent.section == p.section and _introduces(parent):
            out[p.id] = parent
        if p.searchable or p.kind == "lead-in":  # not a table's column or a form's field cited as the article
            cited.setdefault(p.label, p)
        if p.kind != "list-item":
            before = p if p.searchable or p.kind == "lead-in" else None
    return out


def _introduces(parent: Passage) -> bool:
    return parent.kind == "lead-in" or _OPEN.search(parent.text.rstrip()) is not None


def heading_parts(passage: Passage, info: DocumentInfo | None = None, labels: bool = True) -> list[str]:
    """The innermost section heading and the label, without repeats ("Article 2: Right to life", "Article 2(1)"),
    nor the document's own name (a treaty's title heading over its preamble)."""
    names = {n.casefold() for n in info.names} if info is not None else set()
    # the innermost heading only: it is what the passage is about, and it reads the same in every format,
    # where the headings above it depend on whether the file marks outline levels (Word, Markdown) or not (PDF)
    inner = [part for part in passage.section if part and part.casefold() not in names][-1:]
    parts: list[str] = list(inner)
    label = passage.label
    if not labels and _PLAIN_LABEL.match(label or ""):
        return parts  # "para. 7" tells the model nothing; "Article 33(1)" or "Objective 13(b)" does
    if label and label.casefold() not in names and not any(label == p or p.startswith(label + ":") for p in parts):
        parts.append(label)
    return parts


def context_text(passage: Passage, info: DocumentInfo | None, parts: list[str] | None = None) -> str:
    """'GCM. Objective 13: Use migration detention only as a measure of last resort. Objective 13(b).'"""
    name = document_name(info)
    pieces = ([name] if name else []) + (heading_parts(passage, info, labels=False) if parts is None else parts)
    return ". ".join(p.rstrip(". ") for p in pieces if p.strip()) + ("." if pieces else "")


def fit_context(
    passage: Passage,
    info: DocumentInfo | None,
    token_spans: Callable[[str], list[tuple[int, int]]],
    max_tokens: int,
    named: bool = True,
    lead_in: str | None = None,
) -> str:
    """The context, within a quarter of the model's `max_tokens` (and MAX_CONTEXT_TOKENS), outer sections
    dropped first; the item's `lead_in` (see `lead_ins`) after them, cut at a word to what room is left."""
    limit = min(MAX_CONTEXT_TOKENS, max_tokens // 4)
    parts = heading_parts(passage, info, labels=False)
    shown = info if named else None
    text = context_text(passage, shown, parts)
    while len(token_spans(text)) > limit and len(parts) > 1:
        parts = parts[1:]
        text = context_text(passage, shown, parts)
    spans = token_spans(text)
    if len(spans) > limit:
        return text[: spans[limit - 1][1]] if limit > 0 else ""
    if not lead_in or len(spans) >= limit:
        return text
    fuller = f"{text} {lead_in.strip()}" if text else lead_in.strip()
    spans = token_spans(fuller)
    if len(spans) <= limit:
        return fuller
    cut = fuller[: spans[limit - 1][1]]
    if spans[limit][0] == spans[limit - 1][1]:  # the next token goes on the same word: end at the word before
        cut = cut[: max(cut.rfind(" "), len(text))]
    return cut.rstrip()


def embedded_text(context: str, body: str) -> str:
    """What the model embeds for a window of a passage."""
    return f"{context}\n{body}" if context else body


def lexical_text(passage: Passage, info: DocumentInfo | None = None) -> str:
    """What BM25 matches: the section path and label, then the body (the document's name is matched apart)."""
    parts = heading_parts(passage, info)
    return ". ".join(parts) + ".\n" + passage.text if parts else passage.text
