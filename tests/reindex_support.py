"""Helpers for the re-indexing tests: a two-document corpus, `pqa` subprocesses, and a client querying in a loop."""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from index.store import Store

from .conftest import PAPER, PAPER_SIDECAR, ROOT

NOTE_ID = "family-reunification-note"
NOTE = """# Note on family reunification for refugees

## Principles

1. Family unity is a fundamental right of refugees, and States should facilitate the reunification of separated \
families without undue delay.

2. Applications for family reunification should be processed with flexibility where documentary evidence of family \
links is unavailable, accepting DNA testing only as a last resort.

3. Unaccompanied children must be traced and reunited with their parents whenever this is in the best interests of \
the child.
"""
NOTE_QUESTION = "Is DNA testing required to prove family links?"
PARA_7_START = "7. The IOM definition of protection is based on"


def make_corpus(folder: Path, with_note: bool = True) -> Path:
    """A corpus folder holding the IOM paper (with its sidecar) and, by default, a short second document."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in (PAPER, PAPER_SIDECAR):
        shutil.copy(path, folder / path.name)
    if with_note:
        (folder / f"{NOTE_ID}.md").write_text(NOTE, encoding="utf-8")
    return folder


def paper(corpus: Path) -> Path:
    return corpus / "iom-approach-to-protection.md"


def edit_paragraph_7(corpus: Path, extra: str) -> None:
    """Add a sentence at the end of paragraph 7's first sentence block (the rest of the paper is untouched)."""
    path = paper(corpus)
    text = path.read_text(encoding="utf-8")
    start = text.index(PARA_7_START)
    end = text.index("\n", start)
    path.write_text(text[:end] + f" {extra}" + text[end:], encoding="utf-8")


def pqa_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("PQA_TEST_PAUSE_AT", None)
    return {**env, **(extra or {})}


def run_pqa(
    args: Sequence[str], env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run `pqa ARGS` to completion (bounded) and return what it printed."""
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        cwd=ROOT,
        env=pqa_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class Pqa:
    """A `pqa` subprocess whose stderr is read line by line in a thread (so it never blocks on a full pipe)."""

    def __init__(self, args: Sequence[str], env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", *args],
            cwd=ROOT,
            env=pqa_env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.pid = self.process.pid
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)
            self._queue.put(line)

    def wait_for(self, pattern: str, timeout: float) -> str:
        """The first stderr line matching `pattern`; fails if the process exits or the time is up first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.2)
            except queue.Empty:
                exited = self.process.poll() is not None and self._queue.empty()
                assert not exited, f"pqa exited {self.process.returncode} first: {''.join(self.lines)[-3000:]}"
                continue
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no line matching {pattern!r} within {timeout} s: {''.join(self.lines)[-3000:]}")

    def kill9(self) -> None:
        self.process.kill()  # SIGKILL
        self.process.wait(timeout=30)

    def finish(self, timeout: float) -> tuple[int, str]:
        """Wait for the process; returns (exit code, stdout)."""
        stdout, _ = self.process.communicate(timeout=timeout)
        self._reader.join(timeout=5)
        return self.process.returncode, stdout

    def stop(self) -> None:
        if self.process.poll() is None:
            self.kill9()


@dataclass
class QueryLoop:
    """Asks a live server the same question in a loop, recording every answer's generation and any failure."""

    url: str
    question: str = "How does IOM define protection?"
    ok: int = 0
    failures: list[str] = field(default_factory=list)
    seen: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, generation) at each change
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> QueryLoop:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(timeout=30)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while not self._stop.is_set():
                try:
                    response = client.get("/api/search", params={"q": self.question, "k": 3})
                except httpx.HTTPError as exc:
                    self.failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                if response.status_code != 200 or not response.json()["passages"]:
                    self.failures.append(f"{response.status_code}: {response.text[:300]}")
                    continue
                self.ok += 1
                generation = response.json()["index"]["generation"]
                if not self.seen or self.seen[-1][1] != generation:
                    self.seen.append((time.monotonic(), generation))

    def wait_for_generation(self, name: str, timeout: float) -> float:
        """The monotonic time at which answers first came from `name`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, generation in list(self.seen):
                if generation == name:
                    return at
            time.sleep(0.05)
        raise AssertionError(f"generation {name} not served within {timeout} s; seen {self.seen}, {self.failures[-3:]}")


def served_generation(url: str) -> str | None:
    body = httpx.get(f"{url}/readyz", timeout=10).json()
    return body["generation"]  # type: ignore[no-any-return]


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s")


def leftovers(store: Store) -> list[str]:
    """Unfinished writes on disk: hidden temporary generation folders and pointer files."""
    hidden = [p.name for p in store.generations.glob(".tmp-*")] if store.generations.is_dir() else []
    return hidden + [p.name for p in store.root.glob(".CURRENT.*.tmp")]


def copy_generation(store: Store, name: str, suffix: str) -> str:
    """A copy of generation `name` under a name that sorts just after it (to damage without touching it)."""
    copy = name.replace("-", f"{suffix}-", 1)
    shutil.copytree(store.generations / name, store.generations / copy)
    return copy


def point_at(store: Store, name: str) -> None:
    """Name `name` in CURRENT the way a writer does (tmp file + os.replace), whatever state it is in."""
    tmp = store.root / ".CURRENT.test.tmp"
    tmp.write_text(name + "\n")
    os.replace(tmp, store.root / "CURRENT")
