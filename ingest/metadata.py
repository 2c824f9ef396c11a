"""What is known about a document: its sidecar first, then what the file says about itself.

Without a sidecar title, a document's title is, in this order: the name a law gives itself in its first
provision ("These Regulations may be cited as the Refugees (General) Regulations, 2024"); the title the
file declares (a PDF's information dictionary or first page, an HTML page's <h1>, a Word file's core
properties); the first heading that names the document rather than one of its units ("Objective 1" is a
unit), in the document's main language when a bilingual file gives it in two ("##Verdrag ..." then
"####Convention ..." over English text); the file's name. A title set in capitals is given in title case.

A file named by a language code ("eng.html", "fr.md") is one translation among others: its id comes from
its title, which HTML and Markdown give cheaply, not from "eng".
"""

from __future__ import annotations

import datetime
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from index.records import DocumentInfo, Passage

from .citations import caps_to_title
from .errors import IngestError
from .formats import Parsed
from .headings import dateline, is_structural
from .language import title_language
from .noise import words

_FOLDER_NAMED = frozenset({"readme", "index", "default"})
# ISO 639-1, and the ISO 639-2/3 codes of widely written languages: how translations are named.
_ISO_639_1 = """aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de
dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io
is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt
my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn
so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu"""
_ISO_639_3 = """afr alb amh ara arm aze baq bel ben bul bur cat ces chi cym cze dan deu dut ell eng est eus fas fil fin
fra fre geo ger gle gre hau heb hin hrv hun hye ibo ice ind isl ita jpn kat kaz khm kin kor kur lao lav lin lit
mac may mkd mlt mon msa mya nep nld nor orm per pol por prs pus ron rum run rus sin slk slo slv som spa sqi srp
swa swe tam tgl tha tir tur ukr urd uzb vie wel xho yor zho zul"""
LANGUAGE_CODES = frozenset(_ISO_639_1.split()) | frozenset(_ISO_639_3.split())
_CITED_AS = re.compile(
    r"\b(?:may|shall) be cited as (?P<the>the )?(?P<title>(?:[^.;]|\.(?=\s*\d))+?)(?=[.;]|\s+and\b|$)", re.IGNORECASE
)
# DocumentInfo's fields (declared once, in index/records.py) that the file and the index give, never a sidecar key.
_FROM_FILE = frozenset({"id", "source", "sha256", "format", "pages", "set_aside", "extra"})
_SIDECAR_FIELDS = frozenset(f.name for f in fields(DocumentInfo)) - _FROM_FILE  # each set by the key of its name
# Copied as text: every sidecar field but those describe() reads in their own way.
_TEXT_FIELDS = tuple(
    f.name for f in fields(DocumentInfo) if f.name in _SIDECAR_FIELDS - {"title", "year", "source_url", "aliases"}
)
_EXTRA = (str, int, float, datetime.date)  # the values a sidecar key of its own may have (ingest/sidecar.py)
_KNOWN = _SIDECAR_FIELDS | {"id", "url", "exclude", "note"}  # the sidecar keys that are not `extra`


def file_name(path: Path) -> str:
    """The name a file gives a document: its stem, URL escapes undone; a folder's README is named by the folder."""
    stem = unquote(path.stem)
    return path.parent.name if stem.lower() in _FOLDER_NAMED and path.parent.name else stem


def document_name(path: Path) -> str:
    """What a document's id is made from when its sidecar gives none: the file's name, or the title of a
    file named by a language code."""
    name = file_name(path)
    if re.sub(r"[-_][a-z]{2,4}$", "", name.lower()) in LANGUAGE_CODES:
        return peek_title(path) or f"{path.parent.name} {name}"
    return name


def peek_title(path: Path) -> str | None:
    """The title an HTML page (<h1>, else <title>) or a Markdown file (its first heading) declares; None otherwise."""
    try:
        head = path.read_bytes()[:65536].decode("utf-8", errors="ignore")
    except OSError:
        return None
    if path.suffix.lower() in (".html", ".htm"):
        for tag in ("h1", "title"):
            found = re.search(rf"<{tag}\b[^>]*>(.*?)</{tag}>", head, re.IGNORECASE | re.DOTALL)
            text = " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split()) if found else ""
            if text:
                return text
        return None
    if path.suffix.lower() in (".md", ".markdown", ".txt"):
        heading = re.search(r"^\s{0,3}#{1,6}\s*(\S.*?)\s*#*\s*$", head, re.MULTILINE)
        return heading.group(1).strip("* ") if heading and not is_structural(heading.group(1)) else None
    return None


def describe(
    path: Path, document_id: str, sha256: str, sidecar: dict[str, Any], fmt: str, parsed: Parsed
) -> DocumentInfo:
    """Sidecar metadata first, then what the file says about itself."""
    meta = {**parsed.metadata, **{k: v for k, v in sidecar.items() if v is not None}}
    passages = parsed.passages
    year = meta.get("year") or (str(meta["date"])[:4] if meta.get("date") else None)
    languages = Counter(p.language for p in passages if p.language and p.searchable)
    shared = sorted(code for code, n in languages.items() if n >= 0.2 * sum(languages.values()))
    main = _main_language(passages, languages, shared)
    if not meta.get("language") and main:
        meta["language"] = main
    meta.pop("languages", None)  # the sidecar's choice of languages, not a fact about the text
    if len(shared) > 1:
        meta["languages"] = ", ".join(shared)
    title = _str(sidecar.get("title")) or own_title(_str(parsed.metadata.get("title")), passages, main, path)
    text: dict[str, Any] = {name: _str(meta.get(name)) for name in _TEXT_FIELDS}
    return DocumentInfo(
        id=document_id,
        title=title,
        source=str(path),
        sha256=sha256,
        format=fmt,
        year=int(year) if year is not None and str(year).isdigit() else None,
        source_url=_str(meta.get("source_url") or meta.get("url")),
        pages=parsed.pages or max((p.page for p in passages if p.page is not None), default=None),
        aliases=_aliases(meta.get("aliases")),
        extra={k: _extra(v) for k, v in meta.items() if k not in _KNOWN and isinstance(v, _EXTRA)},
        **text,
    )


def _main_language(passages: Sequence[Passage], languages: Counter[str], shared: Sequence[str]) -> str | None:
    """The most common language; in a document in two languages or more, the one its text starts in."""
    if len(shared) > 1:
        first = [p for p in passages if p.language in shared and p.searchable][:20]
        opening: Counter[str] = Counter()
        for p in first:
            opening[p.language or ""] += len(p.text)  # by length: a one-line note in the other language counts little
        return opening.most_common(1)[0][0]
    return languages.most_common(1)[0][0] if languages else None


def own_title(declared: str | None, passages: Sequence[Passage], language: str | None, path: Path) -> str:
    """The title a document gives itself (see the module's docstring for the order)."""
    title = cited_title(passages) or declared or title_heading(passages, language)
    if not title:
        name = re.sub(r"[_\s]+", " ", file_name(path)).strip()
        return name[:1].upper() + name[1:]
    vocabulary = {w.lower() for p in passages for w in words(p.text) if not w.isupper()}
    return caps_to_title(title, vocabulary)


def cited_title(passages: Sequence[Passage]) -> str | None:
    """The name a law gives itself in its first numbered provision: "... may be cited as the X Regulations, 2024"."""
    first = next((p for p in passages if p.searchable and p.kind in ("article", "paragraph")), None)
    found = _CITED_AS.search(first.text) if first is not None else None
    if found is None:
        return None
    title = found.group("title").strip().rstrip(",")
    return f"The {title}" if found.group("the") else title


def title_heading(passages: Sequence[Passage], language: str | None) -> str | None:
    """The first heading before the document's first unit that names the document, in its main language if any."""
    names: list[str] = []
    for p in passages:
        if p.kind != "heading":
            if p.searchable:
                break  # the title block is over when the text starts
            continue
        if is_structural(p.text):
            break
        if not dateline(p.text) and words(p.text):
            names.append(p.text)
    same = [n for n in names if language is not None and title_language(n) == language]
    found = same or names
    return found[0] if found else None


def _aliases(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise IngestError('its sidecar\'s "aliases" must be a list of names, e.g. aliases = ["GCM"]')
    return tuple(v.strip() for v in value if v.strip())


def _extra(value: str | int | float | datetime.date) -> str:
    """A sidecar key of its own as `extra` shows it (a TOML date as 2024-10-01)."""
    return value.isoformat() if isinstance(value, datetime.date) else str(value)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
