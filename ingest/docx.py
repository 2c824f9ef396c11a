"""Word .docx -> passages, with python-docx. Runs in the sandbox's worker (a .docx is a ZIP: it can be a bomb).

Paragraph styles give the structure: "Title" and "Heading N" are headings, the rest text.
Word numbers list paragraphs itself, so their numbers are not in the text: they are rebuilt from
the list level ("1.", then "(a)", then "(i)") as Word shows them by default. Tables are read row
by row, cells joined by " | ". Footnotes, comments and text boxes are not read (python-docx
does not expose them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .blocks import Block
from .errors import IngestError
from .inline import normalise
from .language import detect

_ROMAN = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii", "xiv", "xv"]


def extract_docx(
    request: tuple[str], report: Callable[[int, int], None] | None = None
) -> tuple[list[Block], dict[str, str]]:
    """Blocks of the .docx at `path` and its core properties (title, author, created)."""
    (path,) = request
    try:
        import docx
        from docx.opc.exceptions import PackageNotFoundError
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise IngestError("python-docx is not installed; run: pip install python-docx") from exc
    try:
        document = docx.Document(path)
    except PackageNotFoundError:
        raise IngestError("not a Word .docx package; save it as .docx (Word 2007 or later) and ingest again") from None
    except Exception as exc:  # the worker's boundary: any python-docx failure is one line in the report
        raise IngestError(f"python-docx cannot read it ({type(exc).__name__}: {exc}); re-save it in Word") from None
    blocks = list(_blocks(document))
    if report is not None:
        report(1, 1)
    return blocks, _properties(document)


def _blocks(document: Any) -> Iterator[Block]:
    counters: dict[tuple[str, int], int] = {}
    for item in document.iter_inner_content():
        if hasattr(item, "rows"):
            for row in item.rows:
                text = normalise(" | ".join(cell.text for cell in row.cells))
                if text.strip(" |"):
                    yield Block("text", text, language=detect(text))
            continue
        text = normalise(item.text)
        if not text:
            continue
        style = (item.style.name if item.style is not None else "") or ""
        level = _heading_level(style)
        if level:
            counters.clear()
            yield Block("heading", text, level=level)
            continue
        marker = _list_marker(item, counters)
        yield Block("text", f"{marker} {text}" if marker else text, language=detect(text))


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    if style.startswith("Heading "):
        tail = style.removeprefix("Heading ").strip()
        return int(tail) if tail.isdigit() else 1
    return 0


def _list_marker(paragraph: Any, counters: dict[tuple[str, int], int]) -> str:
    """The number Word would show before a numbered list paragraph ("1.", "(a)", "(i)"); "" for bullets."""
    style_numbering = paragraph.style.element.pPr if paragraph.style is not None else None
    properties = paragraph._p.pPr
    numbering = properties.numPr if properties is not None and properties.numPr is not None else None
    if numbering is None and style_numbering is not None:
        numbering = style_numbering.numPr  # "List Number" paragraphs take their numbering from the style
    if numbering is None or numbering.numId is None:
        return ""
    list_id = str(numbering.numId.val)
    level = int(numbering.ilvl.val) if numbering.ilvl is not None else 0
    for key in [k for k in counters if k[0] == list_id and k[1] > level]:
        del counters[key]  # a new item at this level restarts the levels below it
    count = counters.get((list_id, level), 0) + 1
    counters[(list_id, level)] = count
    return _format(_number_format(paragraph, list_id, level), count, level)


def _number_format(paragraph: Any, list_id: str, level: int) -> str | None:
    """The level's w:numFmt ("decimal", "lowerLetter", "bullet" ...) from the numbering part, if readable."""
    from lxml.etree import XPathError

    try:
        numbering = paragraph.part.numbering_part.element
        num = numbering.num_having_numId(int(list_id))
        found = numbering.xpath(
            f'./w:abstractNum[@w:abstractNumId="{num.abstractNumId.val}"]/w:lvl[@w:ilvl="{level}"]/w:numFmt/@w:val'
        )
    except (KeyError, IndexError, AttributeError, NotImplementedError, ValueError, XPathError):
        return None
    return str(found[0]) if found else None


def _format(kind: str | None, count: int, level: int) -> str:
    letter = chr(ord("a") + (count - 1) % 26)
    roman = _ROMAN[(count - 1) % len(_ROMAN)]
    formats = {
        "decimal": f"{count}.",
        "lowerLetter": f"({letter})",
        "upperLetter": f"{letter.upper()}.",
        "lowerRoman": f"({roman})",
        "upperRoman": f"{roman.upper()}.",
        "bullet": "",
        "none": "",
    }
    if kind in formats:
        return formats[kind]
    return (f"{count}.", f"({letter})", f"({roman})")[min(level, 2)]


def _properties(document: Any) -> dict[str, str]:
    core = document.core_properties
    values = {
        "title": core.title,
        "publisher": core.author,
        "date": core.created.date().isoformat() if core.created else "",
    }
    return {k: str(v) for k, v in values.items() if v}
