"""`pqa serve --watch`: re-index when documents under the corpus change, once the burst of changes is over.

Only writes count (created, modified, closed after writing, deleted, moved) of files a parser reads
or their `.meta.toml` sidecars; reads do not (the re-index itself opens every file). A change is
acted on after `debounce` seconds without another, so an editor's burst of saves is one re-index.
A change that arrives while a job runs starts another job once that one ends.
(The poller of the index's CURRENT generation is another thing: service/follower.py.)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from watchdog.events import (
    EVENT_TYPE_CLOSED,
    EVENT_TYPE_CREATED,
    EVENT_TYPE_DELETED,
    EVENT_TYPE_MODIFIED,
    EVENT_TYPE_MOVED,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from index.store import Store
from ingest.library import PARSERS, SIDECAR_SUFFIX

from .jobs import Busy, Jobs
from .settings import Settings

log = logging.getLogger("pqa.corpuswatcher")
WRITES = frozenset({EVENT_TYPE_CREATED, EVENT_TYPE_MODIFIED, EVENT_TYPE_CLOSED, EVENT_TYPE_DELETED, EVENT_TYPE_MOVED})


class CorpusWatcher:
    """Calls `on_change()` once the corpus has been quiet for `debounce` seconds after a change.

    `on_change` returns False when it cannot act now (a job is running); it is then asked again.
    """

    def __init__(
        self,
        paths: Sequence[Path],
        on_change: Callable[[], bool],
        debounce: float = 1.0,
        ignore: Sequence[Path] = (),
    ) -> None:
        self.roots = [Path(p).resolve() for p in paths]
        self.ignore = [Path(p).resolve() for p in ignore]
        self.on_change = on_change
        self.debounce = debounce
        self.changes = 0
        self.triggers = 0
        self._last = 0.0
        self._pending = False
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._observer = Observer()
        self._thread = threading.Thread(target=self._loop, name="pqa-corpuswatcher", daemon=True)

    def start(self) -> None:
        handler = _Handler(self)
        for root in self.roots:
            if root.is_dir():
                self._observer.schedule(handler, str(root), recursive=True)
            elif root.parent.is_dir():
                self._observer.schedule(handler, str(root.parent), recursive=False)
            else:
                log.warning("not watching %s: no such file or folder", root)
        self._observer.start()
        self._thread.start()
        log.info("watching %s for changes", ", ".join(str(r) for r in self.roots))

    def stop(self) -> None:
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        self._observer.stop()
        self._observer.join(timeout=10)
        self._thread.join(timeout=10)

    def relevant(self, path: Path, is_directory: bool = False) -> bool:
        """A document or sidecar (or a folder) under a watched root, not hidden, not under an ignored folder."""
        if not is_directory and not (path.suffix.lower() in PARSERS or path.name.endswith(SIDECAR_SUFFIX)):
            return False
        if any(path.is_relative_to(folder) for folder in self.ignore):
            return False
        for root in self.roots:
            if root.is_file() or not root.exists():
                names = (root.name, root.stem + SIDECAR_SUFFIX, root.name + SIDECAR_SUFFIX)
                if path.parent == root.parent and path.name in names:
                    return True
            elif path.is_relative_to(root) and not any(p.startswith(".") for p in path.relative_to(root).parts):
                return True
        return False

    def changed(self) -> None:
        with self._wake:
            self.changes += 1
            self._last = time.monotonic()
            self._pending = True
            self._wake.notify_all()

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._wake:
                while not self._pending and not self._stop.is_set():
                    self._wake.wait()
                quiet = time.monotonic() - self._last
                if quiet < self.debounce:
                    self._wake.wait(self.debounce - quiet)
                    continue
                self._pending = False
            if self._stop.is_set():
                return
            if self.on_change():
                self.triggers += 1
            else:
                with self._wake:
                    self._pending = True  # busy: ask again after another quiet period
                    self._last = time.monotonic()


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: CorpusWatcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in WRITES:
            return
        if event.is_directory and event.event_type not in (EVENT_TYPE_DELETED, EVENT_TYPE_MOVED):
            return  # a folder's own modified/created events come with events for the files in it
        paths = [p for p in (event.src_path, getattr(event, "dest_path", "")) if p]
        if any(self.watcher.relevant(Path(_text(p)).absolute(), event.is_directory) for p in paths):
            self.watcher.changed()


def _text(path: str | bytes) -> str:
    return path.decode() if isinstance(path, bytes) else path


def watch_corpus(settings: Settings, jobs: Jobs) -> CorpusWatcher:
    """Start watching the configured corpus; each quiet period after changes starts one re-index job."""

    def start_job() -> bool:
        try:
            jobs.start("watch")
        except Busy:
            return False
        return True

    watcher = CorpusWatcher(settings.corpus, start_job, settings.watch_debounce, ignore=[settings.index_dir])
    watcher.start()
    if Store(settings.index_dir).current_name() is None:
        # nothing to serve and nothing will change until a file does: build the index from the corpus now
        log.info("no index in %s: building it from %s", settings.index_dir, ", ".join(map(str, settings.corpus)))
        watcher.changed()
    return watcher
