'use strict';
// Watches the binary's output for the message a failed run should end with: the last error issue
// it reported to the agent (##vso[task.logissue type=error]) or else its last stderr line.

const { commandFromString } = require('azure-pipelines-task-lib/taskcommand');

const ISSUE = /^##vso\[task\.(?:log)?issue[\s\]]/i;

class FailureWatcher {
  constructor() {
    this.lastIssue = '';
    this.lastStderr = '';
  }

  // stdout takes one line of the binary's standard output.
  stdout(line) {
    this.issue(line);
  }

  // stderr takes one line of the binary's standard error.
  stderr(line) {
    if (!this.issue(line) && line.trim()) {
      this.lastStderr = line.trim();
    }
  }

  issue(line) {
    const text = line.trim();
    if (!ISSUE.test(text)) {
      return false;
    }
    let cmd;
    try {
      cmd = commandFromString(text);
    } catch {
      return false;
    }
    if (String(cmd.properties.type).toLowerCase() === 'error' && cmd.message.trim()) {
      this.lastIssue = cmd.message.trim();
    }
    return true;
  }

  // reported tells whether the binary already logged an error issue the agent will show.
  get reported() {
    return this.lastIssue !== '';
  }

  message(code) {
    return this.lastIssue || this.lastStderr || `maestro exited with code ${code}`;
  }
}

module.exports = { FailureWatcher };
