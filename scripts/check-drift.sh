#!/usr/bin/env bash
# Fails when a generated file differs from what its sources generate now.
set -euo pipefail
cd "$(dirname "$0")/.."
node --import tsx scripts/print-schema.ts --check
node --import tsx scripts/write-migration-index.ts --check
