#!/usr/bin/env bash
# Installs dependencies when node_modules is missing or older than package-lock.json.
set -euo pipefail
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi
if [ ! -d node_modules/.prisma/client ]; then
  PRISMA_QUERY_ENGINE_LIBRARY=prisma/no-query-engine.placeholder npx prisma generate
fi
