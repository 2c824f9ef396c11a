"""Settings the engine would only choke on later (a fusion it does not know, a default k over the limit) are
refused at start, by every command, with the usage error that names them (exit 2), never a traceback or a
service that stays "loading" or blames its clients."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError

from index.dense import KINDS
from index.embedder import RUNTIMES
from index.fusion import METHODS
from service.settings import Settings

from .reindex_support import run_pqa


def pqa(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return run_pqa(args, env, timeout)


def assert_refused(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("pqa: error: ") and line.endswith("(see the README's Settings)"), line
    for fragment in fragments:
        assert fragment in line, line


BAD_FUSION = ("PQA_FUSION='bogus'", "'convex', 'rrf', 'learned'")


def test_an_unknown_fusion_is_refused_by_pqa_ask(paper_index: Path) -> None:
    assert_refused(pqa({"PQA_FUSION": "bogus"}, "ask", "How does IOM define protection?", "--index", str(paper_index)))


def test_an_unknown_fusion_is_refused_by_pqa_serve_before_it_serves(paper_index: Path) -> None:
    """Before, the service started, logged the ValueError and answered 503 "loading" for ever."""
    done = pqa({"PQA_FUSION": "bogus"}, "serve", "--index", str(paper_index), "--port", "0", timeout=60)
    assert_refused(done, *BAD_FUSION)


@pytest.mark.parametrize(
    ("field", "known"), [("fusion", METHODS), ("runtime", RUNTIMES), ("dense_index", KINDS)], ids=str
)
def test_the_free_word_settings_accept_what_the_engine_knows_and_nothing_else(
    field: str, known: tuple[str, ...]
) -> None:
    """The settings model's choices are the engine's own (index/search.py, index/embedder.py, index/dense.py)."""
    for value in known:
        assert getattr(Settings(**{field: value}), field) == value  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as refused:
        Settings(**{field: "bogus"})  # type: ignore[arg-type]
    assert [error["loc"] for error in refused.value.errors()] == [(field,)]


def test_every_fusion_the_settings_accept_makes_a_ranking() -> None:
    for method in METHODS:
        assert Settings(fusion=method).ranking().method == method


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PQA_DEFAULT_K": "60"}, "PQA_DEFAULT_K=60 is larger than PQA_MAX_K=50"),
        ({"PQA_MAX_K": "3"}, "PQA_DEFAULT_K=5 is larger than PQA_MAX_K=3"),
        ({"PQA_DEFAULT_K": "12", "PQA_MAX_K": "10"}, "PQA_DEFAULT_K=12 is larger than PQA_MAX_K=10"),
    ],
)
def test_a_default_k_over_the_max_k_is_refused_at_start_naming_both(
    paper_index: Path, env: dict[str, str], named: str
) -> None:
    """Before, it was accepted, and every request that left k out got "k must be between 1 and 50, got 60"."""
    assert_refused(pqa(env, "index", "list", "--index", str(paper_index)), named)
    assert_refused(pqa(env, "ask", "How does IOM define protection?", "--index", str(paper_index)), named)


def test_a_default_k_within_the_max_k_is_accepted() -> None:
    assert (Settings(default_k=10, max_k=10).default_k, Settings(max_k=5).max_k) == (10, 5)
    with pytest.raises(ValidationError) as refused:
        Settings(default_k=0)
    assert [error["loc"] for error in refused.value.errors()] == [("default_k",)]  # its own error alone
