"""`pqa`'s verbs, one function each (`COMMANDS`): ingest, serve, ask, index, eval; each returns its exit code.

Results go to stdout (`--json` for programs), progress and logs to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from index.errors import BadQuery, SearchIndexError, UnknownDocument

from .arguments import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from .terminal import _print_report, _StderrProgress


def _model_cache() -> Path | None:
    from .settings import Settings

    return Settings().model_cache


def cmd_ingest(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from index.embedder import load_embedder
    from index.store import Store
    from ingest.sandbox import Limits

    from .distributed import RayCluster, ray_problem
    from .gate import load_golden
    from .reindex import ingest, pausing
    from .settings import Settings

    def load_model():  # type: ignore[no-untyped-def]
        print("loading the embedding model ...", file=sys.stderr)
        return load_embedder(args.model, args.runtime, _model_cache())

    golden = load_golden(args.golden) if args.golden else None
    progress = pausing(_StderrProgress(), Settings().test_pause_at)
    try:
        limits = Limits(args.timeout, args.memory, args.max_pages, args.max_mb)
    except ValueError:
        print("pqa: error: --timeout, --memory, --max-pages and --max-mb must be positive", file=sys.stderr)
        return EXIT_USAGE
    if missing := _all_missing(args.paths):
        print(f"pqa: error: {missing}", file=sys.stderr)
        return EXIT_USAGE
    if args.ray is not None and (problem := ray_problem() or _bad_actors(args.ray_actors)):
        print(f"pqa: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    where = f" on the Ray cluster {args.ray} ({args.ray_actors} embedding actors)" if args.ray else ""
    print(f"ingesting {', '.join(str(p) for p in args.paths)} into {args.index}{where}", file=sys.stderr)
    cluster = RayCluster(args.ray, args.ray_actors, args.model, args.runtime, _model_cache()) if args.ray else None
    with cluster or nullcontext():
        report = ingest(
            args.paths,
            Store(args.index),
            load_model,
            args.model,
            progress,
            args.wait,
            golden=golden,
            force=args.force,
            limits=limits,
            workers=cluster.workers() if cluster else None,
            dense=args.dense_index,
        )
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        _print_report(report)
    for skipped in report.skipped:  # not a failure: nothing is wrong with the file, and its bytes are indexed
        print(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    return EXIT_FAILED if report.failures or report.rejected else EXIT_OK


def _all_missing(paths: Sequence[Path]) -> str | None:
    """The usage error of a run none of whose paths exist (a typo: there is nothing to run); None otherwise.

    Where some exist, the run goes on and each missing one is a failed input (exit 1) whose documents are kept."""
    if any(path.exists() for path in paths):
        return None
    named = ", ".join(str(p) for p in paths)
    return (
        f"no such file or folder: {named}; nothing was ingested. Name the library's files or folders "
        "(e.g. pqa ingest corpus/)"
    )


def _bad_actors(actors: int) -> str | None:
    return None if actors >= 1 else f"--ray-actors must be at least 1, got {actors}"


def cmd_serve(args: argparse.Namespace) -> int:
    from .app import create_app
    from .server import serve
    from .settings import Settings

    overrides: dict[str, object] = {
        "index_dir": args.index,
        "host": args.host,
        "port": args.port,
        "runtime": args.runtime,
        "corpus": args.corpus,
        "watch": args.watch,
    }
    if args.search_processes is not None:
        overrides["search_processes"] = args.search_processes
    if args.model:
        overrides["model"] = args.model
    settings = Settings(**overrides)  # type: ignore[arg-type]
    watching = f", re-indexing {' '.join(str(p) for p in args.corpus)} on change" if args.watch else ""
    print(f"starting the service on {args.index}{watching} ...", file=sys.stderr)
    _json_access_log()
    serve(create_app(settings), settings)
    return EXIT_OK


def _json_access_log() -> None:
    """Access-log lines are JSON objects, one per line, on stderr (uvicorn's own access log is off)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access = logging.getLogger("pqa.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False


def cmd_ask(args: argparse.Namespace) -> int:
    from index.embedder import load_embedder
    from index.search import Searcher
    from index.snapshot import Snapshot
    from index.store import Store

    from .answer import QuestionLimits, answer, body, refusal
    from .errors import error_body, index_error_code
    from .settings import Settings

    settings = Settings()
    limits = QuestionLimits.of(settings)
    try:
        limits.check(args.question, args.k)  # a usage error before the model loads
        started = time.perf_counter()
        snapshot = Snapshot.load(Store(args.index).current())
        embedder = load_embedder(args.model, args.runtime, settings.model_cache)
        rerank = settings.rerank == "on" if args.rerank is None else args.rerank
        reranker = settings.model_copy(update={"runtime": args.runtime, "rerank": "on"}).reranker() if rerank else None
        searcher = Searcher(snapshot, embedder, settings.ranking(), reranker=reranker)
        response = answer(searcher, args.question, limits, args.k, args.document, args.kind)
    except (BadQuery, UnknownDocument) as exc:
        if args.json:  # the body HTTP answers with (its status is 422 or 404); the message on stderr as well
            print(error_body(refusal(exc)[1], str(exc)).decode())
        raise
    except SearchIndexError as exc:
        if args.json:  # as HTTP answers (503), exit 1; main() prints the message on stderr
            print(error_body(index_error_code(exc), str(exc)).decode())
        raise
    if args.json:
        print(body(response))
        return EXIT_OK
    if response.not_in_corpus:
        against = f" Against it: {'; '.join(response.doubts)}." if response.doubts else ""
        confidence = f"confidence {response.confidence:.2f}"
        print(f"Nothing in the corpus seems to answer this ({confidence}).{against} The closest:\n")
    for passage in response.passages:
        print(f"{passage.rank}. {passage.citation_text}  (score {passage.score:.3f})")
        text = passage.text
        if passage.highlight:
            a, b = passage.highlight.start, passage.highlight.end
            text = f"{text[:a]}>>{text[a:b]}<<{text[b:]}"
        print(f"   {text}\n")
    print(f"({(time.perf_counter() - started):.1f} s, generation {snapshot.generation})", file=sys.stderr)
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from evaluate.beir import load_beir
    from evaluate.evaluation import RETRIEVERS, beir_snapshot, evaluate_together, make_retriever, throughput
    from evaluate.vectorcache import VectorCache
    from index.embedder import load_embedder

    from .settings import Settings

    print("loading the embedding model ...", file=sys.stderr)
    embedder = load_embedder(args.model, args.runtime, _model_cache())
    dataset = load_beir(args.folder, args.split)
    print(
        f"{dataset.name}: {len(dataset.document.passages)} passages, {len(dataset.queries)} {args.split} queries; "
        f"runtime {embedder.runtime}",
        file=sys.stderr,
    )
    cache = VectorCache.for_embedder(args.cache, embedder)
    try:
        snapshot = beir_snapshot(dataset, embedder, cache, _StderrProgress())
    finally:
        cache.save()
    sample = [p.text for p in dataset.document.passages[: max(0, args.throughput_sample)]]
    print(f"timing the model on {len(sample)} passages ...", file=sys.stderr)
    speed = throughput(embedder, sample)
    names = args.retriever or list(RETRIEVERS)
    print(f"evaluating {', '.join(names)} (taking turns, query by query) ...", file=sys.stderr)
    ranking = Settings().ranking()  # "default" is the pipeline the service would run: PQA_FUSION and the rest apply
    retrievers = [(make_retriever(name, snapshot, embedder, ranking), embedder.runtime) for name in names]
    results = evaluate_together(retrievers, dataset, [p.anchor for p in snapshot.searchable])
    if args.json:
        report = {
            "dataset": dataset.name,
            "split": args.split,
            "queries": len(dataset.queries),
            "passages": len(snapshot.searchable),
            "runtime": embedder.runtime,
            "embedding": {"passages": len(sample), "passages_per_s": round(speed, 2)},
            "results": [r.to_dict() for r in results],
        }
        print(json.dumps(report, indent=2))
        return EXIT_OK
    print(
        f"{'retriever':<10} {'runtime':<14} {'nDCG@10':>8} {'Recall@100':>10} {'MRR@10':>7} {'p50 ms':>7} {'p99 ms':>7}"
    )
    for r in results:
        print(
            f"{r.retriever:<10} {r.runtime:<14} {r.ndcg_at_10:>8.4f} {r.recall_at_100:>10.4f} {r.mrr_at_10:>7.4f} "
            f"{r.p50_ms:>7.2f} {r.p99_ms:>7.2f}"
        )
    print(f"embedding: {speed:.1f} passages/s ({embedder.runtime}, {len(sample)} passages of {dataset.name})")
    return EXIT_OK


def cmd_index(args: argparse.Namespace) -> int:
    from index.store import Store

    from .follower import ingest_command
    from .rollback import rollback

    store = Store(args.index)
    if args.index_command == "rollback":
        replaced = rollback(store, args.generation, lock_wait=args.wait)
        print(f"current generation: {args.generation} (was {replaced or 'none'})")
        print("a running pqa serve switches to it within seconds; the next pqa ingest rebuilds from the corpus")
        return EXIT_OK
    summaries = store.summaries()
    if args.json:
        print(json.dumps({"index": str(args.index), "generations": [g.to_dict() for g in summaries]}, indent=2))
    if not summaries:
        where = "" if args.index.is_dir() else " (no such folder)"
        print(f"pqa: no index in {args.index}{where}; build one with: {ingest_command(args.index)}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        return EXIT_OK
    for g in summaries:
        mark = "*" if g.current else " "
        state = f"BROKEN: {g.problem}" if g.problem else f"{g.documents} documents, {g.passages} passages, {g.model}"
        print(f"{mark} {g.name}  {g.created or '?':<25}  {state}")
    return EXIT_OK


COMMANDS = {"ingest": cmd_ingest, "serve": cmd_serve, "ask": cmd_ask, "index": cmd_index, "eval": cmd_eval}
