"""Shared fixtures: the real model (loaded once per session), an index of the paper, a fake model for plumbing."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import httpx
import numpy as np
import pytest
from hypothesis import settings

from index.embedder import Embedder, load_embedder
from index.store import Store
from service.reindex import ingest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"  # the default library: the paper and the instruments beside it
PAPER = CORPUS / "iom-approach-to-protection.md"
PAPER_SIDECAR = CORPUS / "iom-approach-to-protection.meta.toml"


def _shared_data() -> Path:
    """The workplace's real documents: PQA_SHARED_DATA, else ../shared/data beside the clone, else /work/shared/data."""
    candidates = [os.environ.get("PQA_SHARED_DATA"), ROOT.parent / "shared" / "data", "/work/shared/data"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return ROOT.parent / "shared" / "data"


SHARED_DATA = _shared_data()
needs_shared_data = pytest.mark.skipif(
    not SHARED_DATA.is_dir(),
    reason=f"SKIPPED LOUDLY: no real documents at {SHARED_DATA}; set PQA_SHARED_DATA to the shared/data folder",
)

PAPER_ID = "iom-approach-to-protection"

# Property tests explore the same examples on every run: CI must not turn red by luck of the draw.
# (HYPOTHESIS_PROFILE=explore draws new examples when hunting for bugs.)
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Apps made in the test process answer in it (no search processes started by each TestClient); the `pqa serve`
# servers the tests start run as it runs by default (LiveServer).
os.environ.setdefault("PQA_SEARCH_PROCESSES", "0")


class FakeEmbedder:
    """Deterministic hashed bag of words: for tests of plumbing only, never of ranking quality."""

    name = "fake-hash-64"
    dim = 64
    max_tokens = 32
    runtime = "fake"

    def __init__(self) -> None:
        self.calls = 0
        self.texts_embedded = 0

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in re.finditer(r"\w+|[^\w\s]", text)]

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()):
            vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts_embedded += len(texts)
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real all-MiniLM-L6-v2, loaded once for the whole session."""
    return load_embedder()


@pytest.fixture(scope="session")
def openvino_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder of the session's own for OpenVINO conversions (tests may write records there)."""
    return tmp_path_factory.mktemp("ov-cache")


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def paper_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """An index of the IOM paper alone (with its sidecar) built with the real model; treat it as read-only."""
    folder = tmp_path_factory.mktemp("paper-index")
    report = ingest([PAPER], Store(folder), lambda: embedder)
    assert report.generation is not None and not report.failures
    return folder


@pytest.fixture(scope="session")
def library_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """An index of the whole default library (corpus/) built with the real model; treat it as read-only."""
    folder = tmp_path_factory.mktemp("library-index")
    report = ingest([CORPUS], Store(folder), lambda: embedder)
    assert report.generation is not None and not report.failures, report.failures
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, timeout: float = 120.0, check_alive: Callable[[], None] = lambda: None) -> None:
    """Until `url`/readyz answers 200; `check_alive` raises if the server died meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check_alive()
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"the server at {url} was not ready after {timeout} s")


def run_script(folder: Path, name: str, source: str) -> subprocess.CompletedProcess[str]:
    """Python `source` run as a script of its own (a fresh interpreter) with the project importable; bounded."""
    script = folder / name
    script.write_text(source)
    return subprocess.run(
        [sys.executable, str(script)],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


class LiveServer:
    """A real `pqa serve` subprocess on 127.0.0.1, stopped by the fixture that made it."""

    def __init__(self, index_dir: Path, extra_args: Sequence[str] = (), env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "service.cli", "serve", "--index", str(index_dir), "--port", str(self.port)]
        # a file, not a pipe: a pipe nobody reads fills up and stalls the server
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [*command, *extra_args],
            cwd=ROOT,
            # tests hammer one server from one address; the rate limit has tests of its own
            env={**os.environ, "PQA_RATE_LIMIT": "0", "PQA_SEARCH_PROCESSES": "auto", **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            text=True,
        )

    def wait_ready(self, timeout: float = 120.0) -> None:
        wait_ready(self.url, timeout, self._check_alive)

    def _check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"pqa serve exited with {self.process.returncode}: {self.output()}")

    def output(self) -> str:
        """What the server wrote to stderr so far."""
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture(scope="session")
def live_server(paper_index: Path) -> Iterator[LiveServer]:
    """`pqa serve` over the paper's index, shared by the tests that need real HTTP."""
    server = LiveServer(paper_index)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


HOSTILE_MARKDOWN = """\
## <script>alert(1)</script> Hostile <img src=x onerror=alert(1)> guidance

### Returns <img src=x onerror=alert(2)> and safety

1. Refugees must never be returned to danger <script>alert(1)</script> by any state.<sup>1</sup>

2. The image <img src=x onerror=alert(1)> must stay text, and so must a link [click](javascript:alert(1)).

3. Quotes "double" and 'single' & ampersands </textarea><svg onmouseover="alert(4)"> stay text too.

---

<sup>1</sup> A footnote with <script>alert(3)</script> inside it.
"""

HOSTILE_META = """\
title = "Hostile \\"quoted\\" <script>alert('title')</script> <img src=x onerror=alert(5)> guidance"
body = "<b onclick=alert(6)>Body</b>"
source_url = "javascript:alert(7)"
"""


@pytest.fixture(scope="session")
def hostile_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """An index of one document whose text, title and metadata try to inject HTML and script; it must stay text."""
    corpus = tmp_path_factory.mktemp("hostile-corpus")
    (corpus / "hostile.md").write_text(HOSTILE_MARKDOWN, encoding="utf-8")
    (corpus / "hostile.meta.toml").write_text(HOSTILE_META, encoding="utf-8")
    folder = tmp_path_factory.mktemp("hostile-index")
    report = ingest([corpus], Store(folder), lambda: embedder)
    assert report.generation is not None and not report.failures, report.failures
    return folder
