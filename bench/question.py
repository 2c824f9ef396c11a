"""Where one short question's embedding time goes, per OpenVINO precision: tokenizer, inference, pooling, layers.

    nice -n -10 .venv/bin/python bench/question.py [--runtimes openvino-fp32 openvino-int8 ...]

For each runtime (each in a process of its own, one after the other, then again in a second round), one
16-token question embedded 300 times: the tokenizer call, the inference on a one-thread copy of the model,
the same compiled for this one static shape, the inference on every core (what `embed_query` and a batch
use), mean-pooling, and the whole `embed_query`; then OpenVINO's per-layer counters (PERF_COUNT) summed by layer
type. Prints p50 / p99 in ms and the CPU time per call (a second thread that spins waiting shows up there),
and the CPU with its flags.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import cap_at_avx2, describe  # noqa: E402

QUESTION = "How does IOM protect internally displaced persons in camps and settlements?"
CALLS = 300


def timed(call: Any, calls: int = CALLS) -> dict[str, float]:
    for _ in range(20):
        call()
    wall, cpu = [], []
    for _ in range(calls):
        started, cpu_started = time.perf_counter(), time.process_time()
        call()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    wall.sort()
    return {"p50": statistics.median(wall), "p99": wall[int(0.99 * (calls - 1))], "cpu": statistics.mean(cpu)}


def measure(runtime: str) -> dict[str, Any]:
    import numpy as np
    import openvino

    from index.embedder import load_embedder
    from index.runtime import OpenVinoEmbedder

    embedder = load_embedder(runtime=runtime)
    assert isinstance(embedder, OpenVinoEmbedder)
    tokenizer = embedder._tokenizer
    encoded = tokenizer.encode(QUESTION)
    ids = np.asarray([encoded.ids], dtype=np.int64)
    mask = np.ones_like(ids)
    hidden = embedder._model.infer(ids, mask)
    weights = mask[..., None].astype(np.float32)
    core = openvino.Core()
    # the embedder's own arithmetic: its precision and, for int8 weights, no int8 activations
    keys = ("INFERENCE_PRECISION_HINT", "DYNAMIC_QUANTIZATION_GROUP_SIZE")
    config = {key: embedder.compiled.get_property(key) for key in keys}
    static = core.read_model(str(embedder.model_xml))
    static.reshape({name: list(ids.shape) for name in ("input_ids", "attention_mask", "token_type_ids")})
    fixed = core.compile_model(static, "CPU", {**config, "INFERENCE_NUM_THREADS": 1}).create_infer_request()
    one = core.compile_model(str(embedder.model_xml), "CPU", {**config, "INFERENCE_NUM_THREADS": 1})
    alone = one.create_infer_request()
    inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    rows = {
        "tokenizer": timed(lambda: tokenizer.encode(QUESTION)),
        "inference, 1 thread": timed(lambda: alone.infer(inputs)),
        "same, static shape": timed(lambda: fixed.infer(inputs)),
        "inference, all cores": timed(lambda: embedder._model.infer(ids, mask)),
        "pooling": timed(lambda: (hidden * weights).sum(axis=1) / weights.sum(axis=1)),
        "embed_query": timed(lambda: embedder.embed_query(QUESTION)),
    }
    config.update({"PERF_COUNT": True, "INFERENCE_NUM_THREADS": 1})
    counted = core.compile_model(str(embedder.model_xml), "CPU", config)
    request = counted.create_infer_request()
    layers: dict[str, float] = defaultdict(float)
    for _ in range(20):
        request.infer({"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})
    for _ in range(100):
        request.infer({"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})
        for info in request.get_profiling_info():
            layers[info.node_type] += info.real_time.total_seconds() * 1000 / 100
    return {"runtime": embedder.runtime, "tokens": len(encoded.ids), "rows": rows, "layers": dict(layers)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--runtimes", nargs="+", default=None, help="default: fp32, int8 and (where the CPU has it) bf16"
    )
    parser.add_argument("--avx2", action="store_true", help="cap the instruction set at AVX2 (bench/machine.py)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.avx2:
        cap_at_avx2()
    if args.one:
        print(json.dumps(measure(args.one)))
        return
    from index.cpu import cpu_has_bf16, cpu_suits_w8a8

    bf16 = cpu_has_bf16() and not args.avx2
    w8a8 = ["openvino-w8a8"] if cpu_suits_w8a8() else []
    runtimes = args.runtimes or ["openvino-fp32", "openvino-int8", *(["openvino-bf16"] if bf16 else []), *w8a8]
    results: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for _ in range(2):
        for runtime in runtimes:
            out = subprocess.run(
                [sys.executable, __file__, "--one", runtime], capture_output=True, text=True, check=True
            )
            results[runtime].append(json.loads(out.stdout.strip().splitlines()[-1]))
    first = next(iter(results.values()))[0]
    print(
        f"\nOne question of {first['tokens']} tokens, {CALLS} calls per row, 2 rounds (p50 / p99 ms, CPU ms per call)\n"
    )
    names = list(first["rows"])
    print("| runtime | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for rounds in results.values():
        for result in rounds:
            cells = [f"{r['p50']:.2f} / {r['p99']:.2f} ({r['cpu']:.2f})" for r in result["rows"].values()]
            print(f"| {result['runtime']} | " + " | ".join(cells) + " |")
    print("\nOpenVINO's own layer timings, one thread, ms per question (mean of 100, first round):\n")
    for rounds in results.values():
        top = sorted(rounds[0]["layers"].items(), key=lambda kv: -kv[1])[:5]
        total = sum(rounds[0]["layers"].values())
        print(f"- {rounds[0]['runtime']}: {total:.2f} in all; " + ", ".join(f"{k} {v:.2f}" for k, v in top))
    print(f"\n{describe()}")
    print("reproduce: nice -n -10 .venv/bin/python bench/question.py" + (" --avx2" if args.avx2 else ""))


if __name__ == "__main__":
    main()
