"""What a passage's document says about it: the name, section path and label, matched beside the body.

A passage's text stays verbatim (what a reader sees and what is highlighted); what the ranking sees is
richer. The model embeds each window as "name. heading. label." followed by the window's text,
so "What does the GCM say about detention?" meets Objective 13's heading and the GCM's name, and the
lexical index matches a passage on its heading and label as well as its body. Documents are named
by their short title (else their title) where the index holds more than one document: in an index of one
document the name is the same before every window and only blurs what tells its passages apart. A plain
label ("para. 7") tells the model nothing and is left to the lexical side. CONTEXT names the scheme:
change it whenever these texts change, so older generations are embedded again.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .records import DocumentInfo, Passage

CONTEXT = "name-heading-label/7"  # 7: a one-sentence passage's sentence is embedded alone too (index/build.py)
MAX_CONTEXT_TOKENS = 64  # and never more than a quarter of the model's window


def document_name(info: DocumentInfo | None) -> str | None:
    """The name the model reads before each window: the short title ("GCM", "ECHR"), else the title."""
    return (info.short_title or info.title) if info is not None else None


_PLAIN_LABEL = re.compile(r"^(para\.|paragraph|footnote|p\.)\s*\d", re.IGNORECASE)


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
) -> str:
    """The context, within a quarter of the model's `max_tokens` (and MAX_CONTEXT_TOKENS), outer sections
    dropped first."""
    limit = min(MAX_CONTEXT_TOKENS, max_tokens // 4)
    parts = heading_parts(passage, info, labels=False)
    shown = info if named else None
    text = context_text(passage, shown, parts)
    while len(token_spans(text)) > limit and len(parts) > 1:
        parts = parts[1:]
        text = context_text(passage, shown, parts)
    spans = token_spans(text)
    if len(spans) > limit:
        text = text[: spans[limit - 1][1]] if limit > 0 else ""
    return text


def embedded_text(context: str, body: str) -> str:
    """What the model embeds for a window of a passage."""
    return f"{context}\n{body}" if context else body


def lexical_text(passage: Passage, info: DocumentInfo | None = None) -> str:
    """What BM25 matches: the section path and label, then the body (the document's name is matched apart)."""
    parts = heading_parts(passage, info)
    return ". ".join(parts) + ".\n" + passage.text if parts else passage.text
