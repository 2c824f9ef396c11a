"""Search processes (`pqa serve --search-processes 2`, service/pool.py), over real HTTP with the real model.

The questions are answered by the search processes, with the JSON the serving process would have written; errors
are the serving process's own; a killed search process is replaced while no question fails; answers follow the
generation the service serves through a swap; and the search processes end with the serving process, even when it
is killed.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from index.embedder import Embedder
from index.search import Searcher
from index.snapshot import Snapshot
from index.store import Store
from service.answer import QuestionLimits, answer, body
from service.arguments import _parser
from service.cores import cores, planned
from service.engine import Engine
from service.pool import SearchPool
from service.reindex import ingest
from service.searchprocess import _Worker
from service.settings import Settings
from service.turns import _Turns

from .conftest import LiveServer, run_script
from .reindex_support import NOTE_ID, NOTE_QUESTION, QueryLoop, make_corpus, run_pqa, wait_until

pytestmark = pytest.mark.slow
QUESTIONS = [
    "How does IOM define protection?",
    "What are the recommendations for Member States?",
    "Which rights do migrants in vulnerable situations have?",
    "Does IOM monitor human rights?",
]


def children(pid: int) -> list[int]:
    """The search processes `pid` started (Linux's /proc lists each thread's children; multiprocessing's resource
    tracker is one too, and left out)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return [c for c in found if b"spawn_main" in _cmdline(c)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # it ended between the two reads
        return b""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its parent's wait is missing


def metric(url: str, name: str) -> float:
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def pool_ready(url: str) -> int:
    described = httpx.get(f"{url}/readyz", timeout=10).json()["search_processes"]
    return int(described["ready"])


@pytest.fixture(scope="module")
def pooled(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[tuple[LiveServer, Path, Path]]:
    root = tmp_path_factory.mktemp("pool")
    corpus, index = make_corpus(root / "corpus", with_note=False), root / "index"
    assert ingest([corpus], Store(index), lambda: embedder).generation is not None
    # every question that can goes to a search process (by default one alone is answered in the serving process)
    server = LiveServer(
        index,
        ["--search-processes", "2", "--corpus", str(corpus)],
        {"PQA_RELOAD_INTERVAL": "1", "PQA_SEARCH_ALONE_HERE": "false"},
    )
    try:
        server.wait_ready(timeout=240)
        wait_until(lambda: pool_ready(server.url) == 2, 240, "both search processes ready")
        yield server, corpus, index
    finally:
        server.stop()


def test_questions_are_answered_by_the_search_processes_as_the_serving_process_answers_them(
    pooled: tuple[LiveServer, Path, Path], embedder: Embedder
) -> None:
    server, _, index = pooled
    readiness = httpx.get(f"{server.url}/readyz", timeout=10).json()
    assert readiness["search_processes"] == {"configured": 2, "ready": 2, "threads": max(1, cores() // 2)}
    pinned = [frozenset(os.sched_getaffinity(pid)) for pid in children(server.process.pid)]
    expected = [SearchPool(Settings(), 2).cpus_of(slot) for slot in (0, 1)]
    assert sorted(pinned, key=sorted) == sorted(expected, key=sorted)
    if len(os.sched_getaffinity(0)) >= 2:  # each on cores of its own
        assert not pinned[0] & pinned[1]
    before = metric(server.url, "pqa_search_process_answers_total")
    seen = metric(server.url, "pqa_query_embedding_questions_total") + metric(server.url, "pqa_query_cache_hits_total")
    local = Searcher(Snapshot.load(Store(index).current()), embedder)
    limits = QuestionLimits.of(Settings())
    for question in QUESTIONS:
        response = httpx.get(f"{server.url}/api/search", params={"q": question, "k": 3}, timeout=30)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        served = response.json()
        here = json.loads(body(answer(local, question, limits, 3)))
        served.pop("took_ms"), here.pop("took_ms")
        # the search process's model runs on its share of the cores: the same passages, citations, highlights and
        # verdict; a score may differ in its last digits with the threads' order of summing
        for passage in served["passages"] + here["passages"]:
            passage["score"] = round(passage["score"], 4)
        assert served["passages"] == here["passages"], question
        assert {k: v for k, v in served.items() if k != "passages"} == {
            k: v for k, v in here.items() if k != "passages"
        }
    posted = httpx.post(f"{server.url}/api/ask", json={"question": QUESTIONS[0], "k": 2}, timeout=30)
    assert posted.status_code == 200 and len(posted.json()["passages"]) == 2
    assert metric(server.url, "pqa_search_process_answers_total") == before + len(QUESTIONS) + 1
    # their model's counts are the service's: each question embedded once, the repeated one from a cache
    embedded = metric(server.url, "pqa_query_embedding_questions_total")
    assert embedded + metric(server.url, "pqa_query_cache_hits_total") == seen + len(QUESTIONS) + 1


def test_a_question_a_search_process_cannot_answer_gets_the_serving_process_error(
    pooled: tuple[LiveServer, Path, Path],
) -> None:
    server = pooled[0]
    declined = metric(server.url, "pqa_search_process_declined_total")
    unknown = httpx.get(f"{server.url}/api/search", params={"q": "protection", "document": "no-such"}, timeout=30)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_document"
    off = httpx.get(f"{server.url}/api/search", params={"q": "protection", "rerank": "true"}, timeout=30)
    assert off.status_code == 409 and off.json()["error"]["code"] == "reranker_off"
    assert metric(server.url, "pqa_search_process_declined_total") == declined + 2
    invalid = httpx.get(f"{server.url}/api/search", params={"q": "protection", "k": 0}, timeout=30)
    assert invalid.status_code == 422 and "k must be between 1" in invalid.json()["error"]["message"]
    assert metric(server.url, "pqa_search_process_declined_total") == declined + 2  # checked before handing over


def test_a_killed_search_process_is_replaced_and_no_question_fails(pooled: tuple[LiveServer, Path, Path]) -> None:
    server = pooled[0]
    restarts = metric(server.url, "pqa_search_process_restarts_total")
    searchers = children(server.process.pid)
    assert len(searchers) == 2, searchers
    with QueryLoop(server.url) as loop:
        wait_until(lambda: loop.ok >= 3, 60, "answers before the kill")
        os.kill(searchers[0], signal.SIGKILL)
        asked = loop.ok
        wait_until(lambda: metric(server.url, "pqa_search_process_restarts_total") == restarts + 1, 60, "noticed")
        wait_until(lambda: pool_ready(server.url) == 2, 120, "a new search process ready")
        wait_until(lambda: loop.ok >= asked + 20, 60, "answers after the replacement")
    assert loop.failures == []
    now = children(server.process.pid)
    assert len(now) == 2 and searchers[0] not in now and searchers[1] in now


def test_answers_come_from_the_served_generation_through_a_swap(pooled: tuple[LiveServer, Path, Path]) -> None:
    server, corpus, index = pooled
    old = Store(index).current_name()
    with QueryLoop(server.url) as loop:
        wait_until(lambda: loop.ok >= 3, 60, "answers before the swap")
        make_corpus(corpus)  # adds the note
        result = run_pqa(["ingest", str(corpus), "--index", str(index), "--json"], timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
        new = json.loads(result.stdout)["generation"]
        loop.wait_for_generation(new, timeout=30)
        # the search processes catch up: their answers come from the new generation too
        answered = metric(server.url, "pqa_search_process_answers_total")
        wait_until(lambda: metric(server.url, "pqa_search_process_answers_total") >= answered + 10, 60, "pool answers")
    assert loop.failures == []
    assert [generation for _, generation in loop.seen] == [old, new]  # never an answer from the old one after
    found = httpx.get(f"{server.url}/api/search", params={"q": NOTE_QUESTION, "k": 1}, timeout=30).json()
    assert found["index"]["generation"] == new
    assert found["passages"][0]["id"].startswith(NOTE_ID)


def test_by_default_a_lone_question_is_answered_here_and_questions_side_by_side_by_search_processes(
    live_server: LiveServer,
) -> None:
    url = live_server.url
    size = planned("auto")
    described = httpx.get(f"{url}/readyz", timeout=10).json()["search_processes"]
    if size == 0:  # one core: the serving process answers every question
        assert described is None
        return
    assert described["configured"] == size == min(cores(), 4)
    wait_until(lambda: pool_ready(url) == size, 240, "the search processes ready")
    before = metric(url, "pqa_search_process_answers_total")
    for question in QUESTIONS:  # one at a time: each alone in the serving process
        assert httpx.get(f"{url}/api/search", params={"q": question, "k": 3}, timeout=30).status_code == 200
    assert metric(url, "pqa_search_process_answers_total") == before
    start, statuses = threading.Barrier(8), []

    def client(offset: int) -> None:
        with httpx.Client(timeout=30) as session:
            start.wait()
            for turn in range(6):
                question = QUESTIONS[(offset + turn) % len(QUESTIONS)]
                statuses.append(session.get(f"{url}/api/search", params={"q": question, "k": 3}).status_code)

    clients = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    assert statuses == [200] * 48
    assert metric(url, "pqa_search_process_answers_total") > before  # side by side: search processes answered


def test_auto_is_one_search_process_per_core_from_two_cores_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert [planned("auto", available) for available in (1, 2, 3, 4, 16)] == [0, 2, 3, 4, 4]
    assert planned(3, available=1) == 3 and planned(0, available=16) == 0
    monkeypatch.delenv("PQA_SEARCH_PROCESSES", raising=False)
    assert Settings().search_processes == "auto"  # the default
    monkeypatch.setenv("PQA_SEARCH_PROCESSES", "2")
    assert Settings().search_processes == 2
    monkeypatch.setenv("PQA_SEARCH_PROCESSES", "-1")
    with pytest.raises(ValueError, match="search_processes"):
        Settings()
    monkeypatch.delenv("PQA_SEARCH_PROCESSES")
    assert _parser().parse_args(["serve", "--search-processes", "auto"]).search_processes == "auto"
    assert _parser().parse_args(["serve", "--search-processes", "0"]).search_processes == 0
    with pytest.raises(SystemExit):
        _parser().parse_args(["serve", "--search-processes", "some"])
    assert "neither auto nor a count" in capsys.readouterr().err


def test_search_processes_end_with_a_killed_serving_process(paper_index: Path) -> None:
    server = LiveServer(paper_index, ["--search-processes", "1"])
    try:
        server.wait_ready(timeout=240)
        wait_until(lambda: pool_ready(server.url) == 1, 240, "the search process ready")
        searchers = children(server.process.pid)
        assert len(searchers) == 1 and alive(searchers[0])
        server.process.kill()
        server.process.wait()
        wait_until(lambda: not alive(searchers[0]), 30, "the search process ended with the serving process")
    finally:
        server.stop()


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_the_whole_process_group_stops_the_service_without_replacing_search_processes(
    paper_index: Path, number: signal.Signals
) -> None:
    """`timeout`, `kill -- -PGID`, a supervisor or Ctrl+C in a terminal signal every process of the group, each
    when it comes: the search processes leave it to the serving process, which stops them; none is taken for lost and
    started again meanwhile."""
    server = LiveServer(paper_index, ["--search-processes", "2"])
    try:
        server.wait_ready(timeout=240)
        wait_until(lambda: pool_ready(server.url) == 2, 240, "the search processes ready")
        searchers = children(server.process.pid)
        assert len(searchers) == 2
        for pid in searchers:  # the group's signal, as it reaches the search processes first
            os.kill(pid, number)
        time.sleep(1.5)  # the monitor looks every second
        assert all(alive(pid) for pid in searchers)
        assert metric(server.url, "pqa_search_process_restarts_total") == 0
        assert httpx.get(f"{server.url}/api/search", params={"q": QUESTIONS[0]}, timeout=30).status_code == 200
        server.process.send_signal(number)  # and the serving process
        assert server.process.wait(timeout=30) in (0, 128 + signal.SIGINT, -number)  # stopped, as Ctrl+C stops it
        written = server.output()
    finally:
        server.stop()
    assert "lost" not in written and "starting another" not in written, written[-3000:]
    wait_until(lambda: not any(alive(pid) for pid in searchers), 15, "the search processes ended")


def _worker(slot: int) -> _Worker:
    return _Worker(slot, None, None, "test")  # type: ignore[arg-type]


def test_idle_search_processes_go_to_the_questions_in_the_order_they_came() -> None:
    turns = _Turns()
    got: list[tuple[int, int]] = []
    waiting = []
    for i in range(3):
        thread = threading.Thread(target=lambda i=i: got.append((i, turns.get(30).slot)))  # type: ignore[union-attr]
        thread.start()
        waiting.append(thread)
        wait_until(lambda i=i: len(turns._waiting) == i + 1, 10, "in the line")  # each before the next
    for slot in (7, 8, 9):
        turns.put(_worker(slot))
        time.sleep(0.05)
        assert turns.get(0.01) is None  # a question arriving now does not take it from those waiting
    for thread in waiting:
        thread.join(5)
    assert got == [(0, 7), (1, 8), (2, 9)]
    turns.put(_worker(5))
    worker = turns.get(0.01)
    assert worker is not None and worker.slot == 5


def test_a_question_waits_for_an_idle_search_process_no_longer_than_its_timeout() -> None:
    turns = _Turns()
    started = time.monotonic()
    assert turns.get(0.2) is None
    assert 0.2 <= time.monotonic() - started < 2
    turns.put(_worker(1))  # the question that gave up is out of the line: the process waits for the next
    worker = turns.get(0.01)
    assert worker is not None and worker.slot == 1


def test_a_pool_needs_a_process() -> None:
    with pytest.raises(ValueError, match="at least one process"):
        SearchPool(Settings(), 0)


def _threads_of(model: Embedder) -> int:
    """How many threads one inference of `model` may use, as its runtime reports it (and OpenVINO unpinned)."""
    session = getattr(getattr(model, "_model", None), "session", None)
    if session is not None:  # ONNX Runtime
        return int(session.get_session_options().intra_op_num_threads)
    compiled = model.compiled  # type: ignore[attr-defined]
    assert compiled.get_property("ENABLE_CPU_PINNING") is False  # not every process on the first cores
    return int(compiled.get_property("INFERENCE_NUM_THREADS"))


@pytest.mark.parametrize("runtime", ["onnxruntime-int8", "openvino-fp32"])
def test_a_search_process_model_runs_on_its_share_of_the_cores_and_gives_the_same_vectors(
    runtime: str, openvino_cache: Path
) -> None:
    from index.embedder import load_embedder

    whole = load_embedder(runtime=runtime, cache_dir=openvino_cache)
    share = load_embedder(runtime=runtime, cache_dir=openvino_cache, threads=1)
    assert _threads_of(share) == 1
    assert share.runtime == whole.runtime
    for question in QUESTIONS:
        assert float(whole.embed_query(question) @ share.embed_query(question)) > 0.99999


def test_a_search_process_reranker_runs_on_its_share_of_the_cores() -> None:
    reranker = Settings(rerank="ask").reranker(threads=1)
    assert reranker is not None and _threads_of(reranker.embedder) == 1


# -- a pool in this process, over the paper's index: what it does when a search process cannot answer ------------


@pytest.fixture
def pool(paper_index: Path, embedder: Embedder) -> Iterator[tuple[SearchPool, Engine]]:
    settings = Settings(index_dir=paper_index, search_processes=1)
    engine = Engine(settings, lambda: embedder)
    engine.start(background=False)
    searchers = SearchPool(settings, 1)
    try:
        searchers.start(engine)
        wait_until(lambda: searchers.ready() == 1, 240, "the search process ready")
        yield searchers, engine
    finally:
        started = time.monotonic()
        processes = [w.process for w in searchers._workers.values()]
        searchers.stop()
        assert time.monotonic() - started < 15
        assert not any(p.is_alive() for p in processes)  # stop() ends them
        engine.stop()


def _only_process(searchers: SearchPool) -> int:
    (worker,) = searchers._workers.values()
    assert worker.process.pid is not None
    return worker.process.pid


def test_a_search_process_on_another_generation_hands_the_question_back(pool: tuple[SearchPool, Engine]) -> None:
    searchers, engine = pool
    generation = engine.searcher().snapshot.generation
    assert searchers.answer("g-not-the-one-served", QUESTIONS[0], 3, None, None, None) is None
    assert (searchers.declined, searchers.answered) == (1, 0)
    written = searchers.answer(generation, QUESTIONS[0], 3, None, None, None)
    assert written is not None and json.loads(written)["index"]["generation"] == generation
    assert (searchers.declined, searchers.answered) == (1, 1)


def test_a_search_process_that_keeps_serving_another_generation_is_replaced(
    pool: tuple[SearchPool, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    searchers, engine = pool
    monkeypatch.setattr("service.pool.STALE_LIMIT", 0.5)
    first = _only_process(searchers)
    assert searchers.answer("g-not-the-one-served", QUESTIONS[0], 3, None, None, None) is None
    assert searchers.restarts == 0  # behind for a moment: a swap in progress
    time.sleep(0.6)
    assert searchers.answer("g-not-the-one-served", QUESTIONS[0], 3, None, None, None) is None
    assert searchers.restarts == 1 and not alive(first)  # behind for longer than the limit: replaced
    wait_until(lambda: searchers.ready() == 1, 240, "another search process ready")
    generation = engine.searcher().snapshot.generation
    assert searchers.answer(generation, QUESTIONS[0], 3, None, None, None) is not None


def test_the_cores_a_search_pool_shares_are_those_the_cgroup_quota_allows(tmp_path: Path) -> None:
    quota = tmp_path / "cpu.max"
    quota.write_text("100000 100000\n")
    assert cores(quota) == 1
    quota.write_text("max 100000\n")
    assert cores(quota) == len(os.sched_getaffinity(0))
    assert cores(tmp_path / "absent") == len(os.sched_getaffinity(0))


def test_a_hung_search_process_is_replaced_and_its_question_handed_back(pool: tuple[SearchPool, Engine]) -> None:
    searchers, engine = pool
    generation = engine.searcher().snapshot.generation
    searchers.answer_timeout = 1.0
    hung = _only_process(searchers)
    os.kill(hung, signal.SIGSTOP)
    started = time.monotonic()
    assert searchers.answer(generation, QUESTIONS[0], 3, None, None, None) is None
    assert 1.0 <= time.monotonic() - started < 5
    assert searchers.restarts == 1 and not alive(hung)
    wait_until(lambda: searchers.ready() == 1, 240, "another search process ready")
    assert searchers.answer(generation, QUESTIONS[0], 3, None, None, None) is not None


def test_questions_waiting_are_handed_back_when_no_search_process_is_left(pool: tuple[SearchPool, Engine]) -> None:
    searchers, engine = pool
    generation = engine.searcher().snapshot.generation
    searchers.answer_timeout, searchers.idle_wait = 2.0, 60.0
    os.kill(_only_process(searchers), signal.SIGSTOP)
    first = threading.Thread(target=searchers.answer, args=(generation, QUESTIONS[0], 3, None, None, None))
    first.start()
    wait_until(lambda: not searchers._turns._idle, 10, "the first question holds the only process")
    started = time.monotonic()
    assert searchers.answer(generation, QUESTIONS[1], 3, None, None, None) is None
    assert time.monotonic() - started < 10  # released when the first gave up on it (2 s), not after 60
    first.join(10)


def test_a_search_process_that_dies_idle_is_replaced_without_a_question(pool: tuple[SearchPool, Engine]) -> None:
    searchers, engine = pool
    generation = engine.searcher().snapshot.generation
    for question in QUESTIONS[:2]:
        assert searchers.answer(generation, question, 3, None, None, None) is not None
    before = searchers.counts()
    assert before.cache_entries == 2 and before.questions == 2
    os.kill(_only_process(searchers), signal.SIGKILL)
    wait_until(lambda: searchers.restarts == 1, 10, "the monitor noticed")
    assert searchers.declined == 0  # no question was handed to it
    wait_until(lambda: searchers.ready() == 1, 240, "another search process ready")
    assert searchers.answer(generation, QUESTIONS[0], 3, None, None, None) is not None
    after = searchers.counts()
    # what the dead one counted stays counted; what it held is gone with it (the new one holds its one question)
    assert (after.questions, after.cache_misses, after.cache_entries) == (3, 3, 1)


def test_a_search_process_started_later_serves_the_generation_the_serving_process_fell_back_to(
    tmp_path: Path,
) -> None:
    """CURRENT names a broken generation: the serving process, there since before, stays on the one it served (A); a
    search process started now falls back on its own to the newest good one before CURRENT (C). Told A, it serves A
    (it had answered "another generation" until replaced, again and again)."""
    from index.manifest import MANIFEST
    from service.follower import Follower

    from .conftest import FakeEmbedder
    from .reindex_support import copy_generation, point_at

    fake = FakeEmbedder()
    store = Store(tmp_path / "index")
    older = ingest([make_corpus(tmp_path / "corpus")], store, lambda: fake, model_name=fake.name).generation
    assert older is not None
    newer = copy_generation(store, older, "5")
    broken = copy_generation(store, older, "8")
    (store.generations / broken / MANIFEST).unlink()

    def follower() -> Follower:
        return Follower(store, fake, Settings().ranking())  # type: ignore[arg-type]

    point_at(store, older)
    serving = follower()
    assert serving.refresh() and serving.searcher is not None
    point_at(store, broken)
    assert not serving.refresh()
    assert serving.searcher.snapshot.generation == older  # it stays where it was
    started_later = follower()
    assert started_later.refresh() and started_later.searcher is not None
    assert started_later.searcher.snapshot.generation == newer  # its own fallback
    assert started_later.catch_up(older)
    assert started_later.searcher.snapshot.generation == older
    assert f"generation {broken} refused" in (started_later.message or "")
    assert not started_later.catch_up(older)  # already there: nothing loaded again
    # on CURRENT, a search process does not go back to a generation the serving process has not left yet
    point_at(store, newer)
    assert started_later.refresh() and started_later.searcher.snapshot.generation == newer
    assert not started_later.catch_up(older)
    assert started_later.searcher.snapshot.generation == newer


def _blocked_signals(conn: Any) -> None:
    """In a child: the signals blocked when it started (/proc's SigBlk), before anything of its own unblocks them."""
    mask = int(
        next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("SigBlk:")).split()[
            1
        ],
        16,
    )
    conn.send({number for number in (signal.SIGINT, signal.SIGTERM) if mask >> (number - 1) & 1})


SHIELDED = """
import multiprocessing
from service.searchprocess import start_shielded
from tests.test_pool import _blocked_signals

if __name__ == "__main__":
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_blocked_signals, args=(theirs,))
    start_shielded(process)  # the first start in this interpreter: the resource tracker starts with it
    print(sorted(int(n) for n in ours.recv()))
    process.join()
"""


def test_the_first_search_process_starts_with_the_group_signals_blocked(tmp_path: Path) -> None:
    """A fresh interpreter's first spawned process also starts multiprocessing's resource tracker, whose own start
    unblocked SIGINT and SIGTERM: Ctrl+C while that search process imported printed a traceback and a failed start."""
    done = run_script(tmp_path, "shielded.py", SHIELDED)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout) == sorted([int(signal.SIGINT), int(signal.SIGTERM)])
