"""Ray in the tests: only inside a network namespace of the test's own, where loopback is the only interface.

Ray binds the machine's network address by default (and probes an outside address to find it); no
test may touch the network beyond loopback. `unshare -n` (root) gives a process a namespace with no
interface but `lo`, brought up here, so the cluster binds 127.0.0.1. Where that cannot be done the
tests skip, saying why.

`python -m tests.ray_support fault CORPUS INDEX RESULT` (run in such a namespace) starts a two-node
cluster on this machine, ingests CORPUS into INDEX on it, kills one embedding actor once the first
vectors are back, and writes what happened to RESULT as JSON.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

NAMESPACE = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"']
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


@functools.cache
def namespace_problem() -> str | None:
    """Why Ray cannot be run on loopback only here, or None."""
    if importlib.util.find_spec("ray") is None:
        return "Ray is not installed (make test installs it: pip install -e '.[dev,ray]')"
    if os.geteuid() != 0:
        return "a network namespace of loopback only (unshare -n) needs root; run the tests as root, as CI does"
    missing = [tool for tool in ("unshare", "ip") if shutil.which(tool) is None]
    if missing:
        return f"{' and '.join(missing)} not found (apt-get install util-linux iproute2)"
    probe = subprocess.run([*NAMESPACE, "true"], capture_output=True, text=True, timeout=30, check=False)
    if probe.returncode != 0:
        return f"unshare -n failed here ({probe.stderr.strip()[:200]}): no namespace, so no loopback-only Ray"
    return None


def in_namespace(argv: Sequence[str]) -> list[str]:
    """`argv` run in a fresh network namespace with only loopback up."""
    return [*NAMESPACE, *argv]


def ray_env() -> dict[str, str]:
    env = {**os.environ, **RAY_ENV}
    env.pop("PQA_TEST_PAUSE_AT", None)
    return env


def big_document(paragraphs: int) -> str:
    """A Markdown document of numbered one-sentence paragraphs, all different (enough batches to kill one mid-run)."""
    topics = ["asylum", "detention", "return", "statelessness", "trafficking", "resettlement", "displacement"]
    lines = ["# Synthetic guidance for the fault test", ""]
    for n in range(1, paragraphs + 1):
        topic = topics[n % len(topics)]
        lines += [
            f"{n}. Paragraph {n} sets out safeguard number {n * 7919 % 10007} for persons affected by {topic}.",
            "",
        ]
    return "\n".join(lines)


def _actors(ray: Any) -> list[dict[str, Any]]:
    from ray._private import state

    return [a for a in state.actors().values() if "MapWorker" in a["ActorClassName"]]


def fault(corpus: Path, index: Path, result: Path) -> None:
    """Ingest on a two-node cluster and SIGKILL one embedding actor when the first vectors are back."""
    from ray.cluster_utils import Cluster

    from index.embedder import load_embedder
    from index.store import Store
    from service.distributed import ClusterFailed, RayCluster
    from service.reindex import ingest

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    outcome: dict[str, Any] = {"nodes": 2, "killed": None}
    ray_cluster = RayCluster(cluster.address, actors=2)

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "embedding passages" and done > 0 and outcome["killed"] is None:
            alive = [a for a in _actors(ray_cluster.connect()) if a["State"] == "ALIVE"]
            victim = alive[0]
            os.kill(int(victim["Pid"]), signal.SIGKILL)
            outcome.update(killed=victim["ActorID"], pid=victim["Pid"], done_at_kill=done, total=total)
            print(f"killed embedding actor pid {victim['Pid']} at {done}/{total}", file=sys.stderr, flush=True)

    try:
        with ray_cluster:
            try:
                report = ingest([corpus], Store(index), load_embedder, progress=progress, workers=ray_cluster.workers())
                outcome["report"] = report.to_dict()
            except ClusterFailed as exc:
                outcome["error"] = str(exc)
            outcome["restarts"] = [a["NumRestarts"] for a in _actors(ray_cluster.connect())]
    finally:
        cluster.shutdown()
    result.write_text(json.dumps(outcome, indent=1))


if __name__ == "__main__":
    if sys.argv[1:2] != ["fault"] or len(sys.argv) != 5:
        raise SystemExit("usage: python -m tests.ray_support fault CORPUS INDEX RESULT")
    fault(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
