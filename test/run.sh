#!/usr/bin/env bash
# Runs every test of Maestro++: formatting and vet checks, the Go tests (with
# the race detector; they start their own Azurite from test/node_modules), the
# pipeline task's Node tests, and (with CI=true or MAESTRO_VSIX_TEST=1) the
# extension package build and check, which test/vsix runs.
# Needs Go and Node: every other tool comes from go.mod and the
# package-lock.json files, except Chromium for the status site's browser
# tests, which this script installs from Debian's packages when it is
# missing (as root; otherwise it says how, and those tests skip — except
# under CI=true, where they fail).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== npm ci (Azurite for the tests; the pipeline task's packages)"
npm ci --prefix test --no-audit --no-fund --loglevel=error
npm ci --prefix task/MaestroV1 --no-audit --no-fund --loglevel=error

echo "== chromium (the status site's browser tests, docs/testing.md)"
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
  else
    echo "chromium is missing and this is not root: run apt-get install chromium"
  fi
fi

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
