#!/usr/bin/env bash
# Fails when a generated file differs from what its sources generate now.
set -euo pipefail
cd "$(dirname "$0")/.."
node --import tsx scripts/print-schema.ts --check
node --import tsx scripts/write-migration-index.ts --check

# The SDK's generated code: regenerate from schema.graphql and sdk/operations into a scratch
# folder and compare contents, so uncommitted changes are checked as well as committed ones.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
CODEGEN_OUT_DIR="$scratch" npx graphql-codegen --config codegen.ts --silent
if ! diff -r "$scratch" sdk/__generated__ >"$scratch.diff"; then
  # Generated documents are one long line each: show the start of each differing line only.
  sed "s#$scratch#(regenerated)#g" "$scratch.diff" | cut -c1-160 | head -40 >&2
  rm -f "$scratch.diff"
  echo "sdk/__generated__ differs from what schema.graphql and sdk/operations generate: run \`npm run generate\` and commit the result" >&2
  exit 1
fi
rm -f "$scratch.diff"
echo "sdk/__generated__ matches schema.graphql and sdk/operations"
