"""Static int8 (activations and weights, `nncf.quantize`) against today's runtimes, in one run: speed and accuracy.

    nice -n -10 .venv/bin/python bench/int8_static.py --avx2    # as an AVX2-only CPU would (bench/machine.py)
    nice -n -10 .venv/bin/python bench/int8_static.py
    .venv/bin/python bench/int8_static.py --calibration         # rewrite index/data/calibration.jsonl

The static IR is NNCF post-training quantization of the fp32 IR that index/conversion.py caches for the model
the service runs (the bundled weights with the protection adapter merged; until 2026-12-06 this bench quantized
the weights without it, and so measured the adapter's difference, not int8's), calibrated on windows of the
default library (corpus/), built as index/build.py builds them (context + window text), tokenized as
index/tokenembedder.py does; cached in bench/.cache/int8-static/<variant>/.
Speed, each runtime in a worker process of its own, taking turns: passages/s on 256 SciFact abstracts
(best of 2 rounds) and one question p50/p99 (the paper's golden questions plus SciFact queries, 200,
embedded one at a time, 2 rounds). Accuracy of each static variant against openvino-fp32: min / median
cosine on those texts, and index/precision.py's acceptance rule (SciFact nDCG@10 of the default pipeline
within 0.005 of fp32's in the same run, every golden answer in the first three), with bench/accept.py's
functions. Its variants are experiments, compiled with fp32 for what is not int8; the recipe the service runs
(`openvino-w8a8`, chosen from these measurements: SmoothQuant 0.7, the first layer's second feed-forward product
kept out of int8, the rest in bf16 where the CPU has it) is index/conversion.py's W8A8_RECIPE, calibrated on the
texts `--calibration` writes, and accepted by bench/accept.py.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import cap_at_avx2, describe  # noqa: E402
from bench.workers import Worker, reply  # noqa: E402

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from index.embedder import Embedder
    from index.runtime import OpenVinoEmbedder

DATA = ROOT.parent / "shared" / "data" / "beir-scifact"
CACHE = ROOT / "bench" / ".cache"
STATIC = CACHE / "int8-static"
GOLDEN = ROOT / "tests" / "data" / "golden.jsonl"
SAMPLE = 256
CHUNK = 25
CALIBRATION = 300
# name -> nncf.quantize settings: preset, subset size, extra ignored scope, overflow fix
VARIANTS: dict[str, dict[str, Any]] = {
    "mixed": {"preset": "MIXED"},
    "performance": {"preset": "PERFORMANCE"},
    "mixed-lastfp32": {"preset": "MIXED", "ignore_last": True},
    "mixed-overflowfix": {"preset": "MIXED", "overflow_fix": "ENABLE"},
    "mixed-sq07": {"preset": "MIXED", "smooth_quant": 0.7},
    "mixed-sq07-ffnout": {"preset": "MIXED", "smooth_quant": 0.7, "ignore_ffn_out": True},
}


def golden() -> list[str]:
    return [json.loads(line)["question"] for line in GOLDEN.read_text().splitlines() if line]


# -- building the static IR ------------------------------------------------------------------------------


def fp32_folder() -> Path:
    """The conversion's cache folder of the model the service runs (the bundled weights with the protection
    adapter merged, index/adapter.py), converted once as the service does."""
    from index.embedder import load_embedder
    from index.runtime import OpenVinoEmbedder

    embedder = load_embedder(runtime="openvino-fp32")
    assert isinstance(embedder, OpenVinoEmbedder)
    return embedder.cache_folder


def calibration_texts(count: int = CALIBRATION) -> list[str]:
    """`count` window texts of the default library, spread evenly, as index/build.py would embed them."""
    from index.build import plan_rows
    from index.context import embedded_text, fit_context
    from index.embedder import load_embedder
    from ingest.discovery import discover
    from ingest.library import load_all

    embedder = load_embedder(runtime="openvino-fp32")
    documents, _ = load_all(discover([ROOT / "corpus"])[0])
    searchable = [p for d in documents for p in d.passages if p.searchable]
    infos = {d.info.id: d.info for d in documents}
    contexts = [
        fit_context(p, infos.get(p.document_id), embedder.token_spans, embedder.max_tokens, True) for p in searchable
    ]
    windows, _ = plan_rows(searchable, embedder, False, contexts)
    texts = [embedded_text(contexts[r], searchable[r].text[s:e]) for r, s, e in windows]
    step = max(1, len(texts) // count)
    return texts[::step][:count]


def build(variant: str) -> Path:
    """The static int8 IR of `variant` (built once, cached); returns its .xml."""
    target = STATIC / variant
    if (target / "model.xml").exists():
        return target / "model.xml"
    import nncf
    import openvino

    from index.conversion import calibration_dataset
    from index.embedder import default_model_path

    settings = VARIANTS[variant]
    items = calibration_dataset(default_model_path() / "tokenizer.json", calibration_texts())
    model = openvino.Core().read_model(str(fp32_folder() / "model.xml"))
    matmuls = [op for op in model.get_ordered_ops() if op.get_type_name() == "MatMul"]
    names: list[str] = []
    if settings.get("ignore_last"):
        # the last encoder layer's six products stay fp32: their outputs reach the pooled vector directly
        names += [op.get_friendly_name() for op in matmuls if "encoder.layer.5." in op.get_friendly_name()]
    if settings.get("ignore_ffn_out"):
        # each layer's second feed-forward product (1536 -> 384) stays in the compiled precision
        ffn_out = re.compile(r"layer\.\d\.output\.dense")
        names += [op.get_friendly_name() for op in matmuls if ffn_out.search(op.get_friendly_name())]
    ignored = nncf.IgnoredScope(names=names) if names else None
    advanced = nncf.AdvancedQuantizationParameters(
        overflow_fix=nncf.OverflowFix[settings.get("overflow_fix", "FIRST_LAYER")],
        smooth_quant_alphas=nncf.AdvancedSmoothQuantParameters(matmul=settings.get("smooth_quant", 0.95)),
    )
    started = time.perf_counter()
    quantized = nncf.quantize(
        model,
        nncf.Dataset(items),
        preset=nncf.QuantizationPreset[settings["preset"]],
        model_type=nncf.ModelType.TRANSFORMER,
        subset_size=len(items),
        ignored_scope=ignored,
        advanced_parameters=advanced,
    )
    target.mkdir(parents=True, exist_ok=True)
    openvino.save_model(quantized, str(target / "model.xml"), compress_to_fp16=False)
    meta = {**settings, "calibration": len(items), "seconds": round(time.perf_counter() - started, 1)}
    (target / "build.json").write_text(json.dumps({**meta, "nncf": nncf.__version__}) + "\n")
    return target / "model.xml"


# -- embedders ------------------------------------------------------------------------------------------


def recompiled(base: OpenVinoEmbedder, xml: Path, runtime: str, extra: dict[str, object]) -> OpenVinoEmbedder:
    """`base` with its compiled model replaced by `xml` compiled with fp32 arithmetic plus `extra`."""
    import openvino

    from index import conversion
    from index.runtime import _Compiled

    core = openvino.Core()
    model = core.read_model(str(xml))
    config: dict[str, object] = {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY", **extra}
    base._model = _Compiled.prepared(core, model, config)
    base._runtime = runtime
    base._precision = runtime.removeprefix("openvino-")
    base.weights_sha256 = conversion.weights_sha256(xml.parent)
    return base


def load(setting: str) -> Embedder:
    """pytorch, openvino-fp32, openvino-int8 (weights only), openvino-int8-dq32, or static-<variant>."""
    from index.embedder import load_embedder
    from index.runtime import OpenVinoEmbedder

    if setting == "openvino-int8-dq32":
        base = load_embedder(runtime="openvino-int8")
        assert isinstance(base, OpenVinoEmbedder)
        return recompiled(base, base.model_xml, setting, {"DYNAMIC_QUANTIZATION_GROUP_SIZE": 32})
    if setting.startswith("static-"):
        base = load_embedder(runtime="openvino-fp32")
        assert isinstance(base, OpenVinoEmbedder)
        # the cap changes the int8 kernels and so the vectors: the name keeps their caches apart
        capped = "-avx2" if os.environ.get("ONEDNN_MAX_CPU_ISA") == "AVX2" else ""
        return recompiled(base, build(setting.removeprefix("static-")), f"openvino-int8{setting}{capped}", {})
    return load_embedder(runtime=setting)


# -- worker: one runtime, commands on stdin -------------------------------------------------------------


def worker(setting: str) -> None:
    import numpy as np

    from evaluate.beir import load_beir
    from evaluate.evaluation import throughput

    embedder = load(setting)
    sample = [p.text for p in load_beir(DATA, "test").document.passages[:SAMPLE]]
    reply({"runtime": embedder.runtime})
    for line in sys.stdin:
        command = json.loads(line)
        if command["what"] == "passages":
            reply({"rate": throughput(embedder, sample)})
        elif command["what"] == "questions":
            ms = []
            for text in command["texts"]:
                started = time.perf_counter()
                embedder.embed_query(text)
                ms.append((time.perf_counter() - started) * 1000)
            reply({"ms": ms})
        elif command["what"] == "vectors":
            vectors = np.vstack(
                [embedder.embed_documents(sample), *[embedder.embed_query(t) for t in command["texts"]]]
            )
            np.save(command["path"], vectors)
            reply({})


# -- coordinator ----------------------------------------------------------------------------------------


def questions() -> list[str]:
    from evaluate.beir import load_beir

    asked = golden()
    return asked + list(load_beir(DATA, "test").queries.values())[: 200 - len(asked)]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))] if ordered else 0.0


def speed(settings: list[str], texts: list[str], folder: Path) -> dict[str, dict[str, Any]]:
    """passages/s (best of 2), one-question latencies (2 rounds, in turns) and vectors, per setting."""
    import numpy as np

    workers = []
    for setting in settings:
        print(f"loading {setting} ...", file=sys.stderr, flush=True)
        workers.append(Worker(__file__, setting))
    rows: dict[str, dict[str, Any]] = {w.setting: {"runtime": w.runtime, "rate": 0.0, "ms": []} for w in workers}
    try:
        print("timing, in turns ...", file=sys.stderr, flush=True)
        for _ in range(2):
            for w in workers:
                rows[w.setting]["rate"] = max(rows[w.setting]["rate"], w.ask("passages")["rate"])
        for _ in range(2):
            for first in range(0, len(texts), CHUNK):
                for w in workers:
                    rows[w.setting]["ms"] += w.ask("questions", texts=texts[first : first + CHUNK])["ms"]
        for w in workers:
            path = folder / f"{w.setting}.npy"
            w.ask("vectors", texts=texts, path=str(path))
            rows[w.setting]["vectors"] = np.load(path)
    finally:
        for w in workers:
            w.close()
    return rows


def cosines(a: NDArray[np.float32], b: NDArray[np.float32]) -> tuple[float, float]:
    import numpy as np

    values = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return float(values.min()), float(np.median(values))


def accept(settings: list[str]) -> dict[str, tuple[float, int, int]]:
    """(SciFact nDCG@10 of the default pipeline, golden top-3, golden total) per setting, evaluated in turns."""
    from bench.accept import golden_ranks, scifact_snapshot
    from evaluate.beir import load_beir
    from evaluate.evaluation import evaluate_together, make_retriever

    embedders = {s: load(s) for s in settings}
    dataset = load_beir(DATA, "test")
    snapshots = {s: scifact_snapshot(dataset, e) for s, e in embedders.items()}  # type: ignore[arg-type]
    anchors = [p.anchor for p in snapshots[settings[0]].searchable]
    rows = [(make_retriever("default", snapshots[s], e), e.runtime) for s, e in embedders.items()]
    print(f"evaluating {len(rows)} retrievers on {len(dataset.queries)} queries, in turns", file=sys.stderr)
    results = evaluate_together(rows, dataset, anchors)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for (s, e), result in zip(embedders.items(), results, strict=True):
            ranks = golden_ranks(e, Path(tmp) / s)  # type: ignore[arg-type]
            out[s] = (result.ndcg_at_10, sum(1 <= r <= 3 for r in ranks), len(ranks))
    return out


def report(rows: dict[str, dict[str, Any]], quality: dict[str, tuple[float, int, int]], flags: str) -> None:
    from index import precision

    base = rows["pytorch"]["rate"]
    fp32 = rows["openvino-fp32"]
    print(f"\nStatic int8 against today's runtimes, one run{' (capped at AVX2)' if flags else ''}; {describe()}\n")
    print("| runtime | passages/s | vs PyTorch | vs openvino-fp32 | one question p50 / p99 ms ", end="")
    print("| cosine to fp32 min / median |")
    print("|---|---|---|---|---|---|")
    for row in rows.values():
        low, mid = cosines(row["vectors"], fp32["vectors"])
        print(
            f"| {row['runtime']} | {row['rate']:.1f} | {row['rate'] / base:.2f}x | {row['rate'] / fp32['rate']:.2f}x | "
            f"{statistics.median(row['ms']):.2f} / {pct(row['ms'], 0.99):.2f} | {low:.5f} / {mid:.5f} |"
        )
    if quality:
        print("\n| runtime | SciFact nDCG@10 default | vs fp32 | golden top-3 | verdict (index/precision.py) |")
        print("|---|---|---|---|---|")
        reference = quality["openvino-fp32"][0]
        for setting, (ndcg, top3, total) in quality.items():
            verdict = "reference"
            if setting != "openvino-fp32":
                verdict = precision.judge(setting, reference, ndcg, top3, total)[1]
            print(f"| {rows[setting]['runtime']} | {ndcg:.4f} | {ndcg - reference:+.4f} | {top3}/{total} | {verdict} |")
    for setting in rows:
        meta = STATIC / setting.removeprefix("static-") / "build.json"
        if setting.startswith("static-") and meta.exists():
            print(f"\n{setting}: {meta.read_text().strip()}", end="")
    print(f"\n\nload average (1 min) at the end: {os.getloadavg()[0]:.2f}")
    print(f"reproduce: nice -n -10 .venv/bin/python bench/int8_static.py{flags}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--avx2", action="store_true", help="cap the instruction set at AVX2 (bench/machine.py)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument(
        "--accept", nargs="*", default=None, help="static variants to judge (default: the one closest to fp32)"
    )
    parser.add_argument("--no-dq", action="store_true", help="leave out int8 weights with dynamic quantization on")
    parser.add_argument(
        "--calibration", action="store_true", help=f"write the service's w8a8 calibration texts ({CALIBRATION} windows)"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--build", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.avx2:
        cap_at_avx2()  # inherited by the workers
    if args.worker:
        worker(args.worker)
        return
    if args.build:
        print(build(args.build))
        return
    if args.calibration:
        from index.conversion import CALIBRATION as SHIPPED

        texts = calibration_texts()
        SHIPPED.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in texts), encoding="utf-8")
        print(f"{len(texts)} texts, {SHIPPED.stat().st_size} bytes: {SHIPPED}")
        return
    started = time.perf_counter()
    for variant in args.variants:  # in a process of its own: NNCF's thread pools stay out of the timings
        print(f"building static int8 {variant} (cached) ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, __file__, "--build", variant], check=True, cwd=ROOT, stdout=sys.stderr)
    statics = [f"static-{v}" for v in args.variants]
    # under the cap, OpenVINO 2026.4 still plans dynamic quantization but oneDNN finds no AVX2 kernel for it
    # ("could not create a primitive descriptor" at the first inference): that row is left out there
    dq = [] if args.no_dq or args.avx2 else ["openvino-int8-dq32"]
    settings = ["pytorch", "openvino-fp32", "openvino-int8", *dq, *statics]
    with tempfile.TemporaryDirectory() as tmp:
        rows = speed(settings, questions(), Path(tmp))
    judged = [f"static-{v}" for v in args.accept or []]
    if args.accept is None:  # SciFact takes minutes per runtime: judge the variant with the best worst cosine
        judged = [max(statics, key=lambda s: cosines(rows[s]["vectors"], rows["openvino-fp32"]["vectors"])[0])]
    quality = accept(["openvino-fp32", *judged]) if judged else {}
    report(rows, quality, " --avx2" if args.avx2 else "")
    print(f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
