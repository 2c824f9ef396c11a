"""The automatic precision: bf16 where the CPU has it and a measurement accepted it, else fp32; int8 when asked.

The acceptance itself is measured by bench/accept.py (SciFact nDCG@10 and the golden set, minutes of work) and
recorded; these tests check the rule and the choice on recorded results, and one real load of each choice.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

import index.runtime
from index import conversion, precision
from index.embedder import load_embedder
from index.precision import Acceptance, choose, judge
from index.runtime import OpenVinoEmbedder

pytestmark = pytest.mark.skipif(not index.runtime.openvino_available(), reason="openvino is not installed")


def record(name: str, accepted: bool, weights: str = "w" * 64) -> Acceptance:
    ndcg = 0.735 if accepted else 0.72
    ok, reason = judge(name, 0.735, ndcg, 52, 52)
    assert ok == accepted
    return Acceptance(name, weights, 0.735, ndcg, 52, 52, ok, reason)


def test_the_rule_is_half_a_point_of_ndcg_and_every_golden_answer_in_the_first_three() -> None:
    assert judge("int8", 0.7350, 0.7301, 52, 52)[0]
    assert judge("int8", 0.7350, 0.7400, 52, 52)[0]  # better is fine
    accepted, reason = judge("int8", 0.7350, 0.7290, 52, 52)
    assert not accepted and "falls 0.0060, more than 0.005" in reason
    accepted, reason = judge("bf16", 0.7350, 0.7350, 51, 52)
    assert not accepted and "golden answer left the first three" in reason


def test_bf16_where_the_cpu_has_it_and_it_was_accepted() -> None:
    choice = choose(True, record("bf16", True))
    assert choice.precision == "bf16" and "bf16 accepted" in choice.reason


def test_fp32_where_there_is_no_bf16_because_int8_weights_were_not_faster() -> None:
    choice = choose(False, None)
    assert choice.precision == "fp32"
    assert "no bf16" in choice.reason and "no faster than fp32" in choice.reason


def test_fp32_and_the_reason_where_bf16_was_rejected_or_never_measured_on_a_bf16_cpu() -> None:
    rejected = choose(True, record("bf16", False))
    assert rejected.precision == "fp32" and "bf16 rejected" in rejected.reason
    unmeasured = choose(True, None)
    assert unmeasured.precision == "fp32" and "run: .venv/bin/python bench/accept.py" in unmeasured.reason
    assert "bf16 was never measured" in unmeasured.reason


def test_records_apply_only_to_the_weights_measured(tmp_path: Path) -> None:
    path = tmp_path / "acceptance.json"
    precision.save_record(path, record("int8", False, "a" * 64))
    precision.save_record(path, record("int8", True, "a" * 64))  # a newer measurement replaces the older
    precision.save_record(path, record("bf16", True, "b" * 64))
    records = precision.load_records([path, tmp_path / "missing.json"])
    assert len(records) == 2
    found = precision.find(records, "int8", "a" * 64)
    assert found is not None and found.accepted
    assert precision.find(records, "int8", "b" * 64) is None
    assert precision.find(records, "bf16", "a" * 64) is None


def test_the_shipped_records_agree_with_the_rule() -> None:
    # a record that says accepted must carry numbers that pass; so must its stated reason
    rows = json.loads(precision.SHIPPED.read_text())
    assert rows, "index/data/acceptance.json is empty; run: .venv/bin/python bench/accept.py --ship"
    for row in rows:
        item = Acceptance(**row)
        assert item.precision in ("bf16", "int8")
        assert judge(item.precision, item.ndcg_fp32, item.ndcg, item.golden_top3, item.golden_total) == (
            item.accepted,
            item.reason,
        )
        assert len(item.weights_sha256) == 64


@pytest.fixture(scope="module")
def cache(openvino_cache: Path) -> Path:
    """The session's conversion of the bundled model, with its int8 weights."""
    embedder = load_embedder(runtime="openvino-int8", cache_dir=openvino_cache)
    assert isinstance(embedder, OpenVinoEmbedder)
    return embedder.cache_folder


def _auto(cache: Path) -> OpenVinoEmbedder:
    embedder = load_embedder(runtime="openvino", cache_dir=cache.parent)
    assert isinstance(embedder, OpenVinoEmbedder)
    return embedder


def test_auto_on_a_cpu_without_bf16_runs_fp32_even_with_int8_accepted_and_int8_only_when_asked(
    cache: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.setattr(index.runtime, "cpu_has_bf16", lambda: False)
    monkeypatch.setattr(precision, "SHIPPED", tmp_path / "none.json")  # only what this test records
    int8_weights = conversion.weights_sha256(cache / conversion.INT8)
    local = cache / precision.RECORDS
    local.unlink(missing_ok=True)
    try:
        precision.save_record(local, record("int8", True, int8_weights))
        with caplog.at_level(logging.WARNING, logger="pqa.runtime"):
            auto = _auto(cache)
        assert auto.runtime == "openvino-fp32" and "no faster than fp32" in auto.precision_reason
        assert index.runtime.matrix_weight_types(auto.compiled) == {"f32"}
        assert "falls back" not in caplog.text  # fp32 is the fastest such a CPU runs: nothing to warn about
    finally:  # the session's other tests load from this cache too
        local.unlink(missing_ok=True)
    asked = load_embedder(runtime="openvino-int8", cache_dir=cache.parent)
    assert isinstance(asked, OpenVinoEmbedder)
    assert asked.runtime == "openvino-int8" and index.runtime.matrix_weight_types(asked.compiled) == {"u8"}
    # the int8 model's vectors are the fp32 model's, within int8's bound, and not the same vectors
    texts = ["How does IOM define protection?", "Article 33 forbids returning a refugee to danger."]
    cosines = (asked.embed_documents(texts) * auto.embed_documents(texts)).sum(axis=1)
    assert float(cosines.min()) >= 0.998
    assert not np.array_equal(asked.embed_query(texts[0]), auto.embed_query(texts[0]))


def test_auto_on_a_bf16_cpu_warns_when_bf16_was_rejected_or_never_measured(
    cache: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.setattr(index.runtime, "cpu_has_bf16", lambda: True)
    monkeypatch.setattr(precision, "SHIPPED", tmp_path / "none.json")
    local = cache / precision.RECORDS
    local.unlink(missing_ok=True)
    try:
        with caplog.at_level(logging.WARNING, logger="pqa.runtime"):
            unmeasured = _auto(cache)
        assert unmeasured.runtime == "openvino-fp32"
        assert "never measured" in caplog.text and "bench/accept.py" in caplog.text
        precision.save_record(local, record("bf16", False, conversion.weights_sha256(cache)))
        rejected = _auto(cache)
        assert rejected.runtime == "openvino-fp32" and "bf16 rejected" in rejected.precision_reason
    finally:
        local.unlink(missing_ok=True)
