"""What Ray costs on one machine: `pqa ingest` of the same corpus locally and with `--ray`, in the same run.

    unshare -n sh -c 'ip link set lo up && exec "$0" "$@"' .venv/bin/python bench/distributed.py [CORPUS...]

(as root: the namespace keeps Ray on loopback; default corpus: corpus/). Each run is a fresh
`pqa ingest` process into an empty index folder, so each pays for everything a first ingest pays
for: the model, parsing every file in the sandbox, embedding every text, writing. Runs alternate
(local, ray, local, ray, ...) so a change in the machine's load falls on both. Prints one table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import describe_cpu  # noqa: E402


def run(corpus: list[str], ray: str | None, actors: int) -> dict[str, float]:
    index = Path(tempfile.mkdtemp(prefix="pqa-bench-"))
    command = [sys.executable, "-m", "service.cli", "ingest", *corpus, "--index", str(index), "--json"]
    if ray:
        command += ["--ray", ray, "--ray-actors", str(actors)]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    shutil.rmtree(index, ignore_errors=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout)
    return {"wall": wall, "texts": report["embedded"], "passages": report["passages"], "documents": report["documents"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", nargs="*", default=[str(ROOT / "corpus")])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--actors", type=int, default=2)
    args = parser.parse_args()
    print(f"$ {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(describe_cpu())
    rows: list[tuple[str, dict[str, float]]] = []
    for _ in range(args.rounds):
        for name, ray in (("local", None), (f"--ray local ({args.actors} actors)", "local")):
            print(f"{name} ...", file=sys.stderr, flush=True)
            rows.append((name, run(args.corpus, ray, args.actors)))
    base = min(r["wall"] for name, r in rows if name == "local")
    print("\n| run | documents | passages | texts embedded | wall s | texts/s | vs local |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows:
        print(
            f"| {name} | {r['documents']:.0f} | {r['passages']:.0f} | {r['texts']:.0f} | {r['wall']:.1f} | "
            f"{r['texts'] / r['wall']:.1f} | {r['wall'] / base:.2f}x |"
        )
    print(describe_cpu().replace("CPU", "at the end: CPU", 1))


if __name__ == "__main__":
    main()
