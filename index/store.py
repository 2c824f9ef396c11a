"""Generations on disk: each a self-describing folder, made current by an atomic rename of a pointer.

    var/index/
      CURRENT                  the current generation's name (replaced with os.replace)
      .lock                    held with flock by the one writer (released by the kernel if it dies);
                               holds the writer's pid, emptied on a clean release
      generations/<name>/      manifest.json + the files it lists, each with its sha256

A generation is written under a temporary name, flushed, renamed into place, and only then named
in CURRENT; a reader never sees half of one. Loading checks every file against the manifest.
A writer killed at any moment leaves at most a `.tmp-*` folder (swept by the next writer) or a
complete generation that CURRENT does not name; the lock file then still holds its pid, which is
how the next writer knows, and says, that one died.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import logging
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import IndexCorrupt, IndexIncompatible, IndexLocked, IndexNotFound
from .manifest import MANIFEST, FileEntry, Manifest

POINTER = "CURRENT"
KEEP_GENERATIONS = 5

log = logging.getLogger("pqa.store")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Generation:
    """A generation folder and its manifest, checked."""

    name: str
    path: Path
    manifest: Manifest


@dataclass(frozen=True)
class GenerationSummary:
    """One line of `pqa index list`: a generation, whether it is current, and what is wrong with it if anything."""

    name: str
    current: bool
    created: str | None
    documents: int | None
    passages: int | None
    model: str | None
    problem: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "current": self.current,
            "created": self.created,
            "documents": self.documents,
            "passages": self.passages,
            "model": self.model,
            "problem": self.problem,
        }


@dataclass
class LockHold:
    """What taking the writer lock found: a writer that died holding it, and what it left behind."""

    dead_pid: int | None = None
    swept: list[str] | None = None

    @property
    def recovered(self) -> str | None:
        if self.dead_pid is None and not self.swept:
            return None
        who = f"writer pid {self.dead_pid}" if self.dead_pid is not None else "a writer"
        left = f"; removed its unfinished {', '.join(self.swept)}" if self.swept else ""
        return f"the last {who} stopped without finishing (killed?){left}"


class Store:
    """The index directory: lists, reads, writes and points at generations."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.generations = self.root / "generations"

    # -- reading -----------------------------------------------------------------------------

    def current_name(self) -> str | None:
        try:
            name = (self.root / POINTER).read_text().strip()
        except FileNotFoundError:
            return None
        return name or None

    def names(self) -> list[str]:
        """Generation folders present on disk, oldest first (names sort by creation time)."""
        if not self.generations.is_dir():
            return []
        return sorted(p.name for p in self.generations.iterdir() if p.is_dir() and not p.name.startswith("."))

    def open(self, name: str, verify: bool = True) -> Generation:
        """Read and check a generation's manifest (and, with `verify`, every file's sha256)."""
        path = self.generations / name
        manifest_path = path / MANIFEST
        if not manifest_path.is_file():
            raise IndexCorrupt(f"generation {name} in {self.root} has no {MANIFEST}; rebuild with: pqa ingest")
        manifest = Manifest.load(manifest_path)
        if verify:
            for entry in manifest.files:
                target = path / entry.name
                if not target.is_file():
                    raise IndexCorrupt(f"generation {name}: {entry.name} is missing; rebuild with: pqa ingest")
                if file_sha256(target) != entry.sha256:
                    raise IndexCorrupt(
                        f"generation {name}: {entry.name} does not match its manifest (truncated or "
                        "changed); rebuild with: pqa ingest"
                    )
        return Generation(name, path, manifest)

    def current(self, verify: bool = True) -> Generation:
        name = self.current_name()
        if name is None:
            raise IndexNotFound(f"no index in {self.root}; run: pqa ingest corpus/ --index {self.root}")
        return self.open(name, verify=verify)

    def summaries(self) -> list[GenerationSummary]:
        """Every generation on disk, oldest first, checked against its manifest."""
        current = self.current_name()
        out = []
        for name in self.names():
            manifest: Manifest | None = None
            problem = None
            try:
                manifest = self.open(name).manifest
            except (IndexCorrupt, IndexIncompatible) as exc:
                problem = str(exc)
            out.append(
                GenerationSummary(
                    name=name,
                    current=name == current,
                    created=manifest.created if manifest else None,
                    documents=manifest.counts.documents if manifest else None,
                    passages=manifest.counts.passages if manifest else None,
                    model=manifest.model.name if manifest else None,
                    problem=problem,
                )
            )
        return out

    # -- writing -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, wait: float = 0.0) -> Iterator[LockHold]:
        """Hold the writer lock, waiting up to `wait` seconds for another writer.

        The kernel frees the lock when its holder dies, so a kill -9 never blocks the next run; the pid
        left in the file tells the next holder that its predecessor died, and leftovers are swept.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        handle = (self.root / ".lock").open("a+")
        try:
            self._acquire(handle, wait)
            handle.seek(0)
            left = handle.read().strip()
            hold = LockHold(dead_pid=int(left) if left.isdigit() else None)
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            hold.swept = self.sweep_temporary()
            if hold.recovered:
                log.warning("%s: %s", self.root, hold.recovered)
            try:
                yield hold
            finally:
                handle.seek(0)
                handle.truncate()
                handle.flush()
        finally:
            handle.close()

    def _acquire(self, handle: Any, wait: float) -> None:
        deadline = time.monotonic() + wait
        announced = False
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip()
                who = f"pid {holder}" if holder else "another process"
                if time.monotonic() >= deadline:
                    raise IndexLocked(
                        f"{self.root} is being written by {who}; wait for it to finish (or pass --wait SECONDS), "
                        "or stop it, then run again"
                    ) from None
                if not announced:
                    log.info("waiting up to %.0f s for %s, which is writing %s", wait, who, self.root)
                    announced = True
                time.sleep(0.1)

    def new_folder(self) -> Path:
        """A fresh temporary folder for a generation being written (hidden until committed)."""
        self.generations.mkdir(parents=True, exist_ok=True)
        path = self.generations / f".tmp-{os.getpid()}-{secrets.token_hex(4)}"
        path.mkdir()
        return path

    def seal(self, folder: Path, manifest: Manifest) -> Generation:
        """Checksum, flush and rename a written folder into a generation (not yet current)."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        name = f"g{stamp}-{secrets.token_hex(3)}"
        files = tuple(
            FileEntry(str(p.relative_to(folder)), file_sha256(p)) for p in sorted(folder.rglob("*")) if p.is_file()
        )
        manifest = dataclasses.replace(manifest, generation=name, files=files)
        manifest.save(folder / MANIFEST)
        _fsync_tree(folder)
        final = self.generations / name
        os.rename(folder, final)
        _fsync_dir(self.generations)
        return Generation(name, final, manifest)

    def point_to(self, name: str) -> None:
        """Atomically make `name` the current generation."""
        if not (self.generations / name / MANIFEST).is_file():
            raise IndexNotFound(f"no generation {name} in {self.root}; see: pqa index list --index {self.root}")
        tmp = self.root / f".{POINTER}.{os.getpid()}.tmp"
        with tmp.open("w") as handle:
            handle.write(name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.root / POINTER)
        _fsync_dir(self.root)

    def sweep_temporary(self) -> list[str]:
        """Remove what writers that died left half-done (only called while holding the lock); returns the names."""
        swept = []
        if self.generations.is_dir():
            for path in sorted(self.generations.iterdir()):
                if path.name.startswith(".tmp-"):
                    shutil.rmtree(path, ignore_errors=True)
                    swept.append(path.name)
        for path in sorted(self.root.glob(f".{POINTER}.*.tmp")):
            path.unlink(missing_ok=True)
            swept.append(path.name)
        return swept

    def prune(self, keep: int = KEEP_GENERATIONS) -> list[str]:
        """Delete all but the newest `keep` generations, never the current one."""
        current = self.current_name()
        names = self.names()
        doomed = [n for n in names[: max(0, len(names) - keep)] if n != current]
        for name in doomed:
            shutil.rmtree(self.generations / name, ignore_errors=True)
        return doomed
