"""A BEIR-format folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv) -> index records, queries and judgments.

The corpus becomes one document whose passages are the corpus entries, each anchored by its BEIR id,
so the index, the search and the metrics all speak in BEIR ids. A passage's text is the entry's
title and text joined by a space (BEIR's convention for models that take one string).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from index.errors import SearchIndexError
from index.records import Document, DocumentInfo, Passage, sha256_text

Qrels = dict[str, dict[str, int]]


class BeirFormatError(SearchIndexError):
    """The folder is not a BEIR dataset as expected; the message names the missing or broken file."""


@dataclass(frozen=True)
class BeirSet:
    """One split of a BEIR dataset: the corpus as a document, the judged queries and their judgments."""

    name: str
    document: Document
    queries: dict[str, str]  # only the queries that have judgments in the split, in qrels order
    qrels: Qrels


def _read_jsonl(path: Path) -> Iterator[dict[str, object]]:
    if not path.exists():
        raise BeirFormatError(f"{path} is missing; a BEIR folder holds corpus.jsonl, queries.jsonl and qrels/")
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise BeirFormatError(f"{path}:{number} is not JSON: {exc}") from exc


def read_qrels(path: Path) -> Qrels:
    """query id -> {corpus id: relevance}; a header line ("query-id corpus-id score") is skipped."""
    if not path.exists():
        raise BeirFormatError(f"{path} is missing; choose a split that exists under {path.parent}")
    qrels: Qrels = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split("\t") if "\t" in line else line.split()
        if not fields or (number == 1 and not fields[-1].lstrip("-").isdigit()):
            continue
        if len(fields) < 3:
            raise BeirFormatError(f"{path}:{number}: expected 'query-id corpus-id score', got {line!r}")
        qrels.setdefault(fields[0], {})[fields[1]] = int(fields[2])
    return qrels


def corpus_document(folder: Path) -> Document:
    """corpus.jsonl as one document of passages anchored by their BEIR ids."""
    name = folder.resolve().name
    passages = []
    for order, entry in enumerate(_read_jsonl(folder / "corpus.jsonl")):
        title, text = str(entry.get("title") or "").strip(), str(entry.get("text") or "").strip()
        body = f"{title} {text}".strip() if title else text
        if body:
            passages.append(Passage(name, str(entry["_id"]), "text", body, label=str(entry["_id"]), order=order))
    digest = sha256_text("\n".join(p.text for p in passages))
    info = DocumentInfo(id=name, title=name, source=str(folder), sha256=digest, format="beir")
    return Document(info, tuple(passages))


def load_beir(folder: Path, split: str = "test") -> BeirSet:
    """Load the corpus, the queries judged in `split` and the judgments."""
    qrels = read_qrels(folder / "qrels" / f"{split}.tsv")
    texts = {str(q["_id"]): str(q["text"]) for q in _read_jsonl(folder / "queries.jsonl")}
    missing = [q for q in qrels if q not in texts]
    if missing:
        raise BeirFormatError(f"{len(missing)} judged queries are not in queries.jsonl, e.g. {missing[0]!r}")
    queries = {q: texts[q] for q in qrels}
    return BeirSet(folder.resolve().name, corpus_document(folder), queries, qrels)
