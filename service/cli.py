"""`pqa`: ingest documents, serve the API and the page, ask from the terminal.

Results go to stdout (`--json` for programs), progress and logs to stderr. Exit codes: 0 done,
1 some input failed (the rest was still done), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from index.errors import BadQuery, SearchIndexError, UnknownDocument

if TYPE_CHECKING:
    from .settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"pqa: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _search_processes(value: str) -> int | str:
    """--search-processes: "auto" or a count of 0 or more."""
    if value == "auto":
        return value
    try:
        count = int(value)
    except ValueError:
        count = -1
    if count < 0:
        raise argparse.ArgumentTypeError(f"{value!r} is neither auto nor a count of 0 or more (0: none)")
    return count


def _parser() -> argparse.ArgumentParser:
    from index.embedder import RUNTIMES

    from .settings import Settings

    defaults = Settings()
    parser = _Parser(prog="pqa", description="Cited passage search over protection policy documents.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    ingest = sub.add_parser("ingest", help="parse documents and (re)build the index")
    ingest.add_argument("paths", nargs="+", type=Path, help="files or folders (.pdf, .md, .txt, .html, .docx)")
    ingest.add_argument("--index", type=Path, default=defaults.index_dir, help="index folder (default %(default)s)")
    ingest.add_argument("--model", default=defaults.model, help="embedding model name or folder")
    ingest.add_argument("--runtime", default=defaults.runtime, choices=RUNTIMES, help="embedding runtime")
    ingest.add_argument("--json", action="store_true", help="print the report as JSON")
    ingest.add_argument("--wait", type=float, default=0.0, help="seconds to wait for another writer")
    ingest.add_argument(
        "--golden", type=Path, default=defaults.golden, help="golden questions gating the swap (default: PQA_GOLDEN)"
    )
    ingest.add_argument(
        "--force", action="store_true", help="swap in even if the golden gate refuses, or if no documents are left"
    )
    ingest.add_argument("--timeout", type=float, default=120.0, help="seconds to parse one file (default %(default)s)")
    ingest.add_argument("--memory", type=int, default=1536, help="MB of memory to parse one file (default %(default)s)")
    ingest.add_argument("--max-pages", type=int, default=1000, help="pages in one PDF (default %(default)s)")
    ingest.add_argument("--max-mb", type=int, default=200, help="MB in one file (default %(default)s)")
    ingest.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help="parse and embed on a Ray cluster: local (start one here; the default), auto, or ray://HOST:PORT",
    )
    ingest.add_argument(
        "--ray-actors", type=int, default=defaults.ray_actors, help="embedding actors with --ray (default %(default)s)"
    )
    ingest.add_argument(
        "--dense-index",
        default=defaults.dense_index,
        choices=("auto", "flat", "hnsw"),
        help="FAISS index of the new generation (default %(default)s: flat below 20,000 vectors)",
    )

    serve = sub.add_parser("serve", help="serve the API and the search page")
    serve.add_argument("--index", type=Path, default=defaults.index_dir)
    serve.add_argument("--host", default=defaults.host)
    serve.add_argument("--port", type=int, default=defaults.port)
    serve.add_argument("--model", default=defaults.model)
    serve.add_argument("--runtime", default=defaults.runtime, choices=RUNTIMES)
    serve.add_argument(
        "--corpus", nargs="+", type=Path, default=defaults.corpus, help="what re-indexing reads (default: PQA_CORPUS)"
    )
    serve.add_argument("--watch", action="store_true", default=defaults.watch, help="re-index when the corpus changes")
    serve.add_argument(
        "--search-processes",
        type=_search_processes,
        default=None,
        metavar="N|auto",
        help="answer questions in N processes beside the serving one, each with its own model (default: "
        "PQA_SEARCH_PROCESSES, else auto: one per core where there are two or more, at most 4; 0: none); more "
        "questions a second under concurrent load, about 250 MB each",
    )

    index = sub.add_parser("index", help="list index generations, roll back to an earlier one")
    index_sub = index.add_subparsers(dest="index_command", required=True, parser_class=_Parser)
    listing = index_sub.add_parser("list", help="the generations on disk, oldest first; * marks the current one")
    listing.add_argument("--index", type=Path, default=defaults.index_dir)
    listing.add_argument("--json", action="store_true")
    rollback = index_sub.add_parser("rollback", help="make an earlier generation current again")
    rollback.add_argument("generation", help="a name from `pqa index list`")
    rollback.add_argument("--index", type=Path, default=defaults.index_dir)
    rollback.add_argument("--wait", type=float, default=0.0, help="seconds to wait for another writer")

    ask = sub.add_parser("ask", help="ask a question from the terminal")
    ask.add_argument("question")
    ask.add_argument("--k", type=int, help=f"passages to return (default {defaults.default_k}: PQA_DEFAULT_K)")
    ask.add_argument("--document", action="append", help="only this document id (repeatable)")
    ask.add_argument("--kind", action="append", help="only this kind of passage (repeatable)")
    ask.add_argument(
        "--rerank",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="re-score the best passages with the reranker, or not (default: on where PQA_RERANK=on)",
    )
    ask.add_argument("--json", action="store_true", help="print the JSON body POST /api/ask returns")
    ask.add_argument("--index", type=Path, default=defaults.index_dir)
    ask.add_argument("--model", default=defaults.model)
    ask.add_argument("--runtime", default=defaults.runtime, choices=RUNTIMES)

    _add_eval(sub, defaults)
    return parser


def _add_eval(sub: Any, defaults: Settings) -> None:
    """`pqa eval beir DIR ...`."""
    from evaluate.evaluation import RETRIEVERS
    from index.embedder import RUNTIMES

    evaluate = sub.add_parser("eval", help="measure retrieval quality and speed on a benchmark")
    kinds = evaluate.add_subparsers(dest="benchmark", required=True, parser_class=_Parser)
    beir = kinds.add_parser("beir", help="a BEIR-format folder: corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv")
    beir.add_argument("folder", type=Path)
    beir.add_argument(
        "--retriever", action="append", choices=RETRIEVERS, help="repeatable (default: all of %(choices)s)"
    )
    beir.add_argument("--split", default="test", help="the qrels file to score against (default %(default)s)")
    beir.add_argument("--json", action="store_true")
    beir.add_argument("--model", default=defaults.model)
    beir.add_argument("--runtime", default=defaults.runtime, choices=RUNTIMES)
    beir.add_argument("--cache", type=Path, default=Path("var/cache/embeddings"), help="embeddings kept between runs")
    beir.add_argument("--throughput-sample", type=int, default=256, help="passages embedded afresh to time the model")


def _model_cache() -> Path | None:
    from .settings import Settings

    return Settings().model_cache


class _StderrProgress:
    """One line per stage on stderr, redrawn in place on a terminal."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last: tuple[str, int] | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if total == 0:
            return
        if self.tty:
            width = 30
            filled = int(width * done / total)
            end = "\n" if done >= total else ""
            print(f"\r{stage:<22} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end=end, file=sys.stderr)
        elif done >= total or done == 0:
            print(f"{stage}: {done}/{total}", file=sys.stderr)


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


def _print_report(report: object) -> None:
    from .reindex import IngestReport

    assert isinstance(report, IngestReport)
    if report.recovered:
        print(f"recovered: {report.recovered}")
    if report.changed:
        print(f"generation {report.generation} (was {report.previous or 'none'})")
    elif report.rejected:
        print(f"NOT swapped in; still serving generation {report.previous}")
    else:
        print(f"index up to date: generation {report.previous} (nothing changed)")
    print(
        f"documents: {report.documents} ({len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed)"
    )
    print(f"passages: {report.passages}  pages: {report.pages}")
    print(
        f"passages reused: {report.passages_reused}  re-embedded: {report.passages_re_embedded}  "
        f"removed: {report.passages_removed}"
    )
    print(f"texts embedded: {report.embedded}  reused: {report.reused}  seconds: {report.seconds}")
    if report.gate:
        print(f"gate: {report.gate.reason}")
    for document_id, counts in report.set_aside.items():
        if counts:
            kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))
            print(f"set aside in {document_id} (kept for the document view, not searched): {kinds}")
    for document_id in report.kept:
        print(f"kept the last good version of {document_id}")
    for failure in report.failures:
        print(f"FAILED {failure.path}: {failure.reason}")


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
    from .reindex import rollback

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


def _project_info(record: logging.LogRecord) -> bool:
    """The project's own INFO lines; of the libraries (faiss's loader, httpx, bm25s ...) only warnings and errors."""
    return record.levelno >= logging.WARNING or record.name == "pqa" or record.name.startswith("pqa.")


def _log_to_stderr() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    # a filter on the handler, not levels on loggers: some libraries set their own loggers' levels
    handler.addFilter(_project_info)
    logging.basicConfig(level=logging.INFO, handlers=[handler])


def _bad_settings(exc: ValidationError) -> str:
    """What is wrong with the environment's settings: "PQA_SEARCH_PROCESSES='abc': Input should be ... or ..."."""
    wrong: dict[str, list[str]] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "?"
        wrong.setdefault(f"PQA_{field.upper()}={error.get('input')!r}", []).append(error["msg"])
    return "; ".join(f"{name}: {' or '.join(dict.fromkeys(messages))}" for name, messages in wrong.items())


def main(argv: Sequence[str] | None = None) -> int:
    _log_to_stderr()
    try:
        args = _parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except ValidationError as exc:  # a setting from the environment (PQA_...) that cannot be read
        print(f"pqa: error: {_bad_settings(exc)} (see the README's Settings)", file=sys.stderr)
        return EXIT_USAGE
    except (BadQuery, UnknownDocument) as exc:  # a question or filter that cannot be answered as asked
        print(f"pqa: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SearchIndexError as exc:
        print(f"pqa: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
