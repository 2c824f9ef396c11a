"""Inline Markdown clean-up that keeps track of footnote calls.

The text a reader sees and the model embeds has no markup: "<sup>6</sup>" becomes a recorded
footnote call at an offset, "[text](url)" becomes "text", emphasis markers and backslash escapes go.
Any other angle-bracket text is kept verbatim: document text is untrusted and shown as text.
"""

from __future__ import annotations

import re
import unicodedata

from index.records import FootnoteCall

_EMPHASIS = re.compile(r"(?<!\\)(\*{1,3}|_{2,3})(?=\S)(.+?)(?<=[^\s\\])\1", re.DOTALL)
_TOKENS = re.compile(
    r"<sup>\s*(?P<sup>[0-9A-Za-z*†‡]+)\s*</sup>"
    r"|!?\[(?P<link>[^\]]*)\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)"
    r"|\\(?P<esc>[\\`*_{}\[\]()#+\-.!|<>])"
)
_SPACE = re.compile(r"\s+")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>])")


def normalise(text: str) -> str:
    """Unicode NFKC (ligatures "ﬁ" -> "fi"), non-breaking spaces to spaces, runs of space to one."""
    text = unicodedata.normalize("NFKC", text).replace("\u00ad", "")
    return _SPACE.sub(" ", text).strip()


def title_key(text: str) -> str:
    """A heading or title reduced to its letters and digits, to tell whether a heading is the document's title."""
    return re.sub(r"[^a-z0-9]+", "", normalise(text).lower().replace("’", "'"))


def strip_emphasis(text: str) -> str:
    previous = None
    while previous != text:
        previous, text = text, _EMPHASIS.sub(r"\2", text)
    return text


def clean_inline(raw: str) -> tuple[str, tuple[FootnoteCall, ...]]:
    """Return the reader's text of a Markdown fragment and the footnote calls found in it."""
    text = normalise(strip_emphasis(raw))
    out: list[str] = []
    calls: list[FootnoteCall] = []
    length = 0
    position = 0
    for match in _TOKENS.finditer(text):
        piece = text[position : match.start()]
        out.append(piece)
        length += len(piece)
        position = match.end()
        if match.group("sup") is not None:
            calls.append(FootnoteCall(length, match.group("sup")))
            continue
        link = match.group("link")
        replacement = _ESCAPE.sub(r"\1", link) if link is not None else match.group("esc")
        out.append(replacement)
        length += len(replacement)
    out.append(text[position:])
    cleaned = "".join(out)
    stripped = cleaned.rstrip()
    calls = [FootnoteCall(min(c.offset, len(stripped)), c.number) for c in calls]
    return stripped, tuple(calls)


def join_parts(
    first: tuple[str, tuple[FootnoteCall, ...]], second: tuple[str, tuple[FootnoteCall, ...]]
) -> tuple[str, tuple[FootnoteCall, ...]]:
    """Join two cleaned fragments with one space, shifting the second one's footnote calls."""
    text_a, calls_a = first
    text_b, calls_b = second
    if not text_a:
        return second
    if not text_b:
        return first
    shift = len(text_a) + 1
    shifted = tuple(FootnoteCall(c.offset + shift, c.number) for c in calls_b)
    return f"{text_a} {text_b}", calls_a + shifted


def unique(base: str, taken: set[str]) -> str:
    """`base`, or `base-2`, `base-3`... the first not in `taken`; it is added to `taken`."""
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    taken.add(candidate)
    return candidate


def slug(text: str) -> str:
    """A lowercase ASCII anchor: "Recommendations for Member States" -> "recommendations-for-member-states"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or "section"
