"""A model that fails to load in an unforeseen way leaves the service "failed" with the reason, not "loading" for
ever (an outside tester's bad PQA_FUSION did that before settings refused it at start)."""

from __future__ import annotations

import time
from pathlib import Path

from index.embedder import Embedder
from service.engine import Engine
from service.settings import Settings


def test_an_unexpected_error_while_loading_is_a_failed_state_with_its_reason(tmp_path: Path) -> None:
    def broken() -> Embedder:
        raise KeyError("tokenizer.json")

    engine = Engine(Settings(index_dir=tmp_path / "index", reload_interval=3600), broken)
    engine.start()
    try:
        deadline = time.monotonic() + 10
        while engine.status().state in ("starting", "loading") and time.monotonic() < deadline:
            time.sleep(0.02)
        status = engine.status()
    finally:
        engine.stop()
    assert status.state == "failed"
    assert status.message == "the model failed to load (KeyError: 'tokenizer.json'); see the service log"
