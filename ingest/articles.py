"""Blocks -> passages cited in the document's own numbering.

Units are articles ("Article 33"), GCM objectives ("Objective 8"), a regulation's numbered
regulations ("20. (1)") and numbered paragraphs ("7."). Under a unit, the first marker style seen
("1.", "(a)", "A.") numbers its passages: "Article 33(1)", "Article 1A", "Objective 8(a)",
"regulation 20(1)". Deeper markers ("(a)" under "1.") stay in their parent's passage, as does
unnumbered text that follows it. Before the first article, "(12)" is a recital. Unnumbered text
outside any unit is labelled by its section (its page is in the citation). Footnotes are linked
to the nearest passage before them that calls their number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from index.records import FootnoteCall, Passage

from .blocks import Block, Marker, PassageBuilder, split_markers
from .contents import mark_contents
from .footnotes import link_footnotes
from .headings import (
    ARTICLE,
    OBJECTIVE,
    dateline,
    division,
    division_name,
    numbered_title,
    numeral,
    protocol_name,
    title_case,
)
from .inline import join_parts, slug
from .noise import repeated_notes
from .units import Container, Unit, drop_first_marker, marker_style, shift, untitled

_ANNEXES = frozenset(("annex", "schedule", "appendix"))
_LETTERED = re.compile(r"^[a-z]{1,3}\)\s")  # "a) Recalling ...": a lettered paragraph
_BULLET = re.compile(r"^[•▪◦●○■□➢►✓]\s+")


class Numbering(PassageBuilder):
    """Cites a document's blocks in its own numbering (articles, objectives, regulations, paragraphs)."""

    def __init__(self, document_id: str, style: str = "paragraph") -> None:
        super().__init__(document_id)
        self.style = style
        self.divisions: list[str] = []
        self.heading: str | None = None  # the latest plain section heading
        self.outline: list[tuple[int, str]] = []  # plain headings with outline levels (Word's Heading 1, 2...)
        self.unit: Unit | None = None
        self.open: int | None = None  # index of the passage that unmarked text continues
        self.last: str = "start"  # what the previous block was: start | division | unit | title | heading | text
        self.pending_title: str | None = None
        self.container: Container | None = None  # a protocol, annex or schedule and what is in it
        self.seen_article = False
        self.last_number = ""  # the number of the last division ("IV", "H")
        self.texts = 0
        self.items = 0

    @property
    def in_annex(self) -> bool:
        """Past a schedule or annex: its numbered items are not regulations."""
        return self.container is not None and self.container.kind == "annex"

    def section(self) -> tuple[str, ...]:
        parts = list(self.divisions)
        if self.unit is not None and self.unit.kind in ("article", "objective", "regulation"):
            parts.append(self.unit.heading)
        elif self.heading:
            # the headings a Word or Markdown outline puts this one under ("Conclusion > Recommendations")
            parts.extend(title for _, title in self.outline[:-1])
            parts.append(self.heading)
        return tuple(parts)

    def feed(self, blocks: Iterable[Block]) -> list[Passage]:
        marked = mark_contents(list(blocks))
        notes = repeated_notes([b.text for b in marked if b.kind == "text"])
        for block in marked:
            if block.kind == "text" and " ".join(block.text.split()) in notes:
                # kept where it stands for the document view, outside the unit's text and numbering
                self.add(
                    block, kind="front-matter", anchor=self.anchor("repeated"), text=block.text, label="Repeated text"
                )
            elif block.kind == "heading":
                self._heading(block)
            elif block.kind == "footnote":
                self._footnote(block)
            elif block.kind == "contents":
                label = "Contents"
                self.add(block, kind="contents", anchor=self.anchor("contents"), text=block.text, label=label)
            else:
                self._text(block)
        return link_footnotes(self.passages)

    # headings ---------------------------------------------------------------------------

    def _heading(self, block: Block) -> None:
        text = block.text.strip()
        if block.margin:
            self.pending_title = text.rstrip(".")
            self._heading_passage(block, text)
            return
        if (match := ARTICLE.match(text)) or (match := OBJECTIVE.match(text)):
            self._start_unit(block, match)
            return
        protocol = protocol_name(text) if self.seen_article else None
        if protocol is not None and division(text) is None:
            self._division(block, Container(protocol, "protocol", block.level), protocol)
            return
        if match := division(text):
            name = division_name(match)
            annex = match.group("word").lower() in _ANNEXES
            number = (match.group("num") or "").upper()
            restart = number == "1" or (number == "I" and self.last_number != "H")  # "Part I" after "Part H" goes on
            self.last_number = number
            if self.in_annex and restart:
                self.container, self.divisions = None, []  # "PART I" after a schedule: a new body, or the contents
            self._division(block, Container(name.split(":")[0], "annex", block.level) if annex else None, name)
            return
        if self.container is not None and 0 < block.level <= self.container.level:
            self.container, self.divisions = None, []  # a title at the protocol's level: the protocol is over
        self._plain_heading(block, text)

    def _division(self, block: Block, container: Container | None, name: str) -> None:
        """A chapter or part (inside the current container), or a new protocol, annex or schedule."""
        self.unit, self.open, self.heading = None, None, None
        self.outline = []
        if container is not None:
            self.container, self.divisions = container, [name]
        elif self.container is not None:
            self.divisions = [self.divisions[0] if self.divisions else self.container.name, name]
        else:
            self.divisions = [name]
        self.last = "division"
        self._heading_passage(block, block.text.strip())

    def _start_unit(self, block: Block, match: re.Match[str]) -> None:
        groups = match.groupdict()
        word = (groups.get("word") or "Objective").rstrip(".").capitalize()
        number = numeral(match.group("num"))
        protocol = self.container.name if self.container is not None and self.container.kind == "protocol" else None
        kind = "objective" if word == "Objective" else "article"
        if self.divisions and self.divisions[-1].split(":")[0] == "Preamble":
            self.divisions = self.divisions[:-1]  # the first article ends the preamble: Article 1 is not inside it
        self.unit = Unit(kind, word, number, title_case(groups.get("title")), container=protocol)
        self.seen_article = True
        self.open, self.last = None, "unit"
        self._heading_passage(block, block.text, anchor=self.unit.anchor(word, number))

    def _plain_heading(self, block: Block, text: str) -> None:
        title = title_case(text)
        if self.last == "unit" and self.unit is not None and self.unit.title is None:
            self.unit.title = title
            self.last = "title"
            self._heading_passage(block, text)
            return
        if self.last == "division" and self.divisions:
            self.divisions[-1] = f"{self.divisions[-1]}: {title}"
            self._heading_passage(block, text)
            return
        if self.unit is not None and (self.unit.has_text or self.unit.kind in ("paragraph", "regulation")):
            self.unit = None
        subtitle = self.last == "heading" and text[:1].islower()  # "introductory note" / "by the Office of ..."
        if self.unit is None and not subtitle and not dateline(text):  # "Rome, 4.XI.1950" is not a section
            self.heading = title
            self.texts = self.items = 0
            under = [(level, t) for level, t in self.outline if 0 < level < block.level]
            self.outline = [*under, (block.level, title)] if title else under
        self.open, self.last = None, "heading"
        self._heading_passage(block, text)

    def _heading_passage(self, block: Block, text: str, anchor: str | None = None) -> None:
        self.add(block, kind="heading", anchor=self.anchor(anchor or slug(text)), text=text, label=text)

    # text -------------------------------------------------------------------------------

    def _text(self, block: Block) -> None:
        markers, rest = split_markers(block.text)
        unit = self.unit
        outside = unit is None or unit.kind == "paragraph"
        if outside and numbered_title(block.text, self.style == "paragraph"):
            self._plain_heading(block, block.text)  # "2.1 The EU citizen", "1. Introduction"
            return
        bullet = _BULLET.match(block.text)
        if outside and (block.item or bullet):
            self._item(block, block.text[bullet.end() :] if bullet else block.text)
            return
        self.last = "text"
        if unit is not None and unit.kind in ("article", "objective"):
            if untitled(unit, markers, block.text):
                unit.title = title_case(block.text)  # a title line the layout did not set apart
                self._heading_passage(block, block.text)
                return
            unit.has_text = True
            self._in_unit(block, unit, markers, rest)
        elif markers and markers[0].style == "dot" and (self.style != "article" or not self.seen_article):
            self._numbered(block, markers, rest)
        elif markers and unit is not None and unit.kind in ("regulation", "paragraph"):
            self._in_unit(block, unit, markers, rest)
        elif markers and markers[0].style == "paren" and self.style == "article" and not self.seen_article:
            self._recital(block, markers[0].value, rest)
        else:
            self._unnumbered(block)

    def _in_unit(self, block: Block, unit: Unit, markers: list[Marker], rest: str) -> None:
        if not markers:
            self._continue_or(block, lambda: self._unit_text(block, unit))
            return
        style = marker_style(markers[0], unit.sub_style, unit.last)
        if unit.sub_style is None:
            unit.sub_style = style
        if style != unit.sub_style and self.open is not None:
            self._append(block.text, block.calls)
            return
        self._sub(block, unit, markers[0], drop_first_marker(block.text))

    def _numbered(self, block: Block, markers: list[Marker], rest: str) -> None:
        number = markers[0].value
        if self.style == "regulation" and not self.in_annex:
            self.unit = Unit("regulation", "regulation", number, self.pending_title)
        else:
            self.unit = Unit("paragraph", "para.", number)
        self.pending_title = None
        if len(markers) > 1:
            self.unit.sub_style = marker_style(markers[1], None)
            self._sub(block, self.unit, markers[1], rest)
            return
        kind = "article" if self.unit.kind == "regulation" else "paragraph"
        label = f"{self.unit.word} {number}"
        prefix = "reg" if self.unit.kind == "regulation" else "para"
        if self.in_annex and self.container is not None:
            label, prefix = f"{self.container.name}, {label}", f"{slug(self.container.name)}-{prefix}"
        self.open = self._cited(block, kind, f"{prefix}-{slug(number)}", label, number, rest)

    def _sub(self, block: Block, unit: Unit, marker: Marker, rest: str) -> None:
        unit.last = marker.value
        paragraph = unit.number + (marker.value if marker.style == "upper" else f"({marker.value})")
        kind = {"article": "article", "regulation": "article", "objective": "paragraph"}.get(unit.kind, "paragraph")
        prefix = {"article": unit.word, "objective": "objective", "regulation": "reg"}.get(unit.kind, "para")
        anchor = unit.anchor(prefix, unit.number, marker.value)
        self.open = self._cited(block, kind, anchor, unit.cite(paragraph), paragraph, rest)

    def _unit_text(self, block: Block, unit: Unit) -> None:
        kind = "paragraph" if unit.kind == "objective" else "article"
        anchor = unit.anchor(unit.word, unit.number, "text")
        self.open = self._cited(block, kind, anchor, unit.cite(unit.number), unit.number)

    def _recital(self, block: Block, number: str, rest: str) -> None:
        self.open = self._cited(block, "paragraph", f"recital-{number}", f"recital {number}", number, rest)

    def _item(self, block: Block, rest: str) -> None:
        """A bulleted list item, anchored as the Markdown reader anchors one ("recommendations-1")."""
        self.items += 1
        self.open = None
        self._cited(block, "list-item", f"{slug(self.where or 'list')}-{self.items}", self.where or "List", rest=rest)

    def _unnumbered(self, block: Block) -> None:
        self._continue_or(block, lambda: self._new_text(block))

    def _new_text(self, block: Block) -> None:
        self.texts += 1
        base = f"{slug(self.where)}-text-{self.texts}" if self.where else f"text-{self.texts}"
        self.open = self._cited(block, "text", base, self.where or "text")
        self.unit = None if self.unit is not None and self.unit.kind == "paragraph" else self.unit

    @property
    def where(self) -> str | None:
        """The section unnumbered text is under: the latest plain heading, else the division."""
        return self.heading or (self.divisions[-1] if self.divisions else None)

    def _cited(
        self, block: Block, kind: str, anchor: str, label: str, paragraph: str | None = None, rest: str | None = None
    ) -> int:
        """A passage for `block`, its text what follows its markers (`rest`), its calls moved to match."""
        text, calls = shift(block.text, rest, block.calls) if rest is not None else (block.text, block.calls)
        values = {"kind": kind, "text": text, "label": label, "paragraph": paragraph, "footnote_calls": calls}
        return self.add(block, anchor=self.anchor(anchor), **values)

    def _continue_or(self, block: Block, start: object) -> None:
        in_unit = self.unit is not None and self.unit.kind != "paragraph"
        # a lower-case start carries the open passage on, but "a) Recalling ..." is a lettered paragraph of its
        # own (the disability convention's preamble, whose 25 paragraphs were one passage)
        carries_on = block.text[:1].islower() and not _LETTERED.match(block.text)
        if self.open is not None and (carries_on or in_unit):
            self._append(block.text, block.calls)
        else:
            start()  # type: ignore[operator]

    def _append(self, text: str, calls: tuple[FootnoteCall, ...]) -> None:
        assert self.open is not None
        old = self.passages[self.open]
        joined, joined_calls = join_parts((old.text, old.footnote_calls), (text, calls))
        self.passages[self.open] = replace(old, text=joined, footnote_calls=joined_calls)

    def _footnote(self, block: Block) -> None:
        number = block.number or "?"
        self._cited(block, "footnote", f"fn-{slug(number)}", block.label or f"footnote {number}", number)
