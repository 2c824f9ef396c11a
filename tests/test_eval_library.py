"""The library benchmark's judge: writers' quotes, judged answers, fixed splits, and the data files it reads."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from evaluate.library import (
    FRESH,
    SPLITS,
    Answer,
    Judge,
    Outcome,
    Question,
    Score,
    covers,
    load_questions,
    read_jsonl,
    unique_quote,
    words,
)
from index.records import DocumentInfo, Passage

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench/data"

ARTICLE_17 = (
    "The Contracting State shall accord to refugees lawfully staying in their territory the most favourable "
    "treatment accorded to nationals of a foreign country in the same circumstances, as regards the right to "
    "engage in wage-earning employment."
)
ARTICLE_18 = (
    "The Contracting States shall accord to a refugee lawfully in their territory treatment as favourable as "
    "possible and, in any event, not less favourable than that accorded to aliens generally in the same "
    "circumstances, as regards the right to engage on his own account in agriculture, industry, handicrafts."
)
ARTICLE_19 = (  # opens with Article 17's first eleven words
    "The Contracting State shall accord to refugees lawfully staying in their territory who hold diplomas "
    "recognized by the competent authorities of that State, and who are desirous of practising a liberal "
    "profession, treatment as favourable as possible."
)
RECITAL = "Refugees should be able to take up paid work in the country that received them."


def passage(anchor: str, text: str, document: str = "conv") -> Passage:
    return Passage(document_id=document, anchor=anchor, kind="paragraph", text=text, label=anchor)


def write_lines(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def library(tmp_path: Path) -> Judge:
    shared = tmp_path / "shared"
    shared.mkdir()
    source = shared / "conv.md"
    source.write_text(ARTICLE_17 + "\n\n" + ARTICLE_18 + "\n\n" + RECITAL + "\n", encoding="utf-8")
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    info = DocumentInfo(id="conv", title="Convention", source=str(source), sha256=sha, format="markdown")
    return Judge(shared, {"conv": info})


def test_judged_answers_count_only_where_asked(tmp_path: Path) -> None:
    judge = library(tmp_path)
    questions = write_lines(
        tmp_path / "questions.jsonl",
        [
            {
                "id": "q1",
                "question": "May refugees work for wages?",
                "answers": [{"file": "conv.md", "where": "Article 17", "quote": "the right to engage in wage-earning"}],
            },
            {"id": "n1", "question": "What does the Cartagena Declaration say?", "answers": []},
        ],
    )
    recital, self_employed = passage("recital", RECITAL), passage("art-18", ARTICLE_18)
    judgments = write_lines(
        tmp_path / "judgments.jsonl",
        [
            {"question": "q1", "passage": "conv#recital", "file": "conv.md", "where": "Recital", "answers": True,
             "quote": unique_quote(recital, [recital, self_employed, passage("art-17", ARTICLE_17)])},
            {"question": "q1", "passage": "conv#art-18", "file": "conv.md", "where": "Article 18", "answers": False,
             "quote": "engage on his own account in agriculture industry handicrafts"},
            {"question": "n1", "passage": "conv#recital", "file": "conv.md", "where": "Recital", "answers": True,
             "quote": "take up paid work in the country that received them"},
        ],
    )  # fmt: skip
    strict = {q.id: q for q in load_questions(questions)}
    judged = {q.id: q for q in load_questions(questions, judgments)}
    assert [a.judged for a in judged["q1"].answers] == [False, True]  # the false verdict adds nothing
    assert judged["n1"].answers == () and not judged["n1"].answerable  # a judgment never makes a question answerable
    assert not judge.is_right(strict["q1"], recital)
    assert judge.is_right(judged["q1"], recital) and not judge.is_right(judged["q1"], recital, strict=True)
    assert not judge.is_right(judged["q1"], self_employed)
    assert judge.is_right(judged["q1"], passage("art-17", ARTICLE_17), strict=True)
    assert not judge.findable(judged["q1"], [recital])  # findable asks for the writer's passage


def test_scores_strict_and_judged() -> None:
    question = Question("q1", "?", "plain", (Answer("f", "Article 17", "x"),))
    outcomes = [
        Outcome(question, rank=2, flagged=False, confidence=0.9, judged_rank=1),
        Outcome(question, rank=None, flagged=True, confidence=0.1, judged_rank=3),
        Outcome(question, rank=1, flagged=False, confidence=0.9, judged_rank=1),
        Outcome(Question("n1", "?", "plain", ()), rank=None, flagged=True, confidence=0.1),
    ]
    strict, judged = Score.of(outcomes), Score.of(outcomes, judged=True)
    assert (strict.questions, strict.top1, strict.top3) == (3, 1 / 3, 2 / 3)
    assert abs(strict.mrr10 - (0.5 + 1.0) / 3) < 1e-12
    assert (judged.top1, judged.top3) == (2 / 3, 1.0)
    assert abs(judged.mrr10 - (1 + 1 / 3 + 1) / 3) < 1e-12
    assert strict.false_alarms == judged.false_alarms == 1 / 3 and strict.caught == judged.caught == 1.0


def test_unique_quote_is_held_by_its_passage_alone() -> None:
    siblings = [passage(a, t) for a, t in (("art-17", ARTICLE_17), ("art-18", ARTICLE_18), ("art-19", ARTICLE_19))]
    siblings.append(passage("recital", RECITAL))
    for p in siblings:
        quote = words(unique_quote(p, siblings))
        assert 10 <= len(quote) <= 15
        assert covers(words(p.text), quote)
        assert not any(covers(words(o.text), quote) for o in siblings if o is not p)
    # Articles 17 and 19 open alike: Article 17's opening words would credit Article 19
    assert not unique_quote(siblings[0], siblings).startswith("the contracting state shall accord")
    twin = passage("copy", ARTICLE_17)
    assert covers(words(ARTICLE_17), words(unique_quote(twin, [*siblings, twin])))  # no run is its own: first words


def test_named_split_is_kept_and_the_rest_halved(tmp_path: Path) -> None:
    rows: list[dict[str, object]] = [
        {"id": f"q{i}", "question": "?", "answers": [{"file": "a.md", "quote": "x"}]} for i in range(10)
    ]
    rows += [
        {"id": f"f{i}", "question": "?", "split": FRESH, "answers": [{"file": "a.md", "quote": "x"}]} for i in range(3)
    ]
    questions = load_questions(write_lines(tmp_path / "q.jsonl", rows))
    assert [q.split for q in questions if q.id.startswith("f")] == [FRESH] * 3
    halves = [q.split for q in questions if q.id.startswith("q")]
    assert sorted(halves) == sorted([SPLITS[0]] * 5 + [SPLITS[1]] * 5)


def test_the_shipped_question_sets_and_judgments_are_consistent() -> None:
    main = load_questions(DATA / "library_questions.jsonl")
    assert {q.split for q in main} == set(SPLITS)
    ids = {q.id for q in main}
    fresh_path = DATA / "library_questions_fresh.jsonl"
    if fresh_path.exists():
        fresh = load_questions(fresh_path)
        assert {q.split for q in fresh} == {FRESH}
        assert not ids & {q.id for q in fresh}
        ids |= {q.id for q in fresh}
    fresh2 = load_questions(DATA / "library_questions_fresh2.jsonl")  # written to choose the ranker (README)
    assert {q.split for q in fresh2} == {"fresh2"} and len(fresh2) == len({q.id for q in fresh2})
    assert sum(q.answerable for q in fresh2) >= 135 and sum(not q.answerable for q in fresh2) >= 30
    assert not ids & {q.id for q in fresh2}
    written = [
        json.loads(line) for path in sorted((DATA / "train").glob("*.jsonl")) for line in path.open() if line.strip()
    ]
    assert not {q.id for q in fresh2} & {w["id"] for w in written}  # nothing fits, tunes or learns on it
    fresh3 = load_questions(DATA / "library_questions_fresh3.jsonl")  # written to choose the refitted ranker
    assert {q.split for q in fresh3} == {"fresh3"} and len(fresh3) == len({q.id for q in fresh3})
    assert sum(q.answerable for q in fresh3) >= 135 and sum(not q.answerable for q in fresh3) >= 30
    assert not (ids | {q.id for q in fresh2} | {w["id"] for w in written}) & {q.id for q in fresh3}
    pairs_j = [w for w in written if w["id"].startswith(("jan", "jbn"))]  # part j: near misses, each with its pair
    detail = {w["id"]: w for w in written if w["id"].startswith(("ja", "jb"))}
    assert len(pairs_j) == 125 and all(not w["answers"] and detail[w["pair"]]["answers"] for w in pairs_j)
    judgments = read_jsonl(DATA / "library_judgments.jsonl")
    pairs = [(j["question"], j["passage"]) for j in judgments]
    assert len(pairs) == len(set(pairs)), "a pair judged twice"
    for j in judgments:
        assert j["question"] in ids, j
        assert isinstance(j["answers"], bool) and j["file"] and j["where"], j
        assert 1 <= len(words(j["quote"])) <= 15, j
    assert any(j["answers"] for j in judgments) and not all(j["answers"] for j in judgments)
