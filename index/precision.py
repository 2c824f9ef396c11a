"""Which precision the OpenVINO runtime computes in, and why: what the CPU offers and what was measured acceptable.

`auto` runs w8a8 (int8 weights and int8 activations in the matrix products, the rest in bf16 or fp32) where
the CPU multiplies int8 with VNNI but has no AMX and a measurement accepted it; else bf16 arithmetic where
the CPU has it and a measurement accepted it; else fp32 (int8 weights alone, measured no faster, only when
asked for). A precision other than fp32 is accepted only where a measurement
says: SciFact nDCG@10 of the default pipeline within `NDCG_TOLERANCE` of fp32's, measured in
the same run, and every golden question of the paper still answered within the first three. The
measurement is `bench/accept.py`; it writes an `Acceptance` record per precision, keyed by the sha256
of the very weights it measured, into the conversion's cache folder (and, with `--ship`, into
`index/data/acceptance.json`, which travels with the package so a fresh machine with the same
conversion need not measure again). `choose()` is the whole decision among OpenVINO's precisions, testable on
recorded results. On a CPU with AVX2 alone (no VNNI, no bf16) `auto` first asks for ONNX Runtime's int8
(index/ortruntime.py), under the same rule: its record ("ort-int8") names the sha256 of its recipe.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

PRECISIONS = ("bf16", "w8a8", "int8", "fp32")
NDCG_TOLERANCE = 0.005
RECORDS = "acceptance.json"
SHIPPED = Path(__file__).parent / "data" / RECORDS
MEASURE = ".venv/bin/python bench/accept.py"


@dataclass(frozen=True)
class Acceptance:
    """One measurement of a precision against fp32 on the same weights, in the same run."""

    precision: str
    weights_sha256: str  # of the IR that precision compiles (int8: the compressed one; w8a8: its recipe's key)
    ndcg_fp32: float
    ndcg: float
    golden_top3: int
    golden_total: int
    accepted: bool
    reason: str
    measured_on: str = ""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def judge(precision: str, ndcg_fp32: float, ndcg: float, golden_top3: int, golden_total: int) -> tuple[bool, str]:
    """The acceptance rule: (accepted, why), in words a log line can carry."""
    drop = ndcg_fp32 - ndcg
    quality = f"SciFact nDCG@10 {ndcg:.4f} against fp32's {ndcg_fp32:.4f}, golden top-3 {golden_top3}/{golden_total}"
    if drop > NDCG_TOLERANCE:
        return False, f"{precision} rejected: {quality} (nDCG@10 falls {drop:.4f}, more than {NDCG_TOLERANCE})"
    if golden_top3 < golden_total:
        return False, f"{precision} rejected: {quality} (a golden answer left the first three)"
    return True, f"{precision} accepted: {quality}"


def load_records(paths: Iterable[Path]) -> list[Acceptance]:
    """Every record in the given files that exist, the first file's first (a local measurement wins)."""
    records: list[Acceptance] = []
    for path in paths:
        if path.exists():
            records += [Acceptance(**row) for row in json.loads(path.read_text())]
    return records


def find(records: Iterable[Acceptance], precision: str, weights_sha256: str) -> Acceptance | None:
    """The first record measured on exactly these weights in this precision."""
    for record in records:
        if record.precision == precision and record.weights_sha256 == weights_sha256:
            return record
    return None


def save_record(path: Path, record: Acceptance) -> None:
    """Add `record` to the file at `path`, replacing an older one for the same precision and weights."""
    same = (record.precision, record.weights_sha256)
    kept = [r for r in load_records([path]) if (r.precision, r.weights_sha256) != same]
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps([r.to_dict() for r in [record, *kept]], indent=1) + "\n")
    partial.replace(path)


@dataclass(frozen=True)
class Choice:
    precision: str  # "w8a8", "bf16" or "fp32"
    reason: str


# Why `auto` never picks int8 weights: measured in one run per CPU setting (README "Embedding runtimes").
INT8_NOT_FASTER = (
    "int8 weights are decompressed into fp32 arithmetic and were no faster than fp32 where measured "
    "(bench/speed.py: 1.00x openvino-fp32's passages/s with AVX-512, 0.84x capped at AVX2; "
    "PQA_RUNTIME=openvino-int8 still saves about 135 MiB)"
)
# Why w8a8 only where the CPU has VNNI and no AMX (README "Embedding runtimes", bench/int8_static.py).
W8A8_WHERE = (
    "w8a8 runs where the CPU multiplies int8 with VNNI and has no AMX: without VNNI (AVX2) oneDNN's int8 "
    "products were 0.58-0.60x fp32's speed, and with AMX bf16 is as fast and closer to fp32"
)


def choose(cpu_bf16: bool, bf16: Acceptance | None, cpu_w8a8: bool = False, w8a8: Acceptance | None = None) -> Choice:
    """w8a8 where the CPU suits it (VNNI, no AMX) and it was accepted; else bf16 where the CPU computes in it and it
    was accepted; else fp32, the fastest the other CPUs run.

    `bf16` and `w8a8` are the records for the weights (w8a8: the recipe) each would run (None: never measured).
    int8 weights stay a choice to make by hand (less memory), not a faster one: see INT8_NOT_FASTER.
    """
    passed = ""
    if cpu_w8a8:
        if w8a8 is not None and w8a8.accepted:
            return Choice("w8a8", f"{w8a8.reason}; {W8A8_WHERE}")
        unmeasured = f"w8a8 was never measured on these weights (run: {MEASURE})"
        passed = (w8a8.reason if w8a8 is not None else unmeasured) + "; "
    if not cpu_bf16:
        why = "this CPU has no bf16 arithmetic (avx512_bf16 or AMX)"
    elif bf16 is None:
        why = f"bf16 was never measured on these weights (run: {MEASURE})"
    elif bf16.accepted:
        return Choice("bf16", passed + bf16.reason)
    else:
        why = bf16.reason
    return Choice("fp32", f"{passed}{why}; {INT8_NOT_FASTER}")
