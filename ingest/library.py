"""Files on disk -> Documents: discovery, sidecar metadata, versions (sha256) and parsing by format.

A document's metadata comes from a sidecar next to it, `NAME.meta.toml` (for `NAME.md`, `NAME.pdf`...),
when present; every key is optional (see the README). Its id is the sidecar's `id` or the file's
name made into a slug, so it stays the same while the file keeps its name.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.records import Document, DocumentInfo, Passage

from .errors import IngestError
from .inline import slug
from .markdown import parse_markdown

SIDECAR_SUFFIX = ".meta.toml"
# Change whenever parsing changes what passages a file gives, so unchanged files are parsed again.
PARSER_VERSION = 1
Parser = Callable[[bytes, str, str | None], list[Passage]]


def _parse_markdown_bytes(data: bytes, document_id: str, title: str | None) -> list[Passage]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(f"not UTF-8 text (byte {exc.start}); save it as UTF-8 and ingest again") from exc
    return parse_markdown(text, document_id, title)


PARSERS: dict[str, tuple[str, Parser]] = {
    ".md": ("markdown", _parse_markdown_bytes),
    ".markdown": ("markdown", _parse_markdown_bytes),
    ".txt": ("text", _parse_markdown_bytes),
}


@dataclass(frozen=True)
class Source:
    """A file to ingest: where it is, its id, its version and its sidecar metadata."""

    path: Path
    document_id: str
    sha256: str
    metadata: dict[str, Any]

    @property
    def format(self) -> str:
        return PARSERS[self.path.suffix.lower()][0]


@dataclass(frozen=True)
class Failure:
    path: str
    reason: str


def sidecar_for(path: Path) -> Path | None:
    for candidate in (path.with_name(path.stem + SIDECAR_SUFFIX), path.with_name(path.name + SIDECAR_SUFFIX)):
        if candidate.is_file():
            return candidate
    return None


def read_sidecar(path: Path) -> dict[str, Any]:
    sidecar = sidecar_for(path)
    if sidecar is None:
        return {}
    try:
        return tomllib.loads(sidecar.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise IngestError(
            f"its metadata file {sidecar.name} is not valid TOML ({exc}); fix it and ingest again"
        ) from exc


def _version(path: Path) -> str:
    """sha256 of the file's bytes, followed by its sidecar's when there is one (a metadata edit is a new version)."""
    digest = hashlib.sha256(path.read_bytes())
    sidecar = sidecar_for(path)
    if sidecar is None:
        return digest.hexdigest()
    return hashlib.sha256((digest.hexdigest() + hashlib.sha256(sidecar.read_bytes()).hexdigest()).encode()).hexdigest()


def discover(paths: Iterable[Path | str]) -> tuple[list[Source], list[Failure]]:
    """Every file of a supported format under `paths` (files or folders), sorted; unreadable ones as failures."""
    files: list[Path] = []
    failures: list[Failure] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(p for p in sorted(path.rglob("*")) if p.is_file() and _wanted(p))
        elif path.is_file():
            if path.suffix.lower() in PARSERS:
                files.append(path)
            else:
                failures.append(
                    Failure(str(path), f"unsupported format {path.suffix or '(none)'}; supported: {_formats()}")
                )
        else:
            failures.append(Failure(str(path), "no such file or folder"))
    sources: list[Source] = []
    taken: set[str] = set()
    for path in files:
        try:
            metadata = read_sidecar(path)
            document_id = _unique(slug(str(metadata.get("id") or path.stem)), path, taken)
            sources.append(Source(path, document_id, _version(path), metadata))
        except (IngestError, OSError) as exc:
            failures.append(Failure(str(path), str(exc)))
    return sources, failures


def _wanted(path: Path) -> bool:
    return (
        path.suffix.lower() in PARSERS
        and not path.name.endswith(SIDECAR_SUFFIX)
        and not any(part.startswith(".") for part in path.parts)
    )


def _formats() -> str:
    return ", ".join(sorted(PARSERS))


def _unique(document_id: str, path: Path, taken: set[str]) -> str:
    if document_id in taken:
        document_id = f"{document_id}-{hashlib.sha256(str(path).encode()).hexdigest()[:6]}"
    taken.add(document_id)
    return document_id


def load(source: Source) -> Document:
    """Parse one source into a Document. Raises IngestError with the reason when it cannot."""
    fmt, parser = PARSERS[source.path.suffix.lower()]
    meta = source.metadata
    title = meta.get("title")
    try:
        data = source.path.read_bytes()
    except OSError as exc:
        raise IngestError(f"cannot read it: {exc.strerror}") from exc
    if not data.strip():
        raise IngestError("the file is empty")
    passages = parser(data, source.document_id, title)
    if not any(p.kind != "heading" for p in passages):
        raise IngestError("no text to index was found in it")
    info = DocumentInfo(
        id=source.document_id,
        title=str(title or _first_heading(passages) or source.path.stem),
        source=str(source.path),
        sha256=source.sha256,
        format=fmt,
        body=_str(meta.get("body")),
        session=_str(meta.get("session")),
        symbol=_str(meta.get("symbol")),
        date=_str(meta.get("date")),
        year=int(meta["year"]) if meta.get("year") is not None else None,
        language=_str(meta.get("language")),
        source_url=_str(meta.get("source_url") or meta.get("url")),
        status=_str(meta.get("status")),
        publisher=_str(meta.get("publisher")),
        pages=max((p.page for p in passages if p.page is not None), default=None),
    )
    return Document(info, tuple(passages))


def load_all(sources: Sequence[Source]) -> tuple[list[Document], list[Failure]]:
    documents: list[Document] = []
    failures: list[Failure] = []
    for source in sources:
        try:
            documents.append(load(source))
        except IngestError as exc:
            failures.append(Failure(str(source.path), str(exc)))
    return documents, failures


def _first_heading(passages: Sequence[Passage]) -> str | None:
    return next((p.text for p in passages if p.kind == "heading"), None)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
