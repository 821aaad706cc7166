#!/usr/bin/env bash
# npm run bench: every benchmark in bench/, one after another (each prints its figures and ratios against its bound).
# npm run bench -- throughput fairness: only the benchmarks named (bench/<name>.ts).
set -uo pipefail
cd "$(dirname "$0")/.."
# Node.js 24 for everything below (brought from the npm registry when the machine has another version).
source scripts/use-node.sh
bash scripts/ensure-install.sh
bash scripts/ensure-services.sh
export LOG_LEVEL="${LOG_LEVEL:-warn}"
status=0
benches=()
for name in "$@"; do
  [[ -f "bench/${name}.ts" ]] || { echo "no benchmark bench/${name}.ts (the names are the files in bench/)" >&2; exit 2; }
  benches+=("bench/${name}.ts")
done
[[ ${#benches[@]} -gt 0 ]] || benches=(bench/*.ts)
# The Web Vitals bench loads the built app.
if [[ " ${benches[*]} " == *" bench/web-vitals.ts "* && ! -f build/server/index.js ]]; then
  bash scripts/with-node.sh remix vite:build || exit 1
fi
for bench in "${benches[@]}"; do
  echo; echo "=== ${bench}"
  npx tsx "${bench}" || { echo "!!! ${bench} failed"; status=1; }
done
exit $status
