"""The BEIR harness end to end on a tiny hand-made dataset: loader, retrievers, metrics and `pqa eval beir`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from evaluate.baselines import Bm25Baseline
from evaluate.beir import BeirFormatError, load_beir, read_qrels
from evaluate.evaluation import Retriever, beir_snapshot, evaluate, make_retriever
from evaluate.vectorcache import VectorCache
from index.embedder import Embedder
from index.fusion import Fusion
from index.snapshot import Snapshot
from service.cli import main

CORPUS = [
    {"_id": "d1", "title": "Apples", "text": "Orchards grow apples in cool climates."},
    {"_id": "d2", "title": "Bananas", "text": "Bananas ripen in tropical plantations."},
    {"_id": "d3", "title": "Volcanoes", "text": "Lava flows from erupting volcanoes."},
    {"_id": "d4", "title": "Glaciers", "text": "Glaciers carve valleys over millennia."},
    {"_id": "d5", "title": "Tides", "text": "The moon pulls the oceans into tides."},
    {"_id": "d6", "title": "", "text": "Honeybees pollinate orchard blossoms."},
]
QUERIES = [
    {"_id": "q1", "text": "apples"},
    {"_id": "q2", "text": "bananas"},
    {"_id": "q3", "text": "glaciers"},
    {"_id": "q9", "text": "never judged"},
]
# q1: d1 is the only document with "apples" and the only relevant one -> every metric 1.
# q2: d2 has "bananas" (relevant), d5 is relevant too but shares no word -> BM25 returns [d2] only:
#     nDCG@10 = 1 / (1 + 1/log2(3)), Recall@100 = 1/2, MRR@10 = 1.
# q3: graded: d4 (grade 2) is found, d3 (grade 1) is not: nDCG@10 = 2 / (2 + 1/log2(3)), Recall 1/2, MRR 1.
QRELS = "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq2\td5\t1\nq3\td4\t2\nq3\td3\t1\n"


def write_beir(folder: Path) -> Path:
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in CORPUS))
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in QUERIES))
    (folder / "qrels" / "test.tsv").write_text(QRELS)
    return folder


EXPECTED_NDCG = (1 + 1 / (1 + 1 / math.log2(3)) + 2 / (2 + 1 / math.log2(3))) / 3
EXPECTED_RECALL = (1 + 0.5 + 0.5) / 3


def test_loader_reads_corpus_queries_and_graded_qrels(tmp_path: Path) -> None:
    dataset = load_beir(write_beir(tmp_path / "tiny"))
    assert dataset.name == "tiny"
    assert [p.anchor for p in dataset.document.passages] == ["d1", "d2", "d3", "d4", "d5", "d6"]
    assert dataset.document.passages[0].text == "Apples Orchards grow apples in cool climates."
    assert dataset.document.passages[5].text == "Honeybees pollinate orchard blossoms."
    assert list(dataset.queries) == ["q1", "q2", "q3"]  # q9 has no judgments
    assert dataset.qrels["q3"] == {"d4": 2, "d3": 1}


def test_loader_errors_name_the_missing_file(tmp_path: Path) -> None:
    folder = write_beir(tmp_path / "tiny")
    with pytest.raises(BeirFormatError, match=r"train\.tsv is missing"):
        load_beir(folder, "train")
    (folder / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "apples"}) + "\n")
    with pytest.raises(BeirFormatError, match=r"not in queries\.jsonl"):
        load_beir(folder)
    (folder / "qrels" / "bad.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\n")
    with pytest.raises(BeirFormatError, match="expected 'query-id corpus-id score'"):
        read_qrels(folder / "qrels" / "bad.tsv")


def test_bm25_baseline_scores_match_hand_computed_metrics(tmp_path: Path, embedder: Embedder) -> None:
    dataset = load_beir(write_beir(tmp_path / "tiny"))
    snapshot = beir_snapshot(dataset, embedder)
    result = evaluate(make_retriever("bm25", snapshot, embedder), dataset, snapshot, embedder.runtime)
    assert result.queries == 3
    assert result.ndcg_at_10 == pytest.approx(EXPECTED_NDCG, abs=1e-4)
    assert result.recall_at_100 == pytest.approx(EXPECTED_RECALL, abs=1e-4)
    assert result.mrr_at_10 == 1.0
    assert result.runtime == "-"
    assert 0 < result.p50_ms <= result.p99_ms


def test_bm25_baseline_returns_only_matching_rows() -> None:
    baseline = Bm25Baseline([d["title"] + " " + d["text"] for d in CORPUS])
    assert baseline.rank("bananas", 10) == [1]
    assert baseline.rank("the of and", 10) == []  # only stop words


def test_dense_and_default_find_the_obvious_documents(tmp_path: Path, embedder: Embedder) -> None:
    dataset = load_beir(write_beir(tmp_path / "tiny"))
    snapshot = beir_snapshot(dataset, embedder)
    for name in ("dense", "hybrid", "default"):
        result = evaluate(make_retriever(name, snapshot, embedder), dataset, snapshot, embedder.runtime)
        # every relevant document is among six, so recall@100 is 1; q1's and q2's answers come first
        assert result.recall_at_100 == 1.0, name
        assert result.mrr_at_10 == 1.0, name
        assert result.runtime == embedder.runtime


def test_pqa_eval_beir_prints_json_and_caches_embeddings(
    tmp_path: Path, embedder: Embedder, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import index.embedder

    monkeypatch.setattr(index.embedder, "load_embedder", lambda *args, **kwargs: embedder)
    folder = write_beir(tmp_path / "tiny")
    cache = tmp_path / "cache"
    argv = ["eval", "beir", str(folder), "--retriever", "bm25", "--json", "--cache", str(cache)]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dataset"] == "tiny" and report["queries"] == 3 and report["passages"] == 6
    [bm25] = report["results"]
    assert bm25["retriever"] == "bm25"
    assert bm25["ndcg_at_10"] == pytest.approx(EXPECTED_NDCG, abs=1e-4)
    assert bm25["recall_at_100"] == pytest.approx(EXPECTED_RECALL, abs=1e-4)
    assert report["embedding"]["passages"] == 6 and report["embedding"]["passages_per_s"] > 0
    stored = VectorCache.for_embedder(cache, embedder)
    assert len(stored) >= 6  # one window per passage (plus sentences): a second run embeds nothing
    # filed under the runtime that really ran (and, for OpenVINO, the weights it compiled)
    assert embedder.runtime in stored.folder.name
    if hasattr(embedder, "weights_sha256"):
        assert embedder.weights_sha256[:12] in stored.folder.name

    assert main(["eval", "beir", str(folder), "--retriever", "default", "--cache", str(cache)]) == 0
    table = capsys.readouterr().out
    assert "default" in table and "nDCG@10" in table and "passages/s" in table


def test_pqa_eval_beirs_default_is_the_pipeline_the_settings_make(
    tmp_path: Path, embedder: Embedder, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import evaluate.evaluation
    import index.embedder

    monkeypatch.setattr(index.embedder, "load_embedder", lambda *args, **kwargs: embedder)
    made = []
    real = evaluate.evaluation.make_retriever

    def recording(name: str, snapshot: Snapshot, embedder: Embedder, fusion: Fusion | None = None) -> Retriever:
        made.append((name, fusion))
        return real(name, snapshot, embedder, fusion)

    monkeypatch.setattr(evaluate.evaluation, "make_retriever", recording)
    folder = write_beir(tmp_path / "tiny")
    for method in ("convex", "learned"):
        monkeypatch.setenv("PQA_FUSION", method)
        made.clear()
        assert main(["eval", "beir", str(folder), "--retriever", "default", "--cache", str(tmp_path / "c")]) == 0
        assert [(name, f.method if f else None) for name, f in made] == [("default", method)]
    capsys.readouterr()


def test_pqa_eval_usage_errors_exit_2(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", "beir", str(tmp_path), "--retriever", "nonsense"])
    assert exit_info.value.code == 2
