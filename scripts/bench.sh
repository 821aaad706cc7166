#!/usr/bin/env bash
# npm run bench: every benchmark in bench/, one after another (each prints its figures and ratios against its bound).
set -uo pipefail
cd "$(dirname "$0")/.."
# Node.js 24 for everything below (brought from the npm registry when the machine has another version).
source scripts/use-node.sh
bash scripts/ensure-install.sh
bash scripts/ensure-services.sh
export LOG_LEVEL="${LOG_LEVEL:-warn}"
status=0
for bench in bench/*.ts; do
  echo; echo "=== ${bench}"
  npx tsx "${bench}" || { echo "!!! ${bench} failed"; status=1; }
done
exit $status
