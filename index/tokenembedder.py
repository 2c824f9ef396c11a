"""What every compiled runtime's embedder shares: the model's own tokenizer, texts batched by padded width, mean
pooling over the attention mask and L2 normalisation, exactly as the sentence-transformers pipeline does.

The runtimes (index/runtime.py on OpenVINO, index/ortruntime.py on ONNX Runtime) subclass `TokenEmbedder` and give
it a model whose `infer` returns the last hidden state. Texts are padded (masked, so the vectors do not change) to a
multiple of PAD_TO tokens, so that OpenVINO prepares a few shapes, not one per length (ONNX Runtime's embedder runs
each text at its own length instead: its `_width`); `warm_shapes` runs the usual question lengths once at load.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .conversion import MAX_SEQUENCE

if TYPE_CHECKING:
    from numpy.typing import NDArray

BATCH_TOKENS = 8192  # padded tokens per inference call: long texts go in small batches, short ones in large
WARM_TOKENS = 64  # question lengths (special tokens included) whose shapes are prepared at load
# Every text's tokens are padded (masked, so the vectors do not change) to a multiple of this: a question takes one
# of four shapes up to 64 tokens instead of one per length. OpenVINO keeps what it prepares for each shape: about
# 4.5 MB each for w8a8's int8 kernels (1.2 MB for bf16), so the 64 lengths held 286 MB (w8a8) and 74 MB (bf16) at
# load; with buckets of 16, 44 and 39 MB. Measured on the AMD EPYC, 200 questions x 3: w8a8 p50 2.3-3.4 ms padded
# against 2.8-2.9 ms unpadded, bf16 3.3-3.7 against 3.3 (the runs' spread is larger than the difference).
PAD_TO = 16


class _Inference(Protocol):
    def infer(self, ids: NDArray[np.int64], mask: NDArray[np.int64]) -> NDArray[np.float32]: ...


class TokenEmbedder:
    """What every compiled runtime shares: the model's own tokenizer, texts batched by their padded widths, mean
    pooling over the attention mask and L2 normalisation, as the sentence-transformers pipeline does. A subclass
    sets `_model` (its `infer` gives the last hidden state), `_name`, `_dim`, `_runtime` and `_precision`."""

    _model: _Inference
    _name: str
    _dim: int
    _runtime: str
    _precision: str

    def _load_tokenizers(self, tokenizer_json: Path) -> None:
        from tokenizers import Tokenizer

        self._tokenizer: Any = Tokenizer.from_file(str(tokenizer_json))
        self._tokenizer.enable_truncation(max_length=MAX_SEQUENCE)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._spans: Any = Tokenizer.from_file(str(tokenizer_json))
        self._spans.no_truncation()
        self._spans.no_padding()

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def max_tokens(self) -> int:
        return MAX_SEQUENCE - 2

    @property
    def runtime(self) -> str:
        return self._runtime

    @property
    def precision(self) -> str:
        """What the compiled model runs ("w8a8", "bf16", "int8" or "fp32"), read back from the runtime, not from what
        was asked."""
        return self._precision

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        encoded = self._spans.encode(text, add_special_tokens=False)
        return [(int(a), int(b)) for a, b in encoded.offsets]

    def embed_documents(self, texts: Sequence[str]) -> NDArray[np.float32]:
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        if not texts:
            return out
        # each text's width as _encode runs it: its tokens, [CLS] and [SEP] (up to the next multiple of PAD_TO)
        widths = [self._width(len(e.ids) + 2) for e in self._spans.encode_batch(list(texts), add_special_tokens=False)]
        order = sorted(range(len(texts)), key=lambda i: widths[i])
        first = 0
        while first < len(order):
            last = first + 1
            # sorted ascending: the batch's last text is its widest, so grow while the padded batch fits
            while last < len(order) and (last - first + 1) * widths[order[last]] <= max(
                BATCH_TOKENS, widths[order[first]]
            ):
                last += 1
            batch = order[first:last]
            out[batch] = self._encode([texts[i] for i in batch])
            first = last
        return out

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if not texts:
            return np.empty((0, self._dim), dtype=np.float32)
        return self._encode(texts)

    def embed_query(self, text: str) -> NDArray[np.float32]:
        vector: NDArray[np.float32] = self._encode([text])[0]
        return vector

    def _width(self, tokens: int) -> int:
        """The width a text of `tokens` tokens is run at (`padded_width`: OpenVINO prepares each shape once)."""
        return padded_width(tokens)

    def _encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        # one text: the tokenizer's plain call (no batch, so no padding and no trip through its thread pool)
        encoded = [self._tokenizer.encode(texts[0])] if len(texts) == 1 else self._tokenizer.encode_batch(list(texts))
        width = self._width(max(len(e.ids) for e in encoded))
        ids = np.zeros((len(encoded), width), dtype=np.int64)  # [PAD] is 0
        mask = np.zeros((len(encoded), width), dtype=np.int64)
        for row, e in enumerate(encoded):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = e.attention_mask
        hidden = self._model.infer(ids, mask)
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)


def warm_shapes(model: _Inference, longest: int) -> None:
    """Run one text of each padded length up to `longest` tokens (PAD_TO, 2 x PAD_TO, ...) once, so that the first
    question of that length does not also pay for preparing its shape (OpenVINO's kernels, ONNX Runtime's plan)."""
    for length in range(PAD_TO, longest + 1, PAD_TO):
        ids = np.full((1, length), 100, dtype=np.int64)  # [UNK]: any id will do
        model.infer(ids, np.ones_like(ids))


def padded_width(tokens: int) -> int:
    """The width a text of `tokens` tokens is run at: up to the next multiple of PAD_TO, at most MAX_SEQUENCE."""
    return min(-(-tokens // PAD_TO) * PAD_TO, MAX_SEQUENCE)
