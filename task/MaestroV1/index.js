'use strict';
// Entry point of the Maestro task: runs the bundled maestro binary with the task's inputs.

const fs = require('fs');
const tl = require('azure-pipelines-task-lib/task');
const { binaryPath, ensureExecutable } = require('./lib/binary');
const invocation = require('./lib/invocation');
const { FailureWatcher } = require('./lib/output');

async function run() {
  const storeType = tl.getInput('storeType', true);
  const secrets = invocation.readSecrets(tl, storeType);
  for (const value of invocation.secretValues(secrets)) {
    tl.setSecret(value);
  }
  const plan = invocation.plan(tl, storeType, secrets);
  const binary = binaryPath(__dirname, process.platform, process.arch);
  ensureExecutable(binary, process.platform);
  if (plan.resultFile) {
    fs.rmSync(plan.resultFile, { force: true });
  }
  for (const args of plan.runs) {
    const outcome = await runMaestro(binary, args, plan);
    if (outcome.code !== 0) {
      fail(outcome);
      return;
    }
  }
  if (plan.resultFile) {
    setOutputs(plan.resultFile);
  }
  tl.setResult(tl.TaskResult.Succeeded, '');
}

async function runMaestro(binary, args, plan) {
  const tool = tl.tool(binary).arg(args).line(plan.extraArguments);
  const watcher = new FailureWatcher();
  tool.on('stdline', (line) => watcher.stdout(line));
  tool.on('errline', (line) => watcher.stderr(line));
  const code = await tool.execAsync({
    cwd: plan.cwd,
    env: { ...process.env, ...plan.env },
    ignoreReturnCode: true,
    failOnStdErr: false,
  });
  return { code, message: watcher.message(code), reported: watcher.reported };
}

// fail ends the task as Failed. When the binary already logged the error issue, only the result
// is reported, so the agent's summary does not list the same error twice.
function fail(outcome) {
  if (outcome.reported) {
    tl.command('task.complete', { result: 'Failed' }, outcome.message);
  } else {
    tl.setResult(tl.TaskResult.Failed, outcome.message);
  }
}

// setOutputs reads the build record maestro publish wrote and sets MaestroBuildId and
// MaestroChannels both as job variables and as output variables of this step.
function setOutputs(file) {
  let record;
  try {
    record = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`read the build record maestro publish wrote to ${file}: ${err.message}`);
  }
  if (!record || !Number.isInteger(record.id) || record.id <= 0) {
    throw new Error(`the build record in ${file} has no BAR id ("id")`);
  }
  const channels = (record.channels || []).map((c) => c && c.name).filter(Boolean).join(',');
  for (const [name, value] of [['MaestroBuildId', String(record.id)], ['MaestroChannels', channels]]) {
    tl.setVariable(name, value);
    tl.setVariable(name, value, false, true);
  }
  console.log(`Recorded BAR build ${record.id}; channels: ${channels || '(none)'}`);
  fs.rmSync(file, { force: true });
}

run().catch((err) => tl.setResult(tl.TaskResult.Failed, err.message));
