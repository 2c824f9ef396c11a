"""What a passage's document says about it: the name, section path and label, matched beside the body.

A passage's text stays verbatim (what a reader sees and what is highlighted); what the ranking sees is
richer. The model embeds each window as "name. section > path. label." followed by the window's text,
so "What does the GCM say about detention?" meets Objective 13's heading and the GCM's name, and the
lexical index matches a passage on its section path and label as well as its body. Documents are named
by their short title (or title). CONTEXT names the scheme: change it whenever these texts change, so
older generations are embedded again.
"""

from __future__ import annotations

from collections.abc import Callable

from .records import DocumentInfo, Passage

CONTEXT = "name-section-label/1"
MAX_CONTEXT_TOKENS = 64  # and never more than a quarter of the model's window


def document_name(info: DocumentInfo | None) -> str | None:
    if info is None:
        return None
    return info.short_title or info.title


def heading_parts(passage: Passage) -> list[str]:
    """The section path and the label, without repeats ("Article 2: Right to life", "Article 2(1)")."""
    parts: list[str] = []
    for part in passage.section:
        if part and part not in parts:
            parts.append(part)
    label = passage.label
    if label and not any(label == p or p.startswith(label + ":") for p in parts):
        parts.append(label)
    return parts


def context_text(passage: Passage, info: DocumentInfo | None, parts: list[str] | None = None) -> str:
    """'GCM. Objective 13: Use migration detention only as a measure of last resort. Objective 13(b).'"""
    name = document_name(info)
    pieces = ([name] if name else []) + (heading_parts(passage) if parts is None else parts)
    return ". ".join(p.rstrip(". ") for p in pieces if p.strip()) + ("." if pieces else "")


def fit_context(
    passage: Passage,
    info: DocumentInfo | None,
    token_spans: Callable[[str], list[tuple[int, int]]],
    max_tokens: int,
) -> str:
    """The context, within a quarter of the model's `max_tokens` (and MAX_CONTEXT_TOKENS), outer sections
    dropped first."""
    limit = min(MAX_CONTEXT_TOKENS, max_tokens // 4)
    parts = heading_parts(passage)
    text = context_text(passage, info, parts)
    while len(token_spans(text)) > limit and len(parts) > 1:
        parts = parts[1:]
        text = context_text(passage, info, parts)
    spans = token_spans(text)
    if len(spans) > limit:
        text = text[: spans[limit - 1][1]] if limit > 0 else ""
    return text


def embedded_text(context: str, body: str) -> str:
    """What the model embeds for a window of a passage."""
    return f"{context}\n{body}" if context else body


def lexical_text(passage: Passage) -> str:
    """What BM25 matches: the section path and label, then the body (the document's name is matched apart)."""
    parts = heading_parts(passage)
    return ". ".join(parts) + ".\n" + passage.text if parts else passage.text
