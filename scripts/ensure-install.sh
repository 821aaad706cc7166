#!/usr/bin/env bash
# Installs dependencies when node_modules is missing or older than package-lock.json.
set -euo pipefail
# shellcheck source=scripts/use-node.sh
source "$(dirname "$0")/use-node.sh"
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing dependencies (npm ci)"
  # The lock holds every platform's optional packages (rollup's, msgpackr's), so `npm ci` installs exactly it on
  # Linux and macOS alike. When it refuses, package.json and the lock disagree: that is a mistake to fix, not to
  # paper over with another resolution.
  npm ci --no-audit --no-fund || {
    echo "npm ci refused package-lock.json: it is out of sync with package.json. Run 'npm install' under Node 24" >&2
    echo "(bash scripts/with-node.sh npm install) on a machine with no node_modules, commit the lock, then retry." >&2
    exit 1
  }
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
