#!/usr/bin/env bash
# Installs dependencies when node_modules is missing or older than package-lock.json.
set -euo pipefail
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing dependencies (npm ci)"
  if ! npm ci --no-audit --no-fund; then
    # npm 11 records only this platform's optional packages (rollup, msgpackr-extract) in the lock file and then
    # its own `npm ci` calls the lock out of sync; `npm install` installs the same locked versions.
    echo "npm ci refused the lock file; installing the locked versions with npm install"
    npm install --no-audit --no-fund --no-save
  fi
fi
if [ ! -d node_modules/.prisma/client ]; then
  PRISMA_QUERY_ENGINE_LIBRARY=prisma/no-query-engine.placeholder npx prisma generate
fi
# The browser tests drive Debian's Chromium (Playwright cannot download a browser offline).
if [ ! -x /usr/bin/chromium ] && [ -z "${CHROMIUM_PATH:-}" ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = "0" ]; then
    echo "installing chromium (apt)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  [ -x /usr/bin/chromium ] || { echo "Chromium is missing: apt-get install chromium (or set CHROMIUM_PATH), then retry." >&2; exit 1; }
fi
