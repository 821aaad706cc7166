#!/usr/bin/env bash
# npm test: install if needed, make sure PostgreSQL and Redis are up, build a fresh test database from the
# migrations, typecheck, lint, build the app (the browser test serves it), then run every vitest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# Node.js 24 for everything below (brought from the npm registry when the machine has another version).
source scripts/use-node.sh

bash scripts/ensure-install.sh
bash scripts/ensure-services.sh

export TEST_DATABASE_NAME="${TEST_DATABASE_NAME:-imgapp_test}"
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS \"${TEST_DATABASE_NAME}\" WITH (FORCE)" >/dev/null
psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE \"${TEST_DATABASE_NAME}\"" >/dev/null
DATABASE_URL="postgresql://postgres@127.0.0.1:5432/${TEST_DATABASE_NAME}" npx tsx scripts/migrate.ts

echo "node $(node -v)"
# The four checks run as two lanes at once (one per core); each step's output is kept and printed under its name in
# this order once both lanes are done, and any failed step fails the script.
steps=$(mktemp -d)
trap 'rm -rf "$steps"' EXIT
step() {
  local name=$1
  shift
  local rc=0
  "$@" >"$steps/$name.log" 2>&1 || rc=$?
  echo "$rc" >"$steps/$name.rc"
  return "$rc"
}
check_format() { npx prettier --check . >/dev/null || { npx prettier --list-different .; echo "run npm run format"; return 1; }; }
build() { npx remix vite:build >/dev/null; }
started=$SECONDS
{ step typecheck npx tsc --noEmit || true; step format check_format || true; } &
lane_a=$!
{ step lint npx eslint --max-warnings 0 . || true; step build build || true; } &
lane_b=$!
wait "$lane_a" "$lane_b"
failed=0
for name in typecheck lint format build; do
  echo "$name"
  [ -f "$steps/$name.log" ] && cat "$steps/$name.log"
  if [ "$(cat "$steps/$name.rc" 2>/dev/null || echo 1)" != 0 ]; then
    echo "$name failed"
    failed=1
  fi
done
echo "checks and build: $((SECONDS - started)) s"
[ "$failed" = 0 ] || exit 1

mkdir -p test-artifacts
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest.json "$@" || status=$?
# One plain closing line for CI, whatever the reporter prints above it.
node -e 'const r = JSON.parse(require("fs").readFileSync("test-artifacts/vitest.json", "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);' || true
exit $status
