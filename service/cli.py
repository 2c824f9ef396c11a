"""`pqa`: ingest documents, serve the API and the page, ask from the terminal.

Results go to stdout (`--json` for programs), progress and logs to stderr. Exit codes: 0 done,
1 some input failed (the rest was still done), 2 usage error. The verbs are in service/commands.py, their
arguments in service/arguments.py.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from index.errors import BadQuery, SearchIndexError, UnknownDocument

from .arguments import EXIT_FAILED, EXIT_USAGE, _parser
from .commands import COMMANDS


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
