#!/usr/bin/env bash
# Builds the Maestro++ Azure DevOps extension (.vsix). In a staging folder it lays out the task
# (task.json, index.js, lib/, icon, package files), installs the task's runtime packages from
# its package-lock.json, cross-compiles maestro into bin/<platform>/ for every platform in
# task/MaestroV1/lib/platforms.json, and packs the whole with the tfx-cli pinned in
# task/package-lock.json. Needs Go and Node; reaches no network but the npm registry (and not
# that when npm's cache holds the packages). The source tree is left as it was, apart from
# task/node_modules (tfx-cli) and the output.
#
#   scripts/build-vsix.sh [OUTPUT.vsix]     default: task/dist/maestro-<version>.vsix
set -euo pipefail
cd "$(dirname "$0")/.."

task=task/MaestroV1
version=$(node -e '
  const t = require("./'"$task"'/task.json").version;
  const e = require("./vss-extension.json").version;
  const v = `${t.Major}.${t.Minor}.${t.Patch}`;
  if (v !== e) {
    console.error(`task.json version ${v} differs from vss-extension.json version ${e}; set both with scripts/set-version.sh`);
    process.exit(1);
  }
  console.log(v);')
out=${1:-task/dist/maestro-$version.vsix}

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

echo "== staging the extension"
mkdir -p "$stage/$task"
cp vss-extension.json "$stage/"
cp task/overview.md "$stage/task/"
cp -R "$task/task.json" "$task/index.js" "$task/lib" "$task/icon.png" "$task/package.json" \
  "$task/package-lock.json" "$stage/$task/"
npm ci --prefix "$stage/$task" --omit=dev --no-audit --no-fund --loglevel=error

echo "== cross-compiling maestro $version"
node -e 'for (const p of require("./'"$task"'/lib/platforms.json")) console.log(p.goos, p.goarch, p.folder, p.executable)' |
while read -r goos goarch folder executable; do
  echo "   $goos/$goarch -> bin/$folder/$executable"
  CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch go build -trimpath -ldflags "-s -w -X github.com/maestroplusplus/maestro/internal/cli.Version=$version" \
    -o "$stage/$task/bin/$folder/$executable" ./cmd/maestro
done

echo "== packing $out"
# tfx-cli from task/package-lock.json; the copy of the lock file marks what is installed.
if ! cmp -s task/package-lock.json task/node_modules/.installed-lock.json 2>/dev/null; then
  npm ci --prefix task --no-audit --no-fund --loglevel=error
  cp task/package-lock.json task/node_modules/.installed-lock.json
fi
mkdir -p "$(dirname "$out")"
node task/node_modules/tfx-cli/_build/tfx-cli.js extension create --root "$stage" \
  --manifest-globs vss-extension.json --output-path "$out" --no-prompt --no-color
