"""`pqa`'s command line: its verbs, their arguments and defaults (from the settings), and its exit codes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
