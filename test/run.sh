#!/usr/bin/env bash
# Runs every test of Maestro++: formatting and vet checks, the Go tests (with
# the race detector; they start their own Azurite from test/node_modules), the
# pipeline task's Node tests, and the extension package build and check.
# Needs only Go and Node: every other tool comes from go.mod and the
# package-lock.json files.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== npm ci (Azurite for the tests)"
npm ci --prefix test --no-audit --no-fund --loglevel=error

echo "== gofmt, go vet"
unformatted=$(gofmt -l cmd internal test examples)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...

echo "== go test"
go test -race -count=1 -timeout 30m ./...
