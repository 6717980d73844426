FROM python:3.11-slim
WORKDIR /app
# Every dependency at the version and hash requirements.lock pins (generated from pyproject.toml,
# README: Production), then Herald itself with nothing more resolved.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md Procfile ./
COPY api api
COPY shared shared
COPY worker worker
# The embedded mode keeps its state in /app/var; the Procfile's processes write their metrics to
# /tmp/herald-metrics.
RUN pip install --no-cache-dir --no-deps . && useradd --system --no-create-home herald \
    && mkdir -p /app/var /tmp/herald-metrics && chown herald /app/var /tmp/herald-metrics \
    && chmod 700 /app/var
USER herald
ENV PORT=8000 PYTHONUNBUFFERED=1
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['PORT'], timeout=3)"]
# The Procfile's web line (gunicorn), its variables read from the environment as there. The
# worker and the stream run from this image too, with their Procfile lines as the command:
# docker-compose.yml's `worker` and `stream` services. Never the development server of
# `herald serve`, and no /demo (HERALD_DEMO is unset).
CMD ["sh", "-c", "exec env PROMETHEUS_MULTIPROC_DIR=${PROMETHEUS_MULTIPROC_DIR:-/tmp/herald-metrics} gunicorn --config python:api.http.gunicorn_conf --worker-class gthread --workers ${WEB_CONCURRENCY:-2} --threads ${HERALD_WEB_THREADS:-32} --bind 0.0.0.0:${PORT:-8000} 'api:create_app()'"]
