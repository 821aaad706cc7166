#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on 127.0.0.1; starts them when installed and down.
set -euo pipefail

pg_up() { (command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432) ; }
redis_up() { (command -v redis-cli >/dev/null && [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]); }

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null; then
    version=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)
    echo "starting PostgreSQL ${version}"
    pg_ctlcluster --skip-systemctl-redirect "${version:-15}" main start || pg_ctlcluster "${version:-15}" main start || true
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  fi
  pg_up || { echo "PostgreSQL is not reachable on 127.0.0.1:5432 and could not be started. Install it (apt-get install postgresql) or start it, then retry." >&2; exit 1; }
fi

if ! redis_up; then
  if command -v redis-server >/dev/null; then
    echo "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
    for _ in $(seq 1 30); do redis_up && break; sleep 0.5; done
  fi
  redis_up || { echo "Redis is not reachable on 127.0.0.1:6379 and could not be started. Install it (apt-get install redis-server) or start it, then retry." >&2; exit 1; }
fi
