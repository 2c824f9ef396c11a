"""A benchmark's worker process: one runtime per process, JSON commands on its stdin, one JSON reply a line.

Two runtimes in one process disturb each other (idle thread pools spin, each evicts the other's weights
from the cache), so bench/speed.py and bench/int8_static.py give each runtime a process of its own and
hand them the same work in turns.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def reply(payload: dict[str, Any]) -> None:
    """In the worker: answer the coordinator's command."""
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


class Worker:
    """In the coordinator: `script --worker SETTING *args`, started and greeted (its first reply is `hello`)."""

    def __init__(self, script: str, setting: str, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, script, "--worker", setting, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.setting = setting
        self.hello = self._read()
        self.runtime: str = self.hello["runtime"]

    def ask(self, what: str, **fields: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"what": what, **fields}) + "\n")
        self.process.stdin.flush()
        return self._read()

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the {self.setting} worker died (exit {self.process.wait()}); see its stderr above")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=60)
