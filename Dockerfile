# protection-qa: one image for both the one-shot `ingest` and the `api` service (see docker-compose.yml).
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    PQA_INDEX_DIR=/data/index \
    PQA_CORPUS=/corpus \
    PQA_MODEL_CACHE=/app/model-cache

WORKDIR /app

# The CPU build of torch first, pinned like pyproject.toml, so nothing pulls a CUDA build.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

COPY pyproject.toml README.md ./
COPY ingest ./ingest
COPY index ./index
COPY service ./service
COPY evaluate ./evaluate
COPY corpus /corpus
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin pqa \
    && mkdir -p /data/index /app/model-cache \
    && chown pqa:pqa /data/index /app/model-cache

USER pqa
# Convert the bundled model to OpenVINO once, at build time (no download: the weights are in the image), with its
# int8 weights too, for PQA_RUNTIME=openvino-int8 (less memory; `auto` runs w8a8, bf16 or fp32, index/precision.py),
# its ONNX Runtime int8 model, which `auto` runs on a host with AVX2 alone (index/ortruntime.py; the build does not
# depend on the CPU), and the reranker's (its adapter merged into the same weights, index/reranker.py).
RUN python -c "from pathlib import Path; from index.embedder import load_embedder; from index.reranker import load_reranker; c = Path('/app/model-cache'); print(load_embedder(runtime='openvino-int8', cache_dir=c).runtime, load_embedder(runtime='openvino', cache_dir=c).runtime, load_embedder(runtime='onnxruntime-int8', cache_dir=c).runtime, load_reranker('openvino', c).runtime)"
VOLUME ["/data/index"]
EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=6 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4).status == 200 else 1)"]

CMD ["pqa", "serve", "--host", "0.0.0.0", "--port", "8000", "--index", "/data/index"]
