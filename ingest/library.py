"""Files on disk -> Documents: discovery, sidecar metadata, versions (sha256) and parsing by format.

A document's metadata comes from a sidecar next to it, `NAME.meta.toml` (for `NAME.md`, `NAME.pdf`...),
when present; every key is optional (see the README). Without one, it comes from the file itself
(a PDF's information dictionary and first page, an HTML page's <title>). A document's id is the
sidecar's `id` or the file's name made into a slug (the folder's name for README.md and index
files), so it stays the same while the file keeps its name.

A file that cannot be ingested becomes a Failure with one line saying why and what to do; the
rest of the batch goes on. Files that are symbolic links to somewhere outside the folder being
ingested are refused, so a corpus folder cannot pull in files from elsewhere on the machine.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from index.records import Document

from .citations import cite
from .errors import IngestError
from .formats import PARSERS, Request, check_content
from .inline import slug
from .metadata import describe, document_name
from .noise import set_aside as set_aside_noise
from .sandbox import Limits
from .selection import select

SIDECAR_SUFFIX = ".meta.toml"
# Change whenever parsing changes what passages a file gives, so unchanged files are parsed again.
PARSER_VERSION = 4
Progress = Callable[[str, int, int], None]
# Files about a folder rather than documents in it (provenance notes, licences): not ingested.
_NOT_DOCUMENTS = frozenset(
    {"source.txt", "sources.md", "license", "license.txt", "license.md", "copying", "notice.txt"}
)

__all__ = ["PARSERS", "PARSER_VERSION", "Failure", "Source", "discover", "load", "load_all"]


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
            found, refused = _walk(path)
            files.extend(found)
            failures.extend(refused)
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
            document_id = _unique(slug(str(metadata.get("id") or document_name(path))), path, taken)
            sources.append(Source(path, document_id, _version(path), metadata))
        except (IngestError, OSError) as exc:
            failures.append(Failure(str(path), str(exc)))
    return sources, failures


def _walk(folder: Path) -> tuple[list[Path], list[Failure]]:
    """Supported files under `folder`; symbolic links that lead outside it are refused."""
    root = folder.resolve()
    found: list[Path] = []
    refused: list[Failure] = []
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            target = path.resolve()
            if not target.is_relative_to(root):
                refused.append(
                    Failure(str(path), f"a symbolic link to {target}, outside {folder}; copy the file in instead")
                )
                continue
            if target.is_dir() or not _wanted(path):
                continue  # a link inside the folder: its target is ingested where it lies
        if path.is_file() and _wanted(path):
            found.append(path)
    return found, refused


def _wanted(path: Path) -> bool:
    return (
        path.suffix.lower() in PARSERS
        and path.name.lower() not in _NOT_DOCUMENTS
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


def load(source: Source, limits: Limits | None = None, progress: Callable[[int, int], None] | None = None) -> Document:
    """Parse one source into a Document. Raises IngestError with the reason when it cannot."""
    limits = limits or Limits()
    fmt, parser = PARSERS[source.path.suffix.lower()]
    meta = source.metadata
    title = None if meta.get("title") is None else str(meta["title"])
    data = _read(source.path, limits)
    check_content(source.path, data)
    parsed = parser(Request(source.path, data, source.document_id, title, limits, progress))
    passages, set_aside = select(set_aside_noise(parsed.passages, parsed.pages), meta)
    passages = cite(passages)
    if not any(p.searchable for p in passages):
        raise IngestError("no text to index was found in it")
    info = describe(source.path, source.document_id, source.sha256, meta, fmt, replace(parsed, passages=passages))
    return Document(replace(info, set_aside=tuple(set_aside)), tuple(passages))


def _read(path: Path, limits: Limits) -> bytes:
    try:
        size = path.stat().st_size
        if size > limits.max_mb * 1024 * 1024:
            raise IngestError(
                f"it is {size / 1048576:,.0f} MB, over the size limit of {limits.max_mb} MB per file; "
                "split it or raise the limit (pqa ingest --max-mb)"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"cannot read it: {exc.strerror}") from exc
    if not data.strip():
        raise IngestError("the file is empty")
    return data


def load_all(
    sources: Sequence[Source], progress: Progress | None = None, limits: Limits | None = None
) -> tuple[list[Document], list[Failure]]:
    """Parse every source; a source that fails becomes a Failure and the others go on.

    `progress(stage, done, total)` hears "documents" once per file and, for PDFs, the file's
    name once per page.
    """
    report = progress or (lambda *_: None)
    documents: list[Document] = []
    failures: list[Failure] = []
    for done, source in enumerate(sources):
        report("documents", done, len(sources))
        name = source.path.name

        def pages(page: int, total: int, name: str = name) -> None:
            report(name, page, total)

        try:
            documents.append(load(source, limits, pages))
        except IngestError as exc:
            failures.append(Failure(str(source.path), str(exc)))
    report("documents", len(sources), len(sources))
    return documents, failures
