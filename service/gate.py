"""The quality gate: a new generation that answers fewer golden questions than the current one is not swapped in.

A golden set is a JSON-lines file, one `{"question": ..., "expect": ANCHOR}` a line, where ANCHOR is a
passage's anchor ("para-7") or full id ("iom-approach-to-protection#para-7"). A question is answered
when that passage is among the first `k` (3) hits. `--force` swaps a generation in whatever its score.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from index.embedder import Embedder
from index.errors import SearchIndexError
from index.manifest import GateRecord
from index.search import Searcher
from index.snapshot import Snapshot

GATE_K = 3


class GoldenSetInvalid(SearchIndexError):
    """The configured golden question set cannot be read."""


@dataclass(frozen=True)
class GoldenQuestion:
    question: str
    expect: str


@dataclass(frozen=True)
class GoldenSet:
    path: str
    questions: tuple[GoldenQuestion, ...]
    sha256: str = ""


@dataclass(frozen=True)
class GateResult:
    """How the candidate generation and the current one scored, and whether the candidate may be swapped in."""

    golden: str
    questions: int
    k: int
    current: float | None
    candidate: float
    passed: bool
    forced: bool
    reason: str
    missed: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "golden": self.golden,
            "questions": self.questions,
            "k": self.k,
            "current_hit_rate": self.current,
            "candidate_hit_rate": self.candidate,
            "passed": self.passed,
            "forced": self.forced,
            "reason": self.reason,
            "missed": list(self.missed),
        }


def load_golden(path: Path | str) -> GoldenSet:
    """Read a golden set; a missing file or a bad line is a GoldenSetInvalid naming the line."""
    path = Path(path)
    try:
        data = path.read_bytes()
        lines = data.decode("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldenSetInvalid(
            f"cannot read the golden set {path}: {getattr(exc, 'strerror', None) or exc}; "
            "fix PQA_GOLDEN / --golden or unset it"
        ) from exc
    questions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            questions.append(GoldenQuestion(str(item["question"]), str(item["expect"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise GoldenSetInvalid(
                f"{path} line {number} is not a JSON object with 'question' and 'expect' ({exc}); fix it"
            ) from exc
    if not questions:
        raise GoldenSetInvalid(f"the golden set {path} has no questions; add some or unset PQA_GOLDEN")
    return GoldenSet(str(path), tuple(questions), hashlib.sha256(data).hexdigest())


def _answered(searcher: Searcher, item: GoldenQuestion, k: int) -> bool:
    hits = searcher.search(item.question, k=k)
    return any(item.expect in (hit.passage.anchor, hit.passage.id) for hit in hits)


def misses(snapshot: Snapshot, embedder: Embedder, questions: Sequence[GoldenQuestion], k: int = GATE_K) -> list[str]:
    """The golden questions whose expected passage is not in the snapshot's top `k`."""
    searcher = Searcher(snapshot, embedder)
    return [item.question for item in questions if not _answered(searcher, item, k)]


def judge(
    candidate: Snapshot, current: Snapshot | None, embedder: Embedder, golden: GoldenSet, force: bool = False
) -> GateResult:
    """Score both generations on the golden set; the candidate passes unless it answers fewer questions."""
    total = len(golden.questions)
    missed = misses(candidate, embedder, golden.questions)
    score = round((total - len(missed)) / total, 4)
    before = _score_of(current, embedder, golden) if current is not None else None
    if before is None:
        passed, reason = True, f"hit@{GATE_K} {score:.1%} on {total} questions (no current generation to compare)"
    elif score >= before:
        passed, reason = True, f"hit@{GATE_K} {score:.1%} is not below the current generation's {before:.1%}"
    else:
        passed = False
        reason = (
            f"hit@{GATE_K} on {golden.path} fell from {before:.1%} to {score:.1%} ({len(missed)} of {total} "
            "questions missed); the current generation stays. Fix the documents, or run again with --force"
        )
    if not passed and force:
        passed, reason = True, reason.split("; ")[0] + "; swapped in anyway (--force)"
    return GateResult(golden.path, total, GATE_K, before, score, passed, force, reason, tuple(missed))


def manifest_entry(result: GateResult, golden: GoldenSet) -> GateRecord:
    """What a committed generation records of its score, so the next gate need not ask it the questions again."""
    return GateRecord(golden_sha256=golden.sha256, k=result.k, hit_rate=result.candidate)


def _score_of(current: Snapshot, embedder: Embedder, golden: GoldenSet) -> float | None:
    if current.model != embedder.name:
        return None  # built with another model: not comparable
    recorded = current.manifest.gate
    if recorded is not None and recorded.golden_sha256 == golden.sha256 and recorded.k == GATE_K and golden.sha256:
        return recorded.hit_rate
    total = len(golden.questions)
    return round((total - len(misses(current, embedder, golden.questions))) / total, 4)
