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
#   PUBLISHER=contoso scripts/build-vsix.sh  the extension under another Marketplace publisher
#                                            (make vsix PUBLISHER=contoso does the same)
#
# PUBLISHER is a Marketplace publisher *id* (letters, digits and hyphens, not starting with a
# hyphen: what the Marketplace and its tools accept), not the publisher's display name; it is
# checked before anything is built. Only the staged copy of vss-extension.json gets it.
set -euo pipefail
cd "$(dirname "$0")/.."

publisher=${PUBLISHER:-}
if [ -n "$publisher" ] && ! [[ $publisher =~ ^[A-Za-z0-9][A-Za-z0-9-]*$ ]]; then
  echo "build-vsix: PUBLISHER must be a Marketplace publisher id: letters, digits and hyphens, starting with a letter or digit (the id on https://marketplace.visualstudio.com/manage, not the display name); got '$publisher'" >&2
  exit 2
fi

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
if [ -n "$publisher" ]; then
  echo "   publisher $publisher"
  PUBLISHER=$publisher node -e '
    const fs = require("fs");
    const path = process.argv[1];
    const ext = JSON.parse(fs.readFileSync(path, "utf8"));
    ext.publisher = process.env.PUBLISHER;
    fs.writeFileSync(path, JSON.stringify(ext, null, 2) + "\n");' "$stage/vss-extension.json"
fi
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
