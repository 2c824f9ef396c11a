"""Embeddings kept on disk between runs, keyed by the sha256 of the text, per model and runtime.

The runtime is what really ran ("openvino-bf16", "openvino-int8", "openvino-fp32", "pytorch-fp32"),
with the sha256 of the compiled weights where the embedder knows it (`vectors_key`), so vectors of
one precision, or of other int8 weights, are never read back as another's.

Used by evaluation and benchmarks so a second run over the same corpus embeds nothing. A folder per
(model, runtime) holds `keys.txt` (one sha256 per line) and `vectors.npy` (the rows in that order);
both are replaced atomically, so a run killed half-way leaves the previous cache intact.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from index.embedder import Embedder

KEYS = "keys.txt"
VECTORS = "vectors.npy"


class VectorCache(dict[str, "NDArray[np.float32]"]):
    """A dict sha256 -> vector that loads from and saves to `root/<model>--<runtime>/`."""

    def __init__(self, root: Path, model: str, runtime: str) -> None:
        super().__init__()
        self.folder = root / re.sub(r"[^\w.-]+", "_", f"{model}--{runtime}")
        self._saved = 0
        self.runtime = runtime
        keys_path, vectors_path = self.folder / KEYS, self.folder / VECTORS
        if keys_path.exists() and vectors_path.exists():
            keys = keys_path.read_text().split()
            vectors = np.load(vectors_path)
            # keys are only ever appended, so vectors saved after the keys file still start with its rows
            if len(vectors) >= len(keys):
                self.update(zip(keys, vectors[: len(keys)], strict=True))
                self._saved = len(keys)

    @classmethod
    def for_embedder(cls, root: Path, embedder: Embedder) -> VectorCache:
        """The cache of `embedder`'s vectors: by its name and `vectors_key` (else its runtime name)."""
        return cls(root, embedder.name, str(getattr(embedder, "vectors_key", None) or embedder.runtime))

    @property
    def unsaved(self) -> int:
        return len(self) - self._saved

    def save(self) -> None:
        """Write the whole cache if anything was added since it was loaded or last saved."""
        if not self.unsaved:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        keys = list(self)
        vectors = np.stack([self[k] for k in keys]).astype(np.float32)
        partial_vectors = self.folder / f".{VECTORS}.{os.getpid()}"
        partial_keys = self.folder / f".{KEYS}.{os.getpid()}"
        with partial_vectors.open("wb") as handle:
            np.save(handle, vectors)
        partial_keys.write_text("\n".join(keys) + "\n")
        # vectors first: a reader that sees the new keys also sees their rows
        os.replace(partial_vectors, self.folder / VECTORS)
        os.replace(partial_keys, self.folder / KEYS)
        self._saved = len(keys)
