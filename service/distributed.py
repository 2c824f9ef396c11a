"""`pqa ingest --ray`: the pipeline's two heavy steps, parsing and embedding, on a Ray cluster.

The driver (this process) still finds and hashes the files, reuses what earlier generations parsed
and embedded (by sha256), holds the writer lock, asks the golden gate and writes the generation:
service/reindex.py runs unchanged, with these `Workers`. On the cluster:

- each changed file is a Ray task that parses it in ingest/sandbox.py's worker under the same
  Limits as a local run; the file's bytes travel with the task, so no node needs the driver's disk;
- the texts to embed go through Ray Data `map_batches` on a pool of actors, each loading the model
  once; an actor that dies is restarted and its batch retried (Ray Data's defaults).

Ray is optional (`pip install 'protection-qa[ray]'`) and imported only when a step needs it.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.build import EMBED_BATCH, Progress
from index.errors import SearchIndexError
from index.records import Document
from ingest.discovery import Failure, Source, failure
from ingest.errors import IngestError
from ingest.sandbox import Limits

from .reindex import Workers

if TYPE_CHECKING:
    from numpy.typing import NDArray

INSTALL = "pip install 'protection-qa[ray]'"
LOCAL = "local"
# Rows per Ray Data block: whole batches (so a batch holds the texts a local run would batch together),
# enough blocks to keep every actor busy, and few enough rows that a lost block costs little.
MAX_BLOCK_BATCHES = 16
IN_FLIGHT_PER_CPU = 2
log = logging.getLogger("pqa.distributed")


class RayUnavailable(SearchIndexError):
    """Ray is not installed here."""


class ClusterFailed(SearchIndexError):
    """The cluster could not finish a step; nothing was written."""


def ray_problem() -> str | None:
    """Why `--ray` cannot run here (with the fix), or None."""
    try:
        import ray.data  # noqa: F401
    except ImportError as exc:
        return f"--ray needs Ray Data, which is not installed ({exc.name} is missing); run: {INSTALL}"
    return None


@dataclass
class RayCluster:
    """A connection to a Ray cluster, made on first use and closed by `with`; its `workers()` go to `ingest()`.

    `address` is "local" (start a cluster on this machine for this run), "auto" (the cluster this
    machine belongs to) or an address Ray accepts ("ray://HOST:10001", "HOST:6379").
    """

    address: str = LOCAL
    actors: int = 2
    model: str | None = None
    runtime: str = "auto"
    model_cache: Path | None = None
    _ray: Any = None  # the ray module once connected (typed loosely: much of its API is untyped)

    def __enter__(self) -> RayCluster:
        return self

    def __exit__(self, *_: object) -> None:
        if self._ray is not None:
            self._ray.shutdown()
            self._ray = None

    def workers(self) -> Workers:
        return Workers(parse=self.parse, embed=self.embed)

    def connect(self) -> Any:
        """Import Ray and join (or start) the cluster, once."""
        if self._ray is not None:
            return self._ray
        if problem := ray_problem():
            raise RayUnavailable(problem)
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # never report usage from here
        import ray.data

        env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "RAY_USAGE_STATS_ENABLED": "0"}
        options: dict[str, Any] = {"logging_level": logging.WARNING, "runtime_env": {"env_vars": env}}
        if self.address == LOCAL:
            options["include_dashboard"] = False
            # Ray starts workers at niceness 15 so its own daemons come first on a cluster's nodes; on a
            # machine that also runs other work, that starves this run's parsing and embedding.
            os.environ.setdefault("RAY_worker_niceness", "0")
        else:
            options["address"] = self.address
        try:
            ray.init(**options)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ClusterFailed(
                f"cannot reach the Ray cluster at {self.address!r}: {exc}; start one (ray start --head), "
                "check the address, or use --ray local"
            ) from exc
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        self._ray = ray
        resources = self._ray.cluster_resources()
        log.info("Ray cluster %s: %d nodes, %g CPUs", self.address, len(self._ray.nodes()), resources.get("CPU", 0))
        return self._ray

    # -- parsing -----------------------------------------------------------------------------

    def parse(
        self, sources: Sequence[Source], progress: Progress | None = None, limits: Limits | None = None
    ) -> tuple[list[Document], list[Failure]]:
        """Each source parsed by a Ray task under `limits`; the same results and report lines as `load_all`.

        At most IN_FLIGHT_PER_CPU tasks per cluster CPU are out at once, so the files' bytes held in
        the object store stay bounded however large the corpus.
        """
        report = progress or (lambda *_: None)
        limits = limits or Limits()
        report("documents", 0, len(sources))
        results: list[Document | Failure | None] = [None] * len(sources)
        if not sources:
            return [], []
        from ingest.formats import read_limited

        ray = self.connect()
        task = ray.remote(num_cpus=1)(parse_remote)
        window = max(2, int(IN_FLIGHT_PER_CPU * ray.cluster_resources().get("CPU", 1)))
        pending: dict[Any, int] = {}
        done = 0
        for i, source in enumerate(sources):
            try:
                data = read_limited(source.path, limits)  # the same size check and message as the worker's
            except IngestError as exc:
                results[i], done = failure(source.path, str(exc)), done + 1
            else:
                pending[task.remote(source, data, limits)] = i
            while len(pending) >= window or (i == len(sources) - 1 and pending):
                self._collect(pending, results, sources)
                done += 1
                if done < len(sources):
                    report("documents", done, len(sources))
        report("documents", len(sources), len(sources))
        return [r for r in results if isinstance(r, Document)], [r for r in results if isinstance(r, Failure)]

    def _collect(
        self, pending: dict[Any, int], results: list[Document | Failure | None], sources: Sequence[Source]
    ) -> None:
        """Wait for one parse task; a task the cluster lost (beyond Ray's retries) is its file's failure."""
        ray = self.connect()
        ready, _ = ray.wait(list(pending), num_returns=1)
        i = pending.pop(ready[0])
        try:
            results[i] = ray.get(ready[0])
        except ray.exceptions.RayError as exc:
            results[i] = failure(
                sources[i].path, f"the Ray worker parsing it failed ({type(exc).__name__}); run again to retry it"
            )

    # -- embedding ---------------------------------------------------------------------------

    def embed(self, texts: Sequence[str], report: Callable[[int, int], None]) -> NDArray[np.float32]:
        """Vectors of `texts`, in order, from a Ray Data actor pool (each actor loads the model once)."""
        ray = self.connect()
        import pyarrow as pa

        rows = block_rows(len(texts), self.actors)
        tables = [
            pa.table(
                {"row": np.arange(first, min(first + rows, len(texts))), "text": list(texts[first : first + rows])}
            )
            for first in range(0, len(texts), rows)
        ]
        dataset = ray.data.from_arrow(tables).map_batches(
            EmbedActor,
            fn_constructor_kwargs={"model": self.model, "runtime": self.runtime, "cache": self.model_cache},
            batch_size=EMBED_BATCH,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=self.actors),
            num_cpus=1,
        )
        out: NDArray[np.float32] | None = None
        seen = np.zeros(len(texts), dtype=bool)
        try:
            for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
                vectors = np.asarray(batch["vector"], dtype=np.float32)
                if out is None:
                    out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
                out[batch["row"]] = vectors
                seen[batch["row"]] = True
                report(int(seen.sum()), len(texts))
        except ray.exceptions.RayError as exc:
            raise ClusterFailed(
                f"the Ray cluster failed while embedding ({type(exc).__name__}: {str(exc)[:300]}); nothing was "
                "written and the current generation is still served; check the cluster (ray status) and run again"
            ) from exc
        if out is None or not seen.all():
            raise ClusterFailed(
                f"the cluster returned {int(seen.sum())} of {len(texts)} vectors; nothing was written; run again"
            )
        return out


def block_rows(count: int, actors: int) -> int:
    """Rows per block: whole batches, about four blocks per actor, at most MAX_BLOCK_BATCHES batches."""
    batches = math.ceil(math.ceil(count / EMBED_BATCH) / max(1, 4 * actors))
    return EMBED_BATCH * min(MAX_BLOCK_BATCHES, max(1, batches))


def parse_remote(source: Source, data: bytes, limits: Limits) -> Document | Failure:
    """On a Ray worker: parse `data` (the bytes of `source`) in the sandbox under `limits`, as `load` does.

    The bytes are written under the same folder and file name (the name can be the document's title), and
    the document's source is the driver's path again.
    """
    from ingest.library import load

    with tempfile.TemporaryDirectory(prefix="pqa-parse-") as scratch:
        folder = Path(scratch) / (source.path.parent.name or "corpus")
        folder.mkdir()
        local = folder / source.path.name
        local.write_bytes(data)
        try:
            document = load(replace(source, path=local), limits)
        except IngestError as exc:
            return failure(source.path, str(exc))
    return Document(replace(document.info, source=str(source.path)), document.passages)


class EmbedActor:
    """A Ray Data actor: loads the model once, then embeds batches of {"row", "text"} into {"row", "vector"}."""

    def __init__(self, model: str | None, runtime: str, cache: Path | None) -> None:
        from index.embedder import load_embedder

        self.embedder = load_embedder(model, runtime, cache)

    def __call__(self, batch: dict[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
        vectors = self.embedder.embed_documents([str(t) for t in batch["text"]])
        return {"row": batch["row"], "vector": np.asarray(vectors, dtype=np.float32)}
