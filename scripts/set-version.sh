#!/usr/bin/env bash
# Sets the version of the Maestro++ task and of the extension that ships it, which always move
# together: task/MaestroV1/task.json (Major.Minor.Patch, what agents download) and
# vss-extension.json (what the marketplace publishes). test/vsix checks that they agree.
#
#   scripts/set-version.sh 1.2.0
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -ne 1 || ! $1 =~ ^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$ ]]; then
  echo "usage: scripts/set-version.sh MAJOR.MINOR.PATCH" >&2
  exit 2
fi
node -e '
  const fs = require("fs");
  const [major, minor, patch] = process.argv[1].split(".").map(Number);
  const edit = (file, change) => {
    const doc = JSON.parse(fs.readFileSync(file, "utf8"));
    change(doc);
    fs.writeFileSync(file, JSON.stringify(doc, null, 2) + "\n");
  };
  edit("task/MaestroV1/task.json", (t) => {
    if (major !== t.version.Major) {
      console.error(`task.json is version ${t.version.Major}: a new major version is a new task folder (task/MaestroV${major}) next to the old one`);
      process.exit(1);
    }
    t.version = { Major: major, Minor: minor, Patch: patch };
  });
  edit("vss-extension.json", (e) => { e.version = process.argv[1]; });
  console.log(`task and extension version ${process.argv[1]}`);
' "$1"
