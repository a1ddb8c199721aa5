#!/usr/bin/env bash
# Runs every test of Maestro++: formatting and vet checks, the Go tests (with
# the race detector; they start their own Azurite from test/node_modules), the
# pipeline task's Node tests, and (with CI=true or MAESTRO_VSIX_TEST=1) the
# extension package build and check, which test/vsix runs.
# Needs only Go and Node: every other tool comes from go.mod and the
# package-lock.json files.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== npm ci (Azurite for the tests; the pipeline task's packages)"
npm ci --prefix test --no-audit --no-fund --loglevel=error
npm ci --prefix task/MaestroV1 --no-audit --no-fund --loglevel=error

echo "== node tests (the pipeline task)"
node --test task/MaestroV1/tests/*.test.js

echo "== gofmt, go vet"
unformatted=$(gofmt -l cmd internal test examples)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...

echo "== go test"
go test -race -count=1 -timeout 30m ./...
