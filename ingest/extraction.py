"""PDF bytes -> positioned lines, with pypdf. Runs inside the sandbox's worker process.

The text comes from pypdf's layout-mode machinery (the text runs with their coordinates and font
heights, before pypdf renders them as fixed-width text), so columns, running headers and
footnotes can be told apart by position and size. Pages rotated with /Rotate are turned upright
first. A page the layout machinery cannot read falls back to pypdf's plain extraction.
This is the only module that imports pypdf; it uses pypdf's private `_layout_mode` helpers,
which is why pyproject pins pypdf to one minor release.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from .errors import IngestError
from .pages import CALL_CLOSE, CALL_OPEN, Line, PageText, PdfText, Piece

PIECE_GAP = 0.5  # a gap wider than this many font heights starts a new piece (a gutter, a margin note)
SPACE_GAP = 0.15  # a gap wider than this many font heights is a space between words
SUPERSCRIPT = 0.75  # a lone number in a font this much smaller than its line's is a footnote call
_LONE_NUMBER = re.compile(r"^\s*\(?\s*(\d{1,3}|[*†‡]{1,3})\s*\)?\s*$")
_CONTROL = str.maketrans(dict.fromkeys([*range(9), *range(11, 32), 0x7F], " ") | {9: " "})


def extract_pdf(request: tuple[str, int], report: Callable[[int, int], None] | None = None) -> PdfText:
    """Read the PDF at `path` (at most `max_pages` pages) into PdfText; IngestError says why it cannot.

    `report(done, total)` is called after each page.
    """
    path, max_pages = request
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError

    try:
        reader, decrypted = _open(path)
        count = len(reader.pages)
        if count == 0:
            raise IngestError("the PDF has no pages; check that the file is complete")
        if count > max_pages:
            raise IngestError(
                f"it has {count:,} pages, more than the limit of {max_pages:,} pages per file; "
                "split it or raise the limit (pqa ingest --max-pages)"
            )
        declared = "/PageLabels" in reader.trailer["/Root"]
        labels = list(reader.page_labels) if declared else [None] * count
        pages = []
        for index in range(count):
            pages.append(_page(reader.pages[index], index + 1, labels[index]))
            if report is not None:
                report(index + 1, count)
        return PdfText(tuple(pages), _metadata(reader), decrypted, declared)
    except IngestError:
        raise
    except LimitReachedError as exc:
        raise IngestError(
            f"a compressed stream in it expands past pypdf's safety limit (a decompression bomb?): {exc}"
        ) from None
    except (DependencyError, FileNotDecryptedError) as exc:
        raise IngestError(f"it is encrypted in a way that cannot be opened here ({exc}); decrypt it first") from None
    except (MemoryError, RecursionError):
        raise  # the sandbox reports these with its limits
    except Exception as exc:  # the worker's boundary: any other pypdf failure is one line in the report
        raise IngestError(f"pypdf cannot read it ({type(exc).__name__}: {_short(exc)}); re-export the PDF") from None


def _open(path: str) -> tuple[Any, bool]:
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import EmptyFileError, PdfReadError

    try:
        reader = PdfReader(path, strict=False)
    except EmptyFileError:
        raise IngestError("the file is empty") from None
    except PdfReadError as exc:
        raise IngestError(f"not a readable PDF ({_short(exc)}); check that the file is complete") from None
    if not reader.is_encrypted:
        return reader, False
    if reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise IngestError(
            "it is encrypted with a password; decrypt it (for example qpdf --decrypt --password=... IN OUT) "
            "and ingest the copy"
        )
    return reader, True


def _fatal() -> tuple[type[BaseException], ...]:
    from pypdf.errors import LimitReachedError

    return (LimitReachedError, MemoryError, RecursionError)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] or type(exc).__name__


def _metadata(reader: Any) -> dict[str, str]:
    try:
        info = reader.metadata or {}
    except Exception:  # a broken information dictionary only loses the metadata, not the text
        return {}
    out: dict[str, str] = {}
    for key in ("/Title", "/Author", "/Subject", "/Keywords", "/CreationDate", "/Producer", "/Creator"):
        value = info.get(key)
        if value is not None and str(value).strip():
            out[key.lstrip("/").lower()] = " ".join(str(value).split())
    return out


def _page(page: Any, number: int, label: str | None) -> PageText:
    width = float(page.mediabox.width)
    try:
        lines = _layout_lines(page)
    except _fatal():
        raise
    except Exception:  # pypdf's layout helpers failed on this page: fall back to its plain text
        lines = None
    if not lines:
        lines = _plain_lines(page)
    return PageText(number, tuple(lines), label, width)


def _layout_lines(page: Any) -> list[Line]:
    from pypdf._text_extraction import _layout_mode
    from pypdf.generic import ArrayObject, ContentStream, StreamObject

    contents = page.get("/Contents")
    contents = contents.get_object() if contents is not None else None
    if not isinstance(contents, ArrayObject | StreamObject):
        return []
    operations: list[Any] = list(ContentStream(contents, page.pdf, "bytes").operations)
    rotation = _rotation(page)
    if rotation is not None:
        operations = [([], b"q"), (rotation, b"cm"), *operations, ([], b"Q")]
    groups = _layout_mode.text_show_operations(iter(operations), page._layout_mode_fonts(), True, None)
    lines = []
    for y, runs in _by_height(groups):
        line = assemble_line(y, runs)
        if line is not None:
            lines.append(line)
    return lines


def _by_height(groups: list[Any]) -> list[tuple[float, list[tuple[float, float, float, str]]]]:
    """Text runs grouped into lines by their baseline, top to bottom.

    Runs whose baselines are within half a font height share a line (a raised footnote number
    joins its line); pypdf's own grouping, which merges runs up to a whole font height apart,
    would join a running header to the body line just below it.
    """
    ordered = sorted(groups, key=lambda g: -g["ty"] * g["flip_sort"])
    lines: list[tuple[float, float, list[Any]]] = []  # (baseline, font height, runs)
    for group in ordered:
        y, height = group["ty"] * group["flip_sort"], group["font_height"]
        if lines and abs(lines[-1][0] - y) <= 0.5 * max(height, lines[-1][1]):
            _, tallest, runs = lines[-1]
            runs.append(group)
            if height > tallest:
                lines[-1] = (y, height, runs)
        else:
            lines.append((y, height, [group]))
    return [
        (round(y, 1), [(r["tx"], r["displaced_tx"], r["font_height"], r["text"]) for r in runs]) for y, _, runs in lines
    ]


def _rotation(page: Any) -> list[float] | None:
    """The matrix that turns a page with /Rotate upright, as pypdf's transfer_rotation_to_content does."""
    from pypdf import Transformation

    rotate = int(page.rotation or 0) % 360
    if rotate == 0:
        return None
    box = page.mediabox
    matrix = (
        Transformation()
        .translate(-float(box.left + box.width / 2), -float(box.bottom + box.height / 2))
        .rotate(-rotate)
    )
    corners = [matrix.apply_on(box.lower_left), matrix.apply_on(box.upper_right)]
    matrix = matrix.translate(-min(c[0] for c in corners), -min(c[1] for c in corners))
    return [float(v) for v in matrix.ctm]


def assemble_line(y: float, runs: list[tuple[float, float, float, str]]) -> Line | None:
    """Runs (x0, x1, font height, text) at one height -> a Line; words joined, wide gaps start a new piece."""
    runs = sorted((r for r in runs if r[3].translate(_CONTROL).strip()), key=lambda r: r[0])
    if not runs:
        return None
    runs = _mark_superscripts(runs)
    groups: list[list[tuple[float, float, float, str]]] = [[runs[0]]]
    for run in runs[1:]:
        previous = groups[-1]
        reach = max(r[1] for r in previous)
        if run[0] - reach > PIECE_GAP * max(run[2], previous[-1][2], 1.0):
            groups.append([run])
        else:
            previous.append(run)
    pieces = tuple(_piece(group) for group in groups)
    size = max(pieces, key=lambda p: len(p.text)).size
    return Line(y, size, pieces)


def _mark_superscripts(runs: list[tuple[float, float, float, str]]) -> list[tuple[float, float, float, str]]:
    """Wrap lone numbers set in a much smaller font than the line's words in CALL_OPEN/CALL_CLOSE."""
    wordy = [r[2] for r in runs if sum(c.isalpha() for c in r[3]) >= 2]
    main = max(wordy) if wordy else max(r[2] for r in runs)
    marked = []
    for x0, x1, height, text in runs:
        match = _LONE_NUMBER.match(text)
        superscript = match is not None and height <= SUPERSCRIPT * main
        marked.append((x0, x1, height, f"{CALL_OPEN}{match.group(1)}{CALL_CLOSE}" if superscript and match else text))
    return marked


def _piece(runs: list[tuple[float, float, float, str]]) -> Piece:
    text = runs[0][3].translate(_CONTROL)
    x1 = runs[0][1]
    for start, end, height, raw in runs[1:]:
        chunk = raw.translate(_CONTROL)
        glued = chunk.startswith(CALL_OPEN)
        if (
            not glued
            and start - x1 > SPACE_GAP * max(height, 1.0)
            and not text.endswith(" ")
            and not chunk.startswith(" ")
        ):
            text += " "
        text += chunk
        x1 = max(x1, end)
    size = max(runs, key=lambda r: len(r[3].strip()))[2] or 10.0
    return Piece(round(runs[0][0], 1), round(x1, 1), text.strip(), round(size, 2))


def _plain_lines(page: Any) -> list[Line]:
    """Lines of pypdf's plain extraction, without geometry: one piece each, evenly spaced downwards."""
    try:
        text = page.extract_text() or ""
    except _fatal():
        raise
    except Exception:  # an unreadable page yields no text; the rest of the document may have some
        return []
    lines = []
    for index, raw in enumerate(text.splitlines()):
        cleaned = " ".join(raw.translate(_CONTROL).split())
        if cleaned:
            lines.append(Line(-float(index) * 12.0, 10.0, (Piece(0.0, float(len(cleaned)) * 5.0, cleaned, 10.0),)))
    return lines
