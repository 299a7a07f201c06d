# The API image for the distributed shape (docker-compose.yml). CPU-only torch from PyTorch's index;
# torchvision is never installed (it breaks beside this torch).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 SCARF_NO_ANALYTICS=true DO_NOT_TRACK=true
RUN apt-get update && apt-get install -y --no-install-recommends libmagic1 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY pyproject.toml README.md ./
COPY core core
COPY ingest ingest
COPY retrieval retrieval
COPY acl acl
COPY provenance provenance
COPY evals evals
COPY api api
COPY shims shims
COPY examples examples
RUN pip install . \
    && pip install --no-deps unstructured-inference==1.6.14 \
    && pip install --no-deps --no-build-isolation ./shims/en_core_web_sm \
    && (pip uninstall -y torchvision timm || true)
RUN useradd --create-home tessera && mkdir -p /data && chown tessera /data
USER tessera
ENV TESSERA_DATA_DIR=/data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz').status == 200 else 1)"
CMD ["tessera", "serve", "--host", "0.0.0.0", "--port", "8000"]
