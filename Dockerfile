FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY api api
COPY shared shared
COPY worker worker
# The embedded default keeps its state in /app/var; the Procfile's processes write their
# metrics to /tmp/herald-metrics.
RUN pip install --no-cache-dir . && useradd --system --no-create-home herald \
    && mkdir -p /app/var /tmp/herald-metrics && chown herald /app/var /tmp/herald-metrics
USER herald
ENV PORT=8000 PYTHONUNBUFFERED=1
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"]
# The embedded default; docker-compose.yml runs the Procfile's web and worker lines instead.
CMD ["herald", "serve", "--host", "0.0.0.0", "--port", "8000"]
