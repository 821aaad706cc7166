#!/usr/bin/env bash
# npm run demo: install if needed, make sure PostgreSQL and Redis are up, then run the whole job once
# against the local stand-ins (see scripts/demo.ts). Output in demo-output/.
set -euo pipefail
cd "$(dirname "$0")/.."
# Node.js 24 for everything below (brought from the npm registry when the machine has another version).
source scripts/use-node.sh
bash scripts/ensure-install.sh
bash scripts/ensure-services.sh
exec node --import tsx scripts/demo.ts "$@"
