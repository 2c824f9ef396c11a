"""Labels that identify each searchable passage of a document: no two share a citation.

Numbered units keep the label their numbering gives ("Article 33(1)", "para. 7", "footnote 6",
"Protocol No. 4, Article 2"). Unnumbered text is labelled by its section and its position in it:
"Preamble, para. 3", "Introductory Note, para. 12"; list items by their list's section: "Recommendations
for Member States, item 2". The section is the nearest heading on the passage's path that reads as a
title: a division's name ("Part IV", "Annex II"), a numbered heading's number ("section 2.1"), or the
heading itself in title case when it was set in capitals; a heading that is really a line of body text
the layout set apart is passed over. Where two passages still share a citation (a number that restarts,
two lists under one heading), the later ones are qualified by their section, then by their order.
Anchors never change here: a passage's id stays what its parser made it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import replace

from index.records import Passage, citation_label

from .headings import ARTICLE, FUNCTION_WORDS, OBJECTIVE, division, numbered_title, protocol_name, unfinished
from .noise import sentence, words
from .selection import is_title_line, top_headings

MAX_WORDS = 12  # a section name longer than this is cut at its colon or dash
_CALL = re.compile(r"\s*\(\d{1,3}\)$|(?<=[a-z])\d{1,3}$|[\ue000\ue001]")
_MARK = re.compile(r"^(?:[A-Z]|[IVXLC]{1,6}|\d{1,3})\.?$", re.IGNORECASE)
_CUT = re.compile(r"\s*(?::|\s[-–—]\s)\s*")
_LISTED = re.compile(r"(?:^|, )para\. (?=[\w.()]+$)")


def cite(passages: Sequence[Passage], names: Collection[str] = ()) -> list[Passage]:
    """The passages with unnumbered text and list items labelled by section and position, all distinct.

    `names` are the document's own names (title, short title, aliases): a treaty's preamble set under its title's
    heading, right before Article 1, is cited "Preamble, para. 3", not by the title again; other text under the
    title's heading is cited by its position alone ("para. 2": the citation begins with the title), or, in a
    document whose own numbered paragraphs are cited "para. N", as text under no heading ("Text, para. 2").
    """
    vocabulary = {w.lower() for p in passages for w in words(p.text) if not w.isupper()}
    preamble = _preamble_section(passages, names, vocabulary)
    titles = {line.strip() for line in top_headings(passages) if is_title_line(line, names)}
    numbered = {p.label.split(" ")[0] for p in passages if p.searchable and p.kind not in ("text", "list-item")}
    counts: Counter[tuple[tuple[str, ...], str]] = Counter()
    placed: list[tuple[int, tuple[tuple[str, ...], str], str]] = []
    out: list[Passage] = []
    after_title = False  # past a title heading kept off the path of the text under it (a paper's title)
    for passage in passages:
        after_title = after_title or (passage.kind == "heading" and passage.text.strip() in titles)
        if passage.searchable and passage.kind in ("text", "list-item"):
            depth, base = _named(passage.section, vocabulary)
            word = "item" if passage.kind == "list-item" else "para."
            key = (passage.section[:depth], word)  # positions run through the named section's unnamed parts
            if preamble is not None and passage.section[:depth] == preamble:
                base = "Preamble"
            elif _under_title(passage.section, depth, titles, after_title):
                key, base = (((), word), "Text") if word in numbered else ((("",), word), "")
            head = f"{base}, {word}" if base else word
            counts[key] += 1
            placed.append((len(out), key, head))
            passage = replace(passage, label=f"{head} {counts[key]}")  # noqa: PLW2901
        out.append(passage)
    _own_letters(out, placed)
    return _distinct(out, vocabulary)


def _under_title(section: Sequence[str], depth: int, titles: Collection[str], after_title: bool) -> bool:
    """Whether text whose nearest named heading is `section[depth - 1]` is under the document's title: that heading
    is a title line, or the text is under no heading at all after a title heading that is kept off the paths."""
    return section[depth - 1].strip() in titles if depth else after_title and not section


_LETTER = re.compile(r"^\(?([a-z])\)\s")


def _own_letters(passages: list[Passage], placed: Sequence[tuple[int, tuple[tuple[str, ...], str], str]]) -> None:
    """Where a section's unnumbered paragraphs open with their own letters in order, "a) Recalling ...",
    "b) Recognizing ..." (the Disability Convention's preamble), they are cited by those letters, "Preamble,
    para. (g)", as the document numbers them, not by position; its other paragraphs (the opening "The States
    Parties ...") keep their position. The letters must run a), b), c) ... from a) without a gap, three or more:
    a paragraph that happens to open with "a)" is not a list."""
    runs: dict[tuple[tuple[str, ...], str], list[tuple[int, str, str]]] = {}
    for index, key, base in placed:
        match = _LETTER.match(passages[index].text)
        if match:
            runs.setdefault(key, []).append((index, base, match.group(1)))
    for run in runs.values():
        letters = [letter for _, _, letter in run]
        if len(run) >= 3 and letters == [chr(ord("a") + i) for i in range(len(run))]:
            for index, base, letter in run:
                passages[index] = replace(passages[index], label=f"{base} ({letter})")


def _preamble_section(
    passages: Sequence[Passage], names: Collection[str], vocabulary: Collection[str]
) -> tuple[str, ...] | None:
    """The section whose text leads into a treaty's first article when that section is named by the document's
    own title ("Convention on the Rights of the Child" over "The States Parties to the present Convention,
    Considering ..."): that text is the preamble. None when the document has no article or the text before its
    first article has a section of its own ("Preamble", "Introductory note")."""
    wanted = {n.casefold() for n in names if n}
    first = next((i for i, p in enumerate(passages) if p.kind == "article" and p.searchable), None)
    if not wanted or first is None:
        return None
    before = next((p for p in reversed(passages[:first]) if p.searchable and p.kind in ("text", "list-item")), None)
    if before is None:
        return None
    depth, base = _named(before.section, vocabulary)
    heading = before.section[depth - 1].casefold() if depth else ""
    named = any(heading.startswith(n) or base.casefold() == n for n in wanted)
    return before.section[:depth] if named else None


def section_name(section: Sequence[str], vocabulary: Collection[str] = ()) -> str:
    """What a citation calls the nearest section on `section` that has a title's name; "Text" if none."""
    return _named(section, vocabulary)[1]


def _named(section: Sequence[str], vocabulary: Collection[str], numbers: bool = True) -> tuple[int, str]:
    """How deep the nearest named section is on `section` (0: none) and its name.

    With `numbers` False a numbered heading is named by its whole title ("4.5 Cohérence"), not its number.
    """
    for depth in range(len(section), 0, -1):
        name = _name(section[depth - 1], vocabulary, numbers)
        if name is not None:
            return depth, name
    return 0, "Text"


_BYLINE = re.compile(r"^(?:authors?|prepared by|written by|compiled by|editors?)\b\s*:?\s", re.IGNORECASE)


def _enclosed(text: str) -> bool:
    """Whether one pair of parentheses encloses the whole text: "(a b)", not "(a) b (c)"."""
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth = 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and i < len(text) - 1:
            return False
    return True


def _name(heading: str, vocabulary: Collection[str], numbers: bool = True) -> str | None:
    text = _CALL.sub("", heading).strip()
    if _enclosed(text):
        text = text[1:-1].strip()  # "(Principle of unity of the family)", not "(Cover of booklet) ... (...)"
    head = text.split(":")[0].strip()
    if division(head) or protocol_name(head) == head or ARTICLE.match(head) or OBJECTIVE.match(head):
        return head  # "Part IV", "Annex II", "Preamble", "Protocol No. 4", "Article 29"
    number = numbered_title(text, single=True) if numbers else None
    if number is not None:
        return f"section {number}"
    if _MARK.match(text):
        return f"section {text.rstrip('.')}"
    if not any(len(w) >= 3 for w in words(text)) or unfinished(text) or _body_text(text):
        return None  # a line of body text set apart by the layout, not a title
    if _BYLINE.match(text):
        return None  # "Author: Neil Dillon, Data Conscious Ltd": who wrote it, not what it is about
    if len(text.split()) > MAX_WORDS:
        text = _shorten(text)
    text = caps_to_title(text, vocabulary)
    return text[:1].upper() + text[1:]


def _body_text(text: str) -> bool:
    """A sentence too long for a title, or one whose clauses run on after commas ("However, currently, ...").

    Long titles capitalise their main words ("... of the United Nations High Commissioner for Refugees"); a line
    of body text has few capitals.
    """
    found = text.split()
    lower = sum(1 for w in found if w[0].islower()) / len(found)
    if not sentence(text) or lower < 0.5:
        return False
    return (len(found) > MAX_WORDS and lower >= 0.6) or (len(found) >= 8 and re.search(r", [a-z]", text) is not None)


def _shorten(title: str) -> str:
    """A long title's head: up to its colon or dash, else up to the first function word after its first words.

    "Introductory note by the Office of the United Nations High Commissioner for Refugees" -> "Introductory note".
    """
    head = _CUT.split(title, maxsplit=1)[0]
    if len(head.split()) <= MAX_WORDS:
        return head
    clauses = title.split(", ")
    for end in range(len(clauses) - 1, 0, -1):
        head = ", ".join(clauses[:end])
        if 3 <= len(head.split()) <= MAX_WORDS:
            return head  # "Protocol against the Smuggling of Migrants by Land, Sea and Air"
    parts = title.split()
    cut = next(
        (i for i in range(2, MAX_WORDS) if parts[i].lower() in FUNCTION_WORDS and not unfinished(parts[i - 1])),
        MAX_WORDS,
    )
    return " ".join(parts[:cut]).rstrip(",;")


def caps_to_title(text: str, vocabulary: Collection[str] = ()) -> str:
    """Runs of words set in capitals, in title case: "CHARTER OF FUNDAMENTAL RIGHTS" -> "Charter of Fundamental Rights".

    A run is the whole text when it is all capitals, else two capitalised words or more in a row ("July 2025 META
    EVALUATION OF IOM EVALUATIONS"). A word the document never writes otherwise (`vocabulary`: its words not in
    capitals, lower-cased) is an acronym and stays ("IOM"), as does any word of three letters or fewer; with no
    vocabulary, every longer word is taken for a word.
    """
    if sum(c.isalpha() for c in text) < 3:
        return text
    tokens = text.split(" ")
    caps = [sum(c.isalpha() for c in t) > 0 and t.upper() == t for t in tokens]
    whole = all(caps[i] or not any(c.isalpha() for c in t) for i, t in enumerate(tokens))
    out = []
    for i, token in enumerate(tokens):
        run = whole or (caps[i] and ((i > 0 and caps[i - 1]) or (i + 1 < len(tokens) and caps[i + 1])))
        out.append(_title_word(token, i == 0, vocabulary) if run and caps[i] else token)
    return " ".join(out)


def _title_word(token: str, first: bool, vocabulary: Collection[str]) -> str:
    def one(match: re.Match[str]) -> str:
        word = match.group(0)
        lower = word.lower()
        if lower in FUNCTION_WORDS and not (first and match.start() == 0):
            return lower
        known = len(word) >= 4 and (lower in vocabulary or not vocabulary)
        return word[0] + word[1:].lower() if known or lower in FUNCTION_WORDS else word

    return re.sub(r"[^\W\d_]+(?:['’][^\W\d_]+)?", one, token)


def _distinct(passages: list[Passage], vocabulary: Collection[str]) -> list[Passage]:
    """Qualify passages whose citation another searchable passage of the document already has."""
    language = Counter(p.language for p in passages if p.searchable).most_common(1)
    main = language[0][0] if language else None
    for qualify in (_by_list, _by_section, _by_language, _by_order):
        groups = Counter(_key(p) for p in passages if p.searchable)
        if all(n == 1 for n in groups.values()):
            break
        seen: Counter[str] = Counter()
        for index, p in enumerate(passages):
            key = _key(p)
            if not p.searchable or groups[key] == 1:
                continue
            seen[key] += 1
            if qualify is _by_list and p.kind in ("paragraph", "footnote"):
                passages[index] = replace(p, label=_by_list(passages, index, vocabulary))
            elif qualify is _by_language and p.language not in (None, main):
                passages[index] = replace(p, label=f"{p.label} ({p.language})")
            elif (seen[key] > 1 and qualify is _by_order) or qualify is _by_section:
                passages[index] = replace(p, label=qualify(p, seen[key], vocabulary))
    return passages


def _by_list(passages: Sequence[Passage], index: int, vocabulary: Collection[str]) -> str:
    """A numbered paragraph whose number comes back is an item of a list: cite it under the paragraph before it.

    A footnote whose number comes back (notes numbered by chapter, or under a table) is cited under its caller.
    """
    p = passages[index]
    if p.kind == "footnote":
        caller = next((q for q in passages if q.anchor == p.called_from and q.searchable), None)
        where = caller.label if caller is not None else section_name(p.section, vocabulary)
        return f"{where}, {p.label}"
    match = _LISTED.search(p.label)
    if match is None:
        return p.label
    number = p.label[match.end() :]
    for q in reversed(passages[:index]):
        if q.section != p.section and q.kind != "paragraph":
            break
        if q.searchable and q.kind == "text":
            return f"{q.label}, item {number}"
    return f"{section_name(p.section, vocabulary)}, item {number}"


def _by_language(p: Passage, _: int, __: Collection[str]) -> str:
    return p.label  # applied in `_distinct`, where the document's main language is known


def _by_section(p: Passage, _: int, vocabulary: Collection[str]) -> str:
    """A numbered label under its section's name; unnumbered text under its heading's whole title."""
    if p.kind in ("text", "list-item"):
        name = _named(p.section, vocabulary, numbers=False)[1]
        return f"{name}, {p.label.rsplit(', ', 1)[-1]}"
    name = section_name(p.section, vocabulary)
    return p.label if p.label.startswith(name) else f"{name}, {p.label}"


def _by_order(p: Passage, n: int, _: Collection[str]) -> str:
    return f"{p.label} ({_ordinal(n)} occurrence)"


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _key(p: Passage) -> str:
    return citation_label(p, "")
