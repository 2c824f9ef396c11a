"""Paths -> the files to ingest: discovery, sidecar metadata, document ids and versions (sha256).

Nothing outside the folder being ingested is read: a file that is a symbolic link leading out of it is
refused with one line in the report, and so is a sidecar that breaks the rules of `sidecar`. A file whose
name is not valid UTF-8 is refused too (its name would reach titles, the index's files and every response
that cites it). A copy of a file under another name is skipped, one line in the report but not a failure.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.unicode import unicode_problem

from .errors import IngestError
from .formats import PARSERS
from .inline import slug
from .metadata import document_name
from .sidecar import SIDECAR_SUFFIX, read_sidecar

# Files about a folder rather than documents in it (provenance notes, licences): not ingested.
_NOT_DOCUMENTS = frozenset(
    {"source.txt", "sources.md", "license", "license.txt", "license.md", "copying", "notice.txt"}
)


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


def failure(path: Path | str, reason: str) -> Failure:
    """A report line; a name that is not valid UTF-8 is shown with its bad bytes escaped ("bad\\xff.md")."""
    return Failure(shown(path), reason)


def shown(path: Path | str) -> str:
    return os.fsencode(path).decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class Discovery:
    """What `scan` found: the files to ingest, the files that cannot be, and the copies skipped (not failures)."""

    sources: list[Source]
    failures: list[Failure]
    skipped: list[Failure]


def discover(paths: Iterable[Path | str], held: Mapping[Path, str] | None = None) -> tuple[list[Source], list[Failure]]:
    """`scan`'s sources and failures (its skipped copies left out)."""
    found = scan(paths, held)
    return found.sources, found.failures


def scan(paths: Iterable[Path | str], held: Mapping[Path, str] | None = None) -> Discovery:
    """Every file of a supported format under `paths` (files or folders), sorted; unreadable ones as failures.

    `held` maps the files of the index's current generation (resolved paths) to their document ids: a file keeps
    the id it has (ids are in every link and filter), so a new file whose name gives the same id is the one told
    apart (`_ids`), whichever sorts first and however the folder is spelled."""
    files: list[tuple[Path, Path]] = []  # (file, the folder it was found in)
    failures: list[Failure] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found, refused = _walk(path)
            files.extend((file, path) for file in found)
            failures.extend(refused)
        elif path.is_file():
            if path.suffix.lower() in PARSERS:
                files.append((path, path.parent))
            else:
                failures.append(failure(path, f"unsupported format {path.suffix or '(none)'}; supported: {_formats()}"))
        else:
            failures.append(failure(path, "no such file or folder"))
    read: list[_Found] = []
    for path, root in _once(files):
        try:
            read.append(_read(path, root))
        except (IngestError, OSError) as exc:
            failures.append(failure(path, str(exc)))
    read, copies = _distinct(read, held or {})
    ids = _ids(read, held or {})
    sources = [Source(f.path, ids[f.path], f.version, f.metadata) for f in read]
    return Discovery(sources, failures, copies)


@dataclass(frozen=True)
class _Found:
    """A file found and read, before its id is chosen: the id it wants and its version."""

    path: Path
    root: Path  # the folder it was found in
    resolved: Path
    wanted: str  # its sidecar's `id`, else its name as a slug
    version: str
    metadata: dict[str, Any]


def _distinct(found: list[_Found], held: Mapping[Path, str]) -> tuple[list[_Found], list[Failure]]:
    """`found` less the copies (the same bytes and the same sidecar under another name: every passage of one would
    be a second answer beside the other's, with the same citation), each one line in the report (skipped, not
    failed: nothing is wrong with it); of a set of copies the file that the index holds stays, else the first found."""
    first: dict[str, Path] = {}
    for f in sorted(found, key=lambda f: f.resolved not in held):
        first.setdefault(f.version, f.path)
    kept = [f for f in found if first[f.version] == f.path]
    copies = [
        failure(
            f.path,
            f"the same file as {shown(first[f.version])} (its bytes and its metadata), indexed once, from that one",
        )
        for f in found
        if first[f.version] != f.path
    ]
    return kept, copies


def _once(files: Iterable[tuple[Path, Path]]) -> list[tuple[Path, Path]]:
    """`files` less those named again (a folder and a file in it both given): each file is one document."""
    seen: set[Path] = set()
    kept = []
    for path, root in files:
        if (resolved := path.resolve()) not in seen:
            seen.add(resolved)
            kept.append((path, root))
    return kept


def _read(path: Path, root: Path) -> _Found:
    if unicode_problem(str(path)):
        raise IngestError("its name is not valid UTF-8 (the bytes shown as \\xNN); rename it and ingest again")
    metadata, sidecar = read_sidecar(path, root)
    wanted = slug(str(metadata.get("id") or document_name(path)))
    return _Found(path, root, path.resolve(), wanted, _version(path, sidecar), metadata)


# The hex digits of a told-apart id, in the order tried ("hotline-0cf7c1"; more only where those are taken too)
_WIDTHS = (6, 12, 64)


def _ids(found: Sequence[_Found], held: Mapping[Path, str]) -> dict[Path, str]:
    """Each file's document id: the one it wants (its sidecar's `id`, else its name as a slug), unless another
    file has it. A file that holds an id in the index keeps it while it still wants it (first pass); the others
    take what they want in the order found (each folder's files sorted), and where it is taken, it followed by
    six hex digits of the file's path within the folder it was found in ("hotline-0cf7c1": the same whether the
    folder is named by an absolute or a relative path)."""
    ids: dict[Path, str] = {}
    taken: set[str] = set()
    for f in found:
        kept = held.get(f.resolved)
        if kept is not None and kept not in taken and (kept == f.wanted or _suffixed(kept, f.wanted)):
            ids[f.path] = kept
            taken.add(kept)
    for f in found:
        if f.path in ids:
            continue
        document_id, digest = f.wanted, hashlib.sha256(_within(f.path, f.root).encode()).hexdigest()
        for width in _WIDTHS:
            if document_id not in taken:
                break
            document_id = f"{f.wanted}-{digest[:width]}"
        ids[f.path] = document_id
        taken.add(document_id)
    return ids


def _suffixed(document_id: str, wanted: str) -> bool:
    """Whether `document_id` is `wanted` told apart by `_ids` ("hotline-0cf7c1" of "hotline")."""
    head, _, tail = document_id.rpartition("-")
    return head == wanted and len(tail) in _WIDTHS and all(c in "0123456789abcdef" for c in tail)


def _within(path: Path, root: Path) -> str:
    """`path` relative to the folder it was found in, as posix text (its name where it was given itself)."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def _version(path: Path, sidecar: bytes) -> str:
    """sha256 of the file's bytes, followed by its sidecar's when there is one (a metadata edit is a new version)."""
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256")  # in blocks: a huge file is refused later, not loaded here
    if not sidecar:
        return digest.hexdigest()
    return hashlib.sha256((digest.hexdigest() + hashlib.sha256(sidecar).hexdigest()).encode()).hexdigest()


def _walk(folder: Path) -> tuple[list[Path], list[Failure]]:
    """Supported files under `folder`; symbolic links that lead outside it are refused."""
    root = folder.resolve()
    found: list[Path] = []
    refused: list[Failure] = []
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            target = path.resolve()
            if path.name.endswith(SIDECAR_SUFFIX):
                continue  # a sidecar's link is judged with its document (sidecar_for)
            if not target.is_relative_to(root):
                refused.append(
                    failure(path, f"a symbolic link to {target}, outside {folder}; copy the file in instead")
                )
                continue
            if target.is_dir() or not _wanted(path, folder):
                continue  # a link inside the folder: its target is ingested where it lies
        if path.is_file() and _wanted(path, folder):
            found.append(path)
    return found, refused


def _wanted(path: Path, folder: Path) -> bool:
    """A document under `folder`: of a supported format, not a sidecar or a folder's note, and not hidden below
    `folder` (".git/", ".cache/"); the folder's own path may be hidden ("~/.local/share/library")."""
    return (
        path.suffix.lower() in PARSERS
        and path.name.lower() not in _NOT_DOCUMENTS
        and not path.name.endswith(SIDECAR_SUFFIX)
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


def _formats() -> str:
    return ", ".join(sorted(PARSERS))
