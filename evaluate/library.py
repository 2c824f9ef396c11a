"""Questions over a library of real documents, judged by the verbatim quote each answer gives.

A question set (bench/data/library_questions.jsonl) names each answer by the file it is in and a quote
of 6-15 words copied from the passage that answers. A hit is right when it comes from that file (matched
by the sha256 of the file's bytes, so a copy in corpus/ counts as the shared original) and its text
holds most of the quote: the longest run of the quote's words found in the passage covers at least
`QUOTE_COVER` of them (a quote can straddle a page break the parser joined, or a list the parser split).
Unanswerable questions have no answers; they measure the "not in the corpus" flag.

Every question falls in one of two halves, "tune" or "heldout", decided by the sha256 of its id within
each document (so each document has questions on both sides): tune on one, report on the other. A question
that names its split keeps it (the fresh set, bench/data/library_questions_fresh.jsonl, is all "fresh": written
after every choice was made, measured, never tuned on).

A writer's quote marks one passage; another passage can answer as well (a recital that states the rule, the
same rule in a sibling article). Judgments (bench/data/library_judgments.jsonl) add, per question, the passages
that judges who saw only the question and the passage found to answer it, pooled from the first three of every
retriever (bench/judging.py). They are answers with `judged` set: "strict" scores ignore them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from functools import cache
from pathlib import Path
from typing import Any

from index.records import DocumentInfo, Passage

QUOTE_COVER = 0.75
QUOTE_WORDS = (10, 15)  # a judged passage's quote: the shortest run of its words, within these, no other holds
SPLITS = ("tune", "heldout")
FRESH = "fresh"


@dataclass(frozen=True)
class Answer:
    file: str  # relative to the shared data folder
    where: str  # the document's own numbering, for people
    quote: str
    judged: bool = False  # found to answer by a judge, not the question's writer


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    style: str
    answers: tuple[Answer, ...]
    split: str = "tune"
    fixed_split: bool = False  # the question file named its split

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    @property
    def document(self) -> str:
        """The file of its first answer (what per-document tables group by); "(none)" when unanswerable."""
        return self.answers[0].file if self.answers else "(none)"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_questions(path: Path, judgments: Path | None = None) -> list[Question]:
    """The question set, each question assigned to its split; with `judgments`, the judged answers added."""
    judged: dict[str, list[Answer]] = {}
    for j in read_jsonl(judgments) if judgments is not None else []:
        if j["answers"]:
            judged.setdefault(j["question"], []).append(Answer(j["file"], j["where"], j["quote"], judged=True))
    questions = [
        Question(
            id=q["id"],
            question=q["question"],
            style=q.get("style", "plain"),
            answers=tuple(Answer(a["file"], a.get("where", ""), a["quote"]) for a in q.get("answers", []))
            + (tuple(judged.get(q["id"], ())) if q.get("answers") else ()),
            split=q.get("split", SPLITS[0]),
            fixed_split="split" in q,
        )
        for q in read_jsonl(path)
    ]
    return assign_splits(questions)


def assign_splits(questions: Sequence[Question]) -> list[Question]:
    """Half of each document's questions (and of the unanswerable ones) to each split, by sha256 of the id."""
    groups: dict[str, list[Question]] = {}
    for q in questions:
        if not q.fixed_split:
            groups.setdefault(q.document, []).append(q)
    split_of: dict[str, str] = {}
    for group in groups.values():
        ordered = sorted(group, key=lambda q: hashlib.sha256(q.id.encode()).hexdigest())
        for i, q in enumerate(ordered):
            split_of[q.id] = SPLITS[i % 2]
    return [q if q.fixed_split else replace(q, split=split_of[q.id]) for q in questions]


def words(text: str) -> list[str]:
    """Lower-case letters and digits, accents and punctuation dropped: how quotes and passages are compared."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", text)
    return re.findall(r"[a-z0-9]+", text.replace("'", "").replace("’", ""))


def covers(passage_words: Sequence[str], quote_words: Sequence[str]) -> bool:
    """Whether the passage holds a run of at least QUOTE_COVER of the quote's words, in order."""
    if not quote_words:
        return False
    matcher = SequenceMatcher(None, passage_words, quote_words, autojunk=False)
    match = matcher.find_longest_match(0, len(passage_words), 0, len(quote_words))
    return match.size >= QUOTE_COVER * len(quote_words)


def unique_quote(passage: Passage, siblings: Sequence[Passage]) -> str:
    """A run of the passage's words that no other passage of its document holds (as `Judge` matches quotes)."""
    own = words(passage.text)
    others = [words(p.text) for p in siblings if p.id != passage.id]
    shortest, longest = QUOTE_WORDS
    for size in range(min(shortest, len(own)), min(longest, len(own)) + 1):
        for start in range(len(own) - size + 1):
            window = own[start : start + size]
            if not any(covers(other, window) for other in others):
                return " ".join(window)
    return " ".join(own[:longest])  # the same words stand in another passage too: either answers alike


def shared_data(root: Path) -> Path:
    """The workplace's real documents: PQA_SHARED_DATA, else shared/data beside the clone, else /work/shared/data."""
    for candidate in (os.environ.get("PQA_SHARED_DATA"), root.parent / "shared" / "data", "/work/shared/data"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    raise FileNotFoundError(f"no shared data folder beside {root}; set PQA_SHARED_DATA to the shared/data folder")


NOT_LIBRARY = ("beir-scifact", "omos-qa-integreat")  # other benchmarks' data
DUPLICATES = ("gcms_short.md",)  # the GCM's actions cut to their first clause: a shortened copy of gcms_long.md


def library_files(shared: Path, corpus: Path, formats: Iterable[str]) -> list[Path]:
    """`corpus` and every shared file of a supported format, in a folder of `shared`, that is not already in it (by
    content), nor another benchmark's data."""
    suffixes = set(formats)
    in_corpus = {file_sha256(p.resolve()) for p in corpus.iterdir() if p.is_file()}
    files = [corpus]
    for path in sorted(shared.rglob("*")):
        relative = path.relative_to(shared)
        if not path.is_file() or path.suffix.lower() not in suffixes or relative.parts[0] in NOT_LIBRARY:
            continue
        if len(relative.parts) == 1:
            continue  # the folder's own notes (INDEX.txt: what each folder holds), not a document
        if path.name in DUPLICATES or path.name.upper() == "SOURCE.TXT" or file_sha256(path.resolve()) in in_corpus:
            continue
        files.append(path)
    return files


@cache
def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Judge:
    """Decides whether a passage answers a question: by the document's source bytes and the quote."""

    shared: Path  # the folder the answers' file paths are relative to
    documents: dict[str, DocumentInfo]
    _source_sha: dict[str, str] = field(default_factory=dict, init=False)
    _quote_words: dict[str, list[str]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        for info in self.documents.values():
            path = Path(info.source)
            if path.is_file():
                self._source_sha[info.id] = file_sha256(path.resolve())

    def answer_sha(self, answer: Answer) -> str:
        return file_sha256((self.shared / answer.file).resolve())

    def document_of(self, answer: Answer) -> str | None:
        """Id of the indexed document that is the answer's file (None when it is not indexed)."""
        sha = self.answer_sha(answer)
        return next((doc for doc, known in sorted(self._source_sha.items()) if known == sha), None)

    def documents_of(self, question: Question) -> set[str]:
        """Ids of the indexed documents that hold one of the question's answers."""
        wanted = {self.answer_sha(a) for a in question.answers}
        return {doc for doc, sha in self._source_sha.items() if sha in wanted}

    def is_right(self, question: Question, passage: Passage, strict: bool = False) -> bool:
        """Whether the passage holds one of the question's answers (`strict`: the writer's, not a judge's)."""
        sha = self._source_sha.get(passage.document_id)
        if sha is None:
            return False
        passage_words = words(passage.text)
        for answer in question.answers:
            if (strict and answer.judged) or self.answer_sha(answer) != sha:
                continue
            quote = self._quote_words.setdefault(answer.quote, words(answer.quote))
            if covers(passage_words, quote):
                return True
        return False

    def findable(self, question: Question, passages: Iterable[Passage]) -> bool:
        """Whether any indexed passage holds the writer's answer (False: the parser lost or split it)."""
        return any(self.is_right(question, p, strict=True) for p in passages)


@dataclass(frozen=True)
class Outcome:
    question: Question
    rank: int | None  # 1-based rank of the first passage with the writer's answer within the depth; None: not found
    flagged: bool  # the service said "probably not in the corpus"
    confidence: float
    judged_rank: int | None = None  # the same, counting the judged answers too


Ask = Callable[[str], tuple[list[Passage], bool, float]]


def run(questions: Sequence[Question], ask: Ask, judge: Judge) -> list[Outcome]:
    """Ask every question; `ask` returns the ranked passages, the not-in-corpus flag and the confidence."""
    outcomes = []
    for q in questions:
        passages, flagged, confidence = ask(q.question)
        rank = next((i for i, p in enumerate(passages, start=1) if judge.is_right(q, p, strict=True)), None)
        judged = next((i for i, p in enumerate(passages, start=1) if judge.is_right(q, p)), None)
        outcomes.append(Outcome(q, rank, flagged, confidence, judged))
    return outcomes


@dataclass(frozen=True)
class Score:
    questions: int
    top1: float
    top3: float
    mrr10: float
    false_alarms: float | None  # answerable questions flagged "not in the corpus"
    caught: float | None  # unanswerable questions flagged
    unanswerable: int = 0  # how many questions have no answer (caught is a share of these)

    @classmethod
    def of(cls, outcomes: Sequence[Outcome], judged: bool = False) -> Score:
        """`judged`: a judged answer counts as right (the first such rank), else only the writer's quote."""
        answerable = [o for o in outcomes if o.question.answerable]
        unanswerable = [o for o in outcomes if not o.question.answerable]
        n = len(answerable)
        ranks = [o.judged_rank if judged else o.rank for o in answerable]

        def share(items: Sequence[Outcome], test: Callable[[Outcome], bool]) -> float | None:
            return sum(1 for o in items if test(o)) / len(items) if items else None

        return cls(
            questions=n,
            top1=sum(1 for r in ranks if r == 1) / n if n else 0.0,
            top3=sum(1 for r in ranks if r is not None and r <= 3) / n if n else 0.0,
            mrr10=sum(1.0 / r for r in ranks if r is not None and r <= 10) / n if n else 0.0,
            false_alarms=share(answerable, lambda o: o.flagged),
            caught=share(unanswerable, lambda o: o.flagged),
            unanswerable=len(unanswerable),
        )
