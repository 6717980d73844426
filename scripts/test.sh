#!/usr/bin/env bash
# Runs Herald's test suite on a fresh machine: installs the project and its dev tools into
# .venv, starts PostgreSQL and Redis when they are installed but down, then runs pytest.
# With CI set, the production-mode tests (PostgreSQL + Redis + moto) are required, not skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'

# The browser tests drive Debian's Chromium through Playwright (never a browser of its own).
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null
fi

if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -q; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  fi
fi
if command -v redis-cli >/dev/null 2>&1 && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
for _ in $(seq 1 30); do
  pg_ok=0; redis_ok=0
  pg_isready -h 127.0.0.1 -q 2>/dev/null && pg_ok=1
  redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && redis_ok=1
  [ "$pg_ok$redis_ok" = "11" ] && break
  sleep 1
done

exec .venv/bin/python -m pytest "$@"
