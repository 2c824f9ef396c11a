"""Inline Markdown clean-up that keeps track of footnote calls.

The text a reader sees and the model embeds has no markup, close to what CommonMark renders: "<sup>6</sup>"
becomes a recorded footnote call at an offset, "[text](url)" becomes "text", a code span "`42`" its code, an
HTML tag of a known element ("<b>", "</span>", "<br/>") goes and the text it marks stays, an HTML comment
goes, "<https://...>" becomes its address, and emphasis markers and backslash escapes go. As in CommonMark,
code spans, links and tags are read before emphasis, and underscores mark emphasis only at a word's edges:
"_all_", never "snake_case", "file_name.txt" or an address's "/_private_/". Unlike CommonMark, a code span
must also begin and end at a word's edge, so the backticks of "don`t ... won`t" and TeX quotes (``Vessel")
are kept. Any other angle-bracket text is kept verbatim ("a < b", "<5 years", "<your name>"): document text
is untrusted and shown as text.
"""

from __future__ import annotations

import re
import unicodedata

from index.records import FootnoteCall

_STARS = re.compile(r"(?<!\\)(\*{1,3})(?=\S)(.+?)(?<=[^\s\\])\1", re.DOTALL)
_UNDERSCORES = re.compile(r"_+")
_TICKS = re.compile(r"`+")
_WORD = re.compile(r"\w")
_INLINE = "a|abbr|b|bdi|bdo|big|cite|code|del|dfn|em|font|i|ins|kbd|mark|q|s|samp|small|span|strike|strong|sub|sup"
_INLINE += "|time|tt|u|var|wbr"
_BLOCK = "blockquote|br|dd|div|dl|dt|h[1-6]|hr|li|ol|p|table|tbody|td|tfoot|th|thead|tr|ul"
_ATTRIBUTE = r"""\s+[A-Za-z_:][\w.:-]*(?:\s*=\s*(?:[^\s"'=<>`]+|'[^']*'|"[^"]*"))?"""
_TOKENS = re.compile(
    r"<sup>\s*(?P<sup>[0-9A-Za-z*†‡]+)\s*</sup>"
    r"|!?\[(?P<link>[^\]]*)\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)"
    r"|<(?P<auto>[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)>"
    r"|<!--(?:(?!<!--|-->).)*-->"  # a comment, never one that holds another's start: linear time
    rf"|</?(?:(?P<inline>{_INLINE})|(?P<block>{_BLOCK}))(?:{_ATTRIBUTE})*\s*/?>"
    r"|(?P<url>(?:https?://|www\.)[^\s<>]*[^\s<>.,;:!?)\]'\"])"
    r"|\\(?P<esc>[\\`*_{}\[\]()#+\-.!|<>])",
    re.IGNORECASE | re.DOTALL,
)
_OWN = re.compile(r"[\U000f0000-\U0010fffd]")  # the placeholders' characters
_PLACEHOLDER = 0xF0000  # Supplementary Private Use Areas A and B: one character for each token found
_ROOM = 0x10FFFE - _PLACEHOLDER
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Unicode NFKC (ligatures "ﬁ" -> "fi"), non-breaking spaces to spaces, runs of space to one."""
    text = unicodedata.normalize("NFKC", text).replace("\u00ad", "")
    return _SPACE.sub(" ", text).strip()


def title_key(text: str) -> str:
    """A heading or title reduced to its letters and digits, to tell whether a heading is the document's title."""
    return re.sub(r"[^a-z0-9]+", "", normalise(text).lower().replace("’", "'"))


def strip_emphasis(text: str) -> str:
    """`text` without emphasis markers: "*", "**", "***" anywhere, "_", "__", "___" at a word's edges."""
    previous = None
    while previous != text:
        previous, text = text, _strip_underscores(_STARS.sub(r"\2", text))
    return text


def _strip_underscores(text: str) -> str:
    """`text` without the underscore runs that open and close emphasis, each closer paired with the nearest open
    run of its length before it (CommonMark's flanking rules for "_"): one pass, in linear time."""
    waiting: dict[int, list[int]] = {}  # run length -> starts of the runs that may open, innermost last
    pairs: list[tuple[int, int]] = []
    for run in _UNDERSCORES.finditer(text):
        size = len(run.group())
        before = text[run.start() - 1] if run.start() else " "
        after = text[run.end()] if run.end() < len(text) else " "
        if size > 3:
            continue
        if not before.isspace() and before != "\\" and not _WORD.match(after) and waiting.get(size):
            pairs.append((waiting[size].pop(), size))
            pairs.append((run.start(), size))
        elif not _WORD.match(before) and before != "\\" and not after.isspace():
            waiting.setdefault(size, []).append(run.start())
    if not pairs:
        return text
    out, position = [], 0
    for start, size in sorted(pairs):
        out.append(text[position:start])
        position = start + size
    return "".join(out) + text[position:]


class _Tokens:
    """Markup tokens, each replaced by one placeholder character while emphasis is taken off the rest.

    Code spans are read first, and the placeholders' own characters wherever they occur in the text are tokens
    of their own, so that every such character left in the text is a placeholder.
    """

    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []  # (kind, value): "text" it becomes, "call" number, "own" character

    def mask(self, text: str) -> str:
        """`text` with its markup replaced by placeholders: its own placeholder characters, its code spans, then
        its other tokens."""
        return _TOKENS.sub(self._one, self._code_spans(_OWN.sub(lambda m: self._add("own", m.group(0)), text)))

    def _code_spans(self, text: str) -> str:
        """Each code span: a run of backticks after a word's edge, up to the next run of the same length when that
        run ends at a word's edge (CommonMark's rule, and the edges), found in one pass over the runs."""
        runs = list(_TICKS.finditer(text))
        following: list[int | None] = [None] * len(runs)  # the next run of the same length
        last: dict[int, int] = {}
        for index in range(len(runs) - 1, -1, -1):
            following[index] = last.get(len(runs[index].group()))
            last[len(runs[index].group())] = index
        out, position, index = [], 0, 0
        while index < len(runs):
            start, closer = runs[index].start(), following[index]
            before = text[start - 1 : start]
            end = runs[closer].end() if closer is not None else 0
            if closer is None or _WORD.match(before) or before == "\\" or _WORD.match(text[end : end + 1]):
                index += 1
                continue
            code = text[runs[index].end() : runs[closer].start()]
            padded = code[:1] == code[-1:] == " " and code.strip()
            out += [text[position:start], self._add("text", code[1:-1] if padded else code)]
            position, index = end, closer + 1
        return "".join(out) + text[position:]

    def _one(self, match: re.Match[str]) -> str:
        groups = match.groupdict()
        if groups["link"] is not None:
            return _TOKENS.sub(self._one, groups["link"])  # its text, that text's tokens masked; the address goes
        if groups["sup"] is not None:
            return self._add("call", groups["sup"])
        kept = next((groups[k] for k in ("auto", "url", "esc") if groups[k] is not None), None)
        return self._add("text", kept if kept is not None else " " if groups["block"] else "")

    def _add(self, kind: str, value: str) -> str:
        if len(self.found) >= _ROOM:
            raise _Full
        self.found.append((kind, value))
        return chr(_PLACEHOLDER + len(self.found) - 1)

    def token(self, placeholder: str) -> tuple[str, str]:
        return self.found[ord(placeholder) - _PLACEHOLDER]

    def expand(self, text: str) -> str:
        """`text` with each "text" token's placeholder replaced by its text, itself expanded."""

        def one(match: re.Match[str]) -> str:
            kind, value = self.token(match.group(0))
            return self.expand(value) if kind == "text" else match.group(0)

        return _OWN.sub(one, text)


class _Full(Exception):
    """More tokens in one fragment than there are placeholders."""


def clean_inline(raw: str) -> tuple[str, tuple[FootnoteCall, ...]]:
    """Return the reader's text of a Markdown fragment and the footnote calls found in it."""
    tokens = _Tokens()
    try:
        text = normalise(tokens.expand(strip_emphasis(tokens.mask(raw))))
    except _Full:  # a hostile fragment: its text as it is
        return normalise(raw), ()
    out: list[str] = []
    calls: list[FootnoteCall] = []
    length = 0
    position = 0
    for match in _OWN.finditer(text):
        piece = text[position : match.start()]
        out.append(piece)
        length += len(piece)
        position = match.end()
        kind, value = tokens.token(match.group(0))
        if kind == "call":
            calls.append(FootnoteCall(length, value))
        else:
            out.append(value)
            length += len(value)
    out.append(text[position:])
    stripped = "".join(out).rstrip()
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
