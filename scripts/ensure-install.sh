#!/usr/bin/env bash
# Installs dependencies when node_modules is missing or older than package-lock.json.
set -euo pipefail
# shellcheck source=scripts/use-node.sh
source "$(dirname "$0")/use-node.sh"
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing dependencies (npm ci)"
  # The lock holds every platform's optional packages (rollup's, msgpackr's), so `npm ci` installs exactly it on
  # Linux and macOS alike. When it refuses the lock as out of sync, package.json and the lock disagree: that is a
  # mistake to fix, not to paper over with another resolution.
  npm_log="$(mktemp)"
  # npm's errors still reach the terminal and are kept to be read; a pipeline (with pipefail), not a process
  # substitution, so that tee has written all of them before they are read.
  if ! { npm ci --no-audit --no-fund 2>&1 1>&3 | tee "$npm_log" >&2; } 3>&1; then
    if grep -q "are in sync" "$npm_log"; then
      echo "npm ci refused package-lock.json: it is out of sync with package.json. Run 'npm install' under Node 24" >&2
      echo "(bash scripts/with-node.sh npm install) on a machine with no node_modules, commit the lock, then retry." >&2
    else
      # Anything else (ENOTEMPTY from a half-written node_modules, a registry that did not answer, a full disk) is
      # about this machine, not the lock: say so rather than send the reader after a lock that is fine.
      echo "npm ci failed (its error is above); package-lock.json matches package.json. Remove node_modules" >&2
      echo "(rm -rf node_modules), check that the npm registry answers and the disk has room, then retry." >&2
    fi
    rm -f "$npm_log"
    exit 1
  fi
  rm -f "$npm_log"
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
