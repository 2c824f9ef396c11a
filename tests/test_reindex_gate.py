"""The golden gate with the real model: a generation that answers fewer golden questions (hit@3) than the
current one is not swapped in, the report says why, and --force overrides."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import index.embedder
from index.embedder import Embedder
from index.manifest import GateRecord
from index.store import Store
from service.cli import main
from service.gate import GoldenSetInvalid, load_golden
from service.reindex import ingest

from .conftest import PAPER_ID
from .reindex_support import edit_paragraph_7, make_corpus, paper

GOLDEN = Path(__file__).parent / "data" / "golden.jsonl"
FILLER = "This paragraph now only lists the office supplies ordered for the meeting room."


def blank_paragraphs(corpus: Path, numbers: tuple[int, ...]) -> None:
    """Replace whole numbered paragraphs of the paper with filler (their numbers, hence ids, stay)."""
    path = paper(corpus)
    text = path.read_text(encoding="utf-8")
    for number in numbers:
        text = re.sub(rf"(?m)^{number}\. .*$", f"{number}. {FILLER}", text, count=1)
    path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    root = tmp_path_factory.mktemp("gate")
    store = Store(root / "index")
    golden = load_golden(GOLDEN)
    report = ingest([make_corpus(root / "corpus", with_note=False)], store, lambda: embedder, golden=golden)
    assert report.gate is not None and report.gate.current is None and report.gate.passed
    assert "no current generation to compare" in report.gate.reason
    recorded = store.current().manifest.gate  # the next gate reads the score instead of asking again
    assert recorded == GateRecord(golden_sha256=golden.sha256, k=3, hit_rate=report.gate.candidate)
    return root


@pytest.fixture
def work(pristine: Path, tmp_path: Path) -> tuple[Path, Store]:
    shutil.copytree(pristine / "corpus", tmp_path / "corpus")
    shutil.copytree(pristine / "index", tmp_path / "index")
    return tmp_path / "corpus", Store(tmp_path / "index")


def test_a_worse_generation_is_not_swapped_in_and_force_overrides(work: tuple[Path, Store], embedder: Embedder) -> None:
    corpus, store = work
    before, names = store.current_name(), store.names()
    blank_paragraphs(corpus, (5, 7, 9))
    golden = load_golden(GOLDEN)

    report = ingest([corpus], store, lambda: embedder, golden=golden)
    assert report.rejected and report.generation is None and report.gate is not None
    gate = report.gate
    assert gate.questions == len(golden.questions) and gate.k == 3
    assert gate.current is not None and gate.current >= 0.95 and gate.candidate < gate.current
    assert "How does IOM define protection?" in gate.missed
    assert f"fell from {gate.current:.1%} to {gate.candidate:.1%}" in gate.reason and "--force" in gate.reason
    assert (store.current_name(), store.names()) == (before, names)  # nothing was written

    forced = ingest([corpus], store, lambda: embedder, golden=golden, force=True)
    assert forced.generation is not None and store.current_name() == forced.generation
    assert forced.gate is not None and forced.gate.passed and forced.gate.forced
    assert "swapped in anyway (--force)" in forced.gate.reason


def test_an_edit_that_keeps_the_answers_passes_the_gate(work: tuple[Path, Store], embedder: Embedder) -> None:
    corpus, store = work
    edit_paragraph_7(corpus, "It also applies to stateless persons.")
    report = ingest([corpus], store, lambda: embedder, golden=load_golden(GOLDEN))
    assert report.gate is not None and report.gate.passed and not report.gate.forced
    assert report.gate.current is not None and report.gate.candidate >= report.gate.current
    assert report.generation is not None and store.current_name() == report.generation
    assert report.updated == [PAPER_ID]


def test_pqa_ingest_golden_and_force_on_the_command_line(
    work: tuple[Path, Store],
    embedder: Embedder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    corpus, store = work
    monkeypatch.setattr(index.embedder, "load_embedder", lambda *args, **kwargs: embedder)  # the session's real model
    before = store.current_name()
    blank_paragraphs(corpus, (7,))
    args = ["ingest", str(corpus), "--index", str(store.root), "--golden", str(GOLDEN)]

    assert main(args) == 1
    out = capsys.readouterr().out
    assert f"NOT swapped in; still serving generation {before}" in out
    assert re.search(r"gate: hit@3 on .*golden.jsonl fell from 100\.0% to 9\d\.\d%", out), out
    assert store.current_name() == before

    assert main([*args, "--force"]) == 0
    out = capsys.readouterr().out
    assert "swapped in anyway (--force)" in out and store.current_name() != before


def test_a_bad_golden_file_is_a_clear_error_before_any_work(
    work: tuple[Path, Store], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus, store = work
    bad = tmp_path / "golden.jsonl"
    bad.write_text('{"question": "How does IOM define protection?", "expect": "para-7"}\n{"question": "no expect"}\n')
    with pytest.raises(GoldenSetInvalid, match=r"golden\.jsonl line 2 is not a JSON object with 'question' and"):
        load_golden(bad)
    with pytest.raises(GoldenSetInvalid, match="cannot read the golden set"):
        load_golden(tmp_path / "missing.jsonl")
    edit_paragraph_7(corpus, "A change that is never indexed.")
    assert main(["ingest", str(corpus), "--index", str(store.root), "--golden", str(bad)]) == 1
    assert "line 2 is not a JSON object" in capsys.readouterr().err
    assert len(store.names()) == 1
