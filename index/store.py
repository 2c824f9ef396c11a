"""Generations on disk: each a self-describing folder, made current by an atomic rename of a pointer.

    var/index/
      CURRENT                  the current generation's name (replaced with os.replace)
      .lock                    held with flock by the one writer (released by the kernel if it dies)
      generations/<name>/      manifest.json + the files it lists, each with its sha256

A generation is written under a temporary name, flushed, renamed into place, and only then named
in CURRENT; a reader never sees half of one. Loading checks every file against the manifest.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
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

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
POINTER = "CURRENT"
KEEP_GENERATIONS = 5


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
    manifest: dict[str, Any]


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
        try:
            manifest = json.loads(manifest_path.read_text())
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(f"generation {name}: unreadable {MANIFEST} ({exc}); rebuild with: pqa ingest") from exc
        if manifest.get("schema_version") != SCHEMA_VERSION:
            raise IndexIncompatible(
                f"generation {name} has schema {manifest.get('schema_version')}, this program reads "
                f"{SCHEMA_VERSION}; rebuild with: pqa ingest"
            )
        if verify:
            for file_name, expected in manifest.get("files", {}).items():
                target = path / file_name
                if not target.is_file():
                    raise IndexCorrupt(f"generation {name}: {file_name} is missing; rebuild with: pqa ingest")
                if file_sha256(target) != expected:
                    raise IndexCorrupt(
                        f"generation {name}: {file_name} does not match its manifest (truncated or "
                        "changed); rebuild with: pqa ingest"
                    )
        return Generation(name, path, manifest)

    def current(self, verify: bool = True) -> Generation:
        name = self.current_name()
        if name is None:
            raise IndexNotFound(f"no index in {self.root}; run: pqa ingest corpus/ --index {self.root}")
        return self.open(name, verify=verify)

    # -- writing -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, wait: float = 0.0) -> Iterator[None]:
        """Hold the writer lock. The kernel frees it when the holder dies, so a kill -9 leaves none."""
        self.root.mkdir(parents=True, exist_ok=True)
        lock_path = self.root / ".lock"
        handle = lock_path.open("a+")
        try:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        handle.seek(0)
                        holder = handle.read().strip() or "another process"
                        raise IndexLocked(
                            f"{self.root} is being written by pid {holder}; wait for it to finish "
                            "or stop it, then run again"
                        ) from None
                    time.sleep(0.1)
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            yield
        finally:
            handle.close()

    def new_folder(self) -> Path:
        """A fresh temporary folder for a generation being written (hidden until committed)."""
        self.generations.mkdir(parents=True, exist_ok=True)
        self.sweep_temporary()
        path = self.generations / f".tmp-{os.getpid()}-{secrets.token_hex(4)}"
        path.mkdir()
        return path

    def commit(self, folder: Path, manifest: dict[str, Any]) -> Generation:
        """Checksum, flush and rename a written folder into a generation, then point CURRENT at it."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        name = f"g{stamp}-{secrets.token_hex(3)}"
        files = {str(p.relative_to(folder)): file_sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}
        manifest = {**manifest, "schema_version": SCHEMA_VERSION, "generation": name, "files": files}
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        _fsync_tree(folder)
        final = self.generations / name
        os.rename(folder, final)
        _fsync_dir(self.generations)
        self.point_to(name)
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

    def sweep_temporary(self) -> None:
        """Remove folders left by writers that died (only called while holding the lock)."""
        if not self.generations.is_dir():
            return
        for path in self.generations.iterdir():
            if path.name.startswith(".tmp-"):
                shutil.rmtree(path, ignore_errors=True)

    def prune(self, keep: int = KEEP_GENERATIONS) -> list[str]:
        """Delete all but the newest `keep` generations, never the current one."""
        current = self.current_name()
        names = self.names()
        doomed = [n for n in names[: max(0, len(names) - keep)] if n != current]
        for name in doomed:
            shutil.rmtree(self.generations / name, ignore_errors=True)
        return doomed
