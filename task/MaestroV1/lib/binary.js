'use strict';
// Picks the maestro binary bundled for the agent's platform and makes it executable.

const fs = require('fs');
const path = require('path');
const platforms = require('./platforms.json');

// binaryPath returns the bundled binary for a Node platform/arch pair (process.platform,
// process.arch), or throws naming the platforms the extension ships.
function binaryPath(taskRoot, platform, arch) {
  const folder = `${platform}-${arch}`;
  const entry = platforms.find((p) => p.folder === folder);
  if (!entry) {
    const supported = platforms.map((p) => p.folder).join(', ');
    throw new Error(`this agent runs on ${folder}, for which the task bundles no maestro binary (bundled: ${supported})`);
  }
  return path.join(taskRoot, 'bin', entry.folder, entry.executable);
}

// ensureExecutable restores the executable bit, which .vsix (zip) packaging drops.
function ensureExecutable(file, platform) {
  if (!fs.existsSync(file)) {
    throw new Error(`the bundled binary ${file} is missing: reinstall the extension or rebuild the task with scripts/build-vsix.sh`);
  }
  if (platform === 'win32') {
    return;
  }
  try {
    fs.chmodSync(file, 0o755);
  } catch (err) {
    throw new Error(`make ${file} executable: ${err.message}`);
  }
}

module.exports = { binaryPath, ensureExecutable, platforms };
