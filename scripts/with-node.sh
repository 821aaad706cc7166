#!/usr/bin/env bash
# Runs a command under Node.js 24 (see use-node.sh): `bash scripts/with-node.sh tsx worker.ts`.
set -euo pipefail
# shellcheck source=scripts/use-node.sh
source "$(dirname "$0")/use-node.sh"
exec "$@"
