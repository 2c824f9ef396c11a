"""Settings, read from the environment (prefix PQA_) once, at the edge. The README lists them all."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.fusion import METHODS, Fusion
from index.reranker import Reranker

DEFAULT_FUSION = Fusion()


class Settings(BaseSettings):
    """Every knob of the service; `PQA_INDEX_DIR=/data/index` sets `index_dir`, and so on."""

    model_config = SettingsConfigDict(env_prefix="PQA_", extra="ignore")

    index_dir: Path = Field(Path("var/index"), description="Where index generations live.")
    corpus: Annotated[list[Path], NoDecode] = Field(
        default_factory=lambda: [Path("corpus")],
        description="Paths (space- or comma-separated) that re-indexing reads.",
    )
    model: str | None = Field(None, description="Embedding model: a sentence-transformers name or folder.")
    runtime: str = Field(
        "auto",
        description=(
            "Embedding runtime: 'auto' (ONNX Runtime's int8 on a CPU with AVX2 alone where it was accepted, else "
            "OpenVINO when it loads, else PyTorch), 'openvino' (its fastest accepted precision), 'openvino-bf16', "
            "'openvino-w8a8', 'openvino-int8', 'openvino-fp32', 'onnxruntime-int8' (forced) or 'pytorch'."
        ),
        pattern="^(auto|openvino|openvino-bf16|openvino-w8a8|openvino-int8|openvino-fp32|onnxruntime-int8|pytorch)$",
    )
    model_cache: Path | None = Field(
        None, description="Where the OpenVINO conversion of the model is kept (default ~/.cache/protection-qa)."
    )
    query_cache: int = Field(
        1024, ge=0, description="Question embeddings kept (least recently used dropped first); 0 turns it off."
    )
    host: str = "127.0.0.1"
    port: int = 8000
    default_k: int = Field(5, ge=1)
    # validated even when unset, so that PQA_DEFAULT_K alone is checked against the default PQA_MAX_K
    max_k: int = Field(50, ge=1, validate_default=True)
    max_query_chars: int = Field(1000, ge=1)
    fusion: str = Field(
        DEFAULT_FUSION.method,
        description="'learned' (the linear ranker, index/data/ranker.json), 'convex' (weighted scores, with the "
        "weights and boosts below) or 'rrf' (reciprocal rank fusion).",
    )
    dense_weight: float = Field(
        DEFAULT_FUSION.dense_weight, ge=0.0, le=1.0, description="Weight of the cosine in convex fusion."
    )
    sentence_weight: float = Field(
        DEFAULT_FUSION.sentence_weight,
        ge=0.0,
        le=1.0,
        description="Share of a passage's dense score taken from its best sentence's cosine.",
    )
    name_boost: float = Field(
        DEFAULT_FUSION.name_boost, ge=0.0, description="Added to passages of a document the question names."
    )
    cite_boost: float = Field(
        DEFAULT_FUSION.cite_boost, ge=0.0, description="Added to passages of a unit the question cites by number."
    )
    lookup_boost: float = Field(
        DEFAULT_FUSION.lookup_boost,
        ge=0.0,
        description="Added to a cited unit's passages, instead of cite_boost, when the question asks for nothing else.",
    )
    definition_boost: float = Field(
        DEFAULT_FUSION.definition_boost,
        ge=0.0,
        description="Added to passages that state a definition when the question asks for one (index/intent.py).",
    )
    rerank: Literal["off", "ask", "on"] = Field(
        "off",
        description="The cross-encoder (index/reranker.py), which re-scores the first stage's best passages: better "
        "order on protection questions and on SciFact, about 80 ms more a question in bf16 (README). 'off': not "
        "loaded; 'ask': loaded, used for the requests that ask for it (rerank=true, the page's 'Order'); 'on': "
        "every question, unless a request says rerank=false. true/false read as on/off.",
    )
    rerank_top: int | None = Field(
        None, ge=2, description="How many of the first stage's passages are re-scored (unset: the shipped choice)."
    )
    rerank_weight: float | None = Field(
        None, ge=0.0, description="score = fused + weight * cross for re-scored passages (unset: the shipped choice)."
    )
    search_processes: Annotated[int, Field(ge=0)] | Literal["auto"] = Field(
        "auto",
        description="Processes that answer questions beside the serving one, each with its own model on its share of "
        "the cores (service/pool.py): more questions a second and a shorter tail under concurrent load, about 250 MB "
        "of memory each (README). 0: the serving process answers every question itself; auto: one per core where "
        "there are two or more, at most 4.",
    )
    search_alone_here: bool = Field(
        True,
        description="A question that is the only one in the serving process is answered there, its model on every "
        "core (sooner than a search process on its share); false: search processes answer every question they can.",
    )
    search_threads: int | None = Field(
        None, ge=1, description="Cores one search process's model uses (unset: the cores / PQA_SEARCH_PROCESSES)."
    )
    reload_interval: float = Field(2.0, gt=0.0, description="Seconds between checks for a new generation.")
    load_in_background: bool = Field(True, description="Answer /healthz, and 503 elsewhere, while loading.")
    max_body_bytes: int = Field(16_384, ge=256, description="Largest request body accepted (413 above).")
    rate_limit: int = Field(600, ge=0, description="Requests per client address per minute (429 above; 0: off).")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses or networks of reverse proxies whose X-Forwarded-For is believed (space- or "
        "comma-separated); empty: none, the client is the connection's peer address.",
    )
    header_timeout: float = Field(
        10.0, gt=0.0, description="Seconds a client has to send a request's headers, and then its body (408 after)."
    )
    keep_alive_timeout: int = Field(5, ge=1, description="Seconds an idle keep-alive connection is kept open.")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Origins allowed by CORS (space- or comma-separated); empty: CORS off."
    )
    log_queries: bool = Field(False, description="Write the question text into the access log.")
    admin_token: SecretStr | None = Field(
        None, description="Bearer token for POST /api/reindex; unset, re-indexing over HTTP is disabled."
    )
    golden: Path | None = Field(
        None, description="Golden questions (JSON lines); a new generation scoring lower hit@3 is not swapped in."
    )
    watch: bool = Field(False, description="Re-index when files under the corpus change (pqa serve --watch).")
    watch_debounce: float = Field(1.0, gt=0.0, description="Seconds of quiet after a change before re-indexing.")
    reindex_lock_wait: float = Field(60.0, ge=0.0, description="Seconds a re-index job waits for another writer.")
    dense_index: str = Field(
        "auto",
        description="FAISS index of a new generation: 'auto' (flat below 20,000 vectors, HNSW from there), "
        "'flat' (exact) or 'hnsw' (approximate).",
        pattern="^(auto|flat|hnsw)$",
    )
    ray_actors: int = Field(2, ge=1, description="pqa ingest --ray: embedding actors, each loading the model once.")
    test_pause_at: str | None = Field(
        None, description="Test only: 'STAGE[:DONE]' makes pqa ingest sleep there, so a test can kill it."
    )

    def ranking(self) -> Fusion:
        """How the two rankings combine under these settings (the service's and `pqa ask`'s)."""
        return Fusion(
            method=self.fusion,
            dense_weight=self.dense_weight,
            sentence_weight=self.sentence_weight,
            name_boost=self.name_boost,
            cite_boost=self.cite_boost,
            lookup_boost=self.lookup_boost,
            definition_boost=self.definition_boost,
        )

    def reranker(self, threads: int | None = None) -> Reranker | None:
        """The cross-encoder these settings ask for, loaded (once per process) on `threads` cores (None: every
        core), or None when reranking is off."""
        if self.rerank == "off":
            return None
        from index.reranker import load_reranker

        reranker = load_reranker(self.runtime, self.model_cache, threads=threads)
        return reranker.tuned(self.rerank_top, self.rerank_weight)

    @field_validator("rerank", mode="before")
    @classmethod
    def _rerank_words(cls, value: object) -> object:
        """PQA_RERANK=true/false (and 1/0, yes/no), as before 'ask' existed, read as on/off."""
        if isinstance(value, bool):
            return "on" if value else "off"
        if isinstance(value, str):
            word = value.strip().lower()
            return {"true": "on", "1": "on", "yes": "on", "false": "off", "0": "off", "no": "off"}.get(word, word)
        return value

    @field_validator("fusion")
    @classmethod
    def _known_fusion(cls, value: str) -> str:
        """The methods index/search.py's Fusion knows: a typo is refused at start, not in the loading thread."""
        if value not in METHODS:
            raise PydanticCustomError(
                "fusion", "Input should be one of {expected}", {"expected": ", ".join(repr(m) for m in METHODS)}
            )
        return value

    @field_validator("max_k")
    @classmethod
    def _default_k_within_max_k(cls, value: int, info: ValidationInfo) -> int:
        """PQA_DEFAULT_K over PQA_MAX_K would fail every request that leaves k out, blaming the client."""
        default_k = info.data.get("default_k")  # absent when PQA_DEFAULT_K itself is not valid
        if default_k is not None and default_k > value:
            raise PydanticCustomError(
                "default_k_over_max_k",
                "PQA_DEFAULT_K={default_k} is larger than PQA_MAX_K={max_k}; set PQA_DEFAULT_K to at most "
                "PQA_MAX_K, or raise PQA_MAX_K",
                {"default_k": default_k, "max_k": value},
            )
        return value

    @field_validator("corpus", "cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_paths(cls, value: object) -> object:
        if isinstance(value, str):
            return [part for part in value.replace(",", " ").split() if part]
        return value
