"""Word's list numbering, from word/numbering.xml, counted the way Word counts it.

A numbered paragraph names a list instance (w:num, by numId) and a level (w:ilvl). Instances share the
counters of their abstract list (w:abstractNum): a second instance of the same list carries on its
numbering across headings and other paragraphs, unless it overrides a level's start (w:lvlOverride/
w:startOverride), which sets that level's counter when the instance is first used: that is how Word
restarts a list, or makes one start at 5. Each level has a start value (w:start), a format (w:numFmt:
decimal, lowerLetter, upperLetter, lowerRoman, upperRoman, bullet, none) and a text (w:lvlText: "%1.",
"(%2)", "%1.%2"), in which %N is level N's current number in level N's format. Using a level restarts
the deeper ones, except those whose w:lvlRestart names a shallower level or is 0 (never).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_ROMAN = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"), (40, "xl")]
_ROMAN += [(10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]


@dataclass(frozen=True)
class Level:
    start: int = 1
    format: str = "decimal"
    text: str = "%1."
    restart: int | None = None  # w:lvlRestart: the one-based level whose use restarts this one; 0: never


@dataclass(frozen=True)
class Instance:
    abstract: str
    starts: dict[int, int] = field(default_factory=dict)  # level -> w:startOverride


def attribute(element: ET.Element | None, name: str = "val") -> str | None:
    return None if element is None else element.get(f"{W}{name}")


def parse_levels(abstract: ET.Element) -> dict[int, Level]:
    levels = {}
    for lvl in abstract.findall(f"{W}lvl"):
        start, restart = attribute(lvl.find(f"{W}start")), attribute(lvl.find(f"{W}lvlRestart"))
        levels[int(attribute(lvl, "ilvl") or 0)] = Level(
            start=int(start) if start and start.lstrip("-").isdigit() else 1,
            format=attribute(lvl.find(f"{W}numFmt")) or "decimal",
            text=attribute(lvl.find(f"{W}lvlText")) or "",
            restart=int(restart) if restart and restart.isdigit() else None,
        )
    return levels


def format_number(value: int, kind: str) -> str:
    """`value` as Word writes it in a numbering format ("lowerLetter": 28 -> "bb")."""
    if kind in ("lowerLetter", "upperLetter"):
        letter = chr(ord("a") + (value - 1) % 26) * ((value - 1) // 26 + 1) if value > 0 else str(value)
        return letter.upper() if kind == "upperLetter" else letter
    if kind in ("lowerRoman", "upperRoman"):
        roman, rest = "", value
        for amount, digits in _ROMAN:
            while rest >= amount:
                roman, rest = roman + digits, rest - amount
        return roman.upper() if kind == "upperRoman" else roman or str(value)
    if kind == "decimalZero":
        return f"{value:02d}"
    return str(value)


class ListNumbering:
    """The numbering part of one document, and the counters as its paragraphs are read in order."""

    def __init__(self, xml: bytes | None) -> None:
        self.abstracts: dict[str, dict[int, Level]] = {}
        self.instances: dict[str, Instance] = {}
        self.counters: dict[str, dict[int, int]] = {}
        self.started: set[tuple[str, int]] = set()  # (numId, level) whose startOverride has been applied
        if xml:
            self._read(ET.fromstring(xml))

    def _read(self, root: ET.Element) -> None:
        for abstract in root.findall(f"{W}abstractNum"):
            self.abstracts[attribute(abstract, "abstractNumId") or ""] = parse_levels(abstract)
        for num in root.findall(f"{W}num"):
            starts = {}
            for override in num.findall(f"{W}lvlOverride"):
                start = attribute(override.find(f"{W}startOverride"))
                if start is not None and start.lstrip("-").isdigit():
                    starts[int(attribute(override, "ilvl") or 0)] = int(start)
            abstract_id = attribute(num.find(f"{W}abstractNumId")) or ""
            self.instances[attribute(num, "numId") or ""] = Instance(abstract_id, starts)

    def marker(self, num_id: str, level: int) -> str | None:
        """The number Word shows before the next paragraph of list `num_id` at `level`; "" for a bullet; None if
        the list is not defined (the caller falls back to a default)."""
        instance = self.instances.get(num_id)
        levels = self.abstracts.get(instance.abstract) if instance is not None else None
        if instance is None or levels is None or level not in levels:
            return None
        counters = self.counters.setdefault(instance.abstract, {})
        if level in instance.starts and (num_id, level) not in self.started:
            self.started.add((num_id, level))
            counters[level] = instance.starts[level] - 1
        counters[level] = counters.get(level, levels[level].start - 1) + 1
        for deeper in [d for d in counters if d > level]:
            restart = levels[deeper].restart if deeper in levels else None
            if restart is None or (restart != 0 and level <= restart - 1):
                del counters[deeper]
        if levels[level].format in ("bullet", "none"):
            return ""
        return self._text(levels, counters, level)

    def _text(self, levels: dict[int, Level], counters: dict[int, int], level: int) -> str:
        def one(match: re.Match[str]) -> str:
            at = int(match.group(1)) - 1
            value = counters.get(at, levels[at].start if at in levels else 1)
            return format_number(value, levels[at].format if at in levels else "decimal")

        return re.sub(r"%(\d)", one, levels[level].text).strip()
