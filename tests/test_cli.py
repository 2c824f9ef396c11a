"""The `pqa` command line: results on stdout, progress on stderr, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .conftest import PAPER, PAPER_SIDECAR, ROOT, LiveServer


def pqa(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )


def test_a_second_ingest_with_nothing_changed_does_nothing(paper_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(paper_index, index)
    before = (index / "CURRENT").read_text()
    result = pqa("ingest", str(PAPER), "--index", str(index), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["generation"] is None
    assert report["unchanged"] == ["iom-approach-to-protection"]
    assert report["embedded"] == 0
    assert "loading the embedding model" not in result.stderr
    assert (index / "CURRENT").read_text() == before


def test_a_missing_input_is_reported_and_exits_1_keeping_the_rest(paper_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(paper_index, index)
    result = pqa("ingest", str(PAPER), str(tmp_path / "nowhere.md"), "--index", str(index))
    assert result.returncode == 1
    assert f"FAILED {tmp_path / 'nowhere.md'}: no such file or folder" in result.stdout
    assert "1 unchanged" in result.stdout


def test_ask_prints_cited_passages(paper_index: Path) -> None:
    result = pqa("ask", "How does IOM define protection?", "--k", "2", "--index", str(paper_index))
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("1. IOM's Approach to the Protection of Migrants and Displaced Persons, para. 7, p. 2")
    assert ">>" in result.stdout and "<<" in result.stdout


def test_ask_says_what_speaks_against_an_answer(paper_index: Path) -> None:
    result = pqa("ask", "How many asylum applications were lodged in Germany in 2023?", "--index", str(paper_index))
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("Nothing in the corpus seems to answer this") and "Against it: it names Germany" in first


def test_ask_json_matches_the_http_passage_shape(paper_index: Path) -> None:
    result = pqa("ask", "Who funded the DIAP initiative?", "--json", "--k", "3", "--index", str(paper_index))
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert len(body["passages"]) == 3
    assert body["passages"][0]["citation"]["label"] == "para. 14"


def test_ask_rerank_loads_the_reranker_for_one_question(paper_index: Path) -> None:
    question = "Who funded the DIAP initiative?"
    plain = json.loads(pqa("ask", question, "--json", "--k", "10", "--index", str(paper_index)).stdout)
    result = pqa("ask", question, "--json", "--k", "10", "--rerank", "--index", str(paper_index))
    assert result.returncode == 0, result.stderr
    reranked = json.loads(result.stdout)
    assert plain["reranked"] is False and reranked["reranked"] is True
    assert all(isinstance(p["explain"]["cross_score"], float) for p in reranked["passages"])
    # the reranker re-orders the first stage's 10 best; it neither adds nor drops one
    assert sorted(p["id"] for p in reranked["passages"]) == sorted(p["id"] for p in plain["passages"])


def test_usage_errors_exit_2(paper_index: Path, tmp_path: Path) -> None:
    assert pqa().returncode == 2
    assert pqa("ingest").returncode == 2
    assert pqa("frobnicate").returncode == 2
    empty = pqa("ask", "  ", "--index", str(paper_index))
    assert empty.returncode == 2 and "the question is empty" in empty.stderr
    bad_k = pqa("ask", "protection", "--k", "0", "--index", str(paper_index))
    assert bad_k.returncode == 2 and "k must be between 1 and 50, got 0" in bad_k.stderr


def test_ask_without_an_index_says_how_to_build_one(tmp_path: Path) -> None:
    result = pqa("ask", "protection", "--index", str(tmp_path / "none"))
    assert result.returncode == 1
    assert "run: pqa ingest corpus/" in result.stderr


def test_serve_prints_the_address_to_open_last_and_no_library_chatter(paper_index: Path) -> None:
    server = LiveServer(paper_index)
    try:
        server.wait_ready()
        address = f"open {server.url} (Ctrl+C stops the service)"
        deadline = time.monotonic() + 30
        while address not in server.output() and time.monotonic() < deadline:
            time.sleep(0.1)
        lines = [line for line in server.output().splitlines() if not line.startswith('{"ts"')]  # access log
    finally:
        server.stop()
    assert lines[-1] == address, lines
    assert lines[0] == f"starting the service on {paper_index} ...", lines
    assert any(line.startswith("INFO pqa.follower: serving generation") for line in lines), lines
    chatter = [line for line in lines if line.startswith(("INFO", "DEBUG")) and not line.split()[1].startswith("pqa")]
    assert not chatter, chatter  # faiss's loader, uvicorn's start-up, bm25s: below the project's level


def test_a_setting_the_environment_gets_wrong_is_named_with_what_it_should_be(paper_index: Path) -> None:
    """Every command reads the settings (PQA_...): a wrong one is a usage error naming it, not a traceback."""
    for name, value, expected in (
        ("PQA_SEARCH_PROCESSES", "abc", "PQA_SEARCH_PROCESSES='abc': Input should be a valid integer"),
        ("PQA_SEARCH_PROCESSES", "-1", "PQA_SEARCH_PROCESSES='-1': Input should be greater than or equal to 0"),
        ("PQA_MAX_K", "many", "PQA_MAX_K='many': Input should be a valid integer"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "service.cli", "index", "list", "--index", str(paper_index)],
            cwd=ROOT,
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, name: value},
        )
        assert done.returncode == 2, done.stderr[-2000:]
        assert expected in done.stderr and "Traceback" not in done.stderr, done.stderr[-2000:]
        assert "README's Settings" in done.stderr


def test_naming_one_file_refuses_to_drop_the_documents_indexed_from_elsewhere(
    paper_index: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    shutil.copytree(paper_index, index)
    before = (index / "CURRENT").read_text()
    other = tmp_path / "lib" / "hotline.md"
    other.parent.mkdir()
    other.write_text("# Hotline\n\n1. The hotline answers every call within two working days.\n", encoding="utf-8")
    result = pqa("ingest", str(other), "--index", str(index))
    assert result.returncode == 1
    assert (
        f"pqa: this run names {other} and would drop 1 document indexed from elsewhere ({PAPER}); nothing was "
        f"changed. Name every folder of the library (pqa ingest {other} {PAPER.parent} --index {index}), or "
        "pass --force to index only what you named"
    ) in result.stderr
    assert "loading the embedding model" not in result.stderr
    assert (index / "CURRENT").read_text() == before


def test_a_copy_under_another_name_is_skipped_not_failed(paper_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(paper_index, index)
    copy = tmp_path / "iom-copy.md"
    shutil.copy(PAPER, copy)
    shutil.copy(PAPER_SIDECAR, tmp_path / "iom-copy.meta.toml")
    for _ in range(2):  # the run that finds it, and one where nothing changed
        result = pqa("ingest", str(PAPER), str(copy), "--index", str(index), "--json")
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["failures"] == [] and report["generation"] is None
        reason = f"the same file as {PAPER} (its bytes and its metadata), indexed once, from that one"
        assert report["skipped"] == [{"path": str(copy), "reason": reason}]
        assert f"skipped {copy}: {reason}" in result.stderr.splitlines()


def test_ask_json_without_an_index_prints_the_http_error_body(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = pqa("ask", "protection", "--index", str(empty), "--json")
    assert result.returncode == 1
    message = f"no index in {empty}; run: pqa ingest corpus/ --index {empty}"
    assert json.loads(result.stdout) == {"error": {"code": "index_not_found", "message": message}}
    assert f"pqa: {message}" in result.stderr


def test_ingest_of_a_path_that_does_not_exist_says_so_and_exits_2(tmp_path: Path) -> None:
    result = pqa("ingest", str(tmp_path / "nonexistent"), "--index", str(tmp_path / "index"))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"pqa: error: no such file or folder: {tmp_path / 'nonexistent'}; nothing was ingested. Name the library's "
        "files or folders (e.g. pqa ingest corpus/)"
    )
    assert "found no documents" not in result.stderr and not (tmp_path / "index").exists()


def test_index_list_without_an_index_says_how_to_build_one_and_exits_1(tmp_path: Path) -> None:
    missing = pqa("index", "list", "--index", str(tmp_path / "nonexistent"))
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.strip() == (
        f"pqa: no index in {tmp_path / 'nonexistent'} (no such folder); build one with: pqa ingest corpus/ "
        f"--index {tmp_path / 'nonexistent'}"
    )
    (tmp_path / "empty").mkdir()
    empty = pqa("index", "list", "--index", str(tmp_path / "empty"), "--json")
    assert empty.returncode == 1
    assert json.loads(empty.stdout) == {"index": str(tmp_path / "empty"), "generations": []}
    assert f"pqa: no index in {tmp_path / 'empty'}; build one with:" in empty.stderr
