'use strict';
// Runs index.js under task-lib's TaskMockRunner with the scenario that task.test.js passes in
// MAESTRO_TEST_SCENARIO (JSON). The maestro binary is mocked through the answers' exec table;
// its one side effect, the build record file, is served through a mocked fs.readFileSync.
// Lines starting with "MOCK " report what the wrapper did to the mocks.

const fs = require('fs');
const path = require('path');
const mr = require('azure-pipelines-task-lib/mock-run');

const scenario = JSON.parse(process.env.MAESTRO_TEST_SCENARIO);
const taskRoot = path.join(__dirname, '..');
const binary = path.join(taskRoot, 'bin', `${process.platform}-${process.arch}`,
  process.platform === 'win32' ? 'maestro.exe' : 'maestro');

for (const [name, value] of Object.entries(scenario.env || {})) {
  process.env[name] = value;
}
// The agent names endpoint variables by the connection's id as the input holds it (a GUID), or
// SYSTEMVSSCONNECTION for the job's own connection; data keys are upper-cased.
for (const [id, endpoint] of Object.entries(scenario.endpoints || {})) {
  process.env[`ENDPOINT_AUTH_${id}`] = JSON.stringify(endpoint.auth);
  for (const [name, value] of Object.entries(endpoint.data || {})) {
    process.env[`ENDPOINT_DATA_${id}_${name.toUpperCase()}`] = value;
  }
}

const tmr = new mr.TaskMockRunner(path.join(taskRoot, 'index.js'));
for (const [name, value] of Object.entries(scenario.inputs || {})) {
  tmr.setInput(name, value);
}

const exec = {};
for (const [cmdline, answer] of Object.entries(scenario.exec || {})) {
  exec[cmdline.replace('{bin}', binary)] = answer;
}
tmr.setAnswers({ exec });

const resultFile = scenario.env && scenario.env.AGENT_TEMPDIRECTORY
  ? path.join(scenario.env.AGENT_TEMPDIRECTORY, 'maestro-publish-result.json') : '';
const fsMock = Object.assign({}, fs, {
  existsSync: (p) => (p === binary ? scenario.binaryPresent !== false : fs.existsSync(p)),
  chmodSync: (p, mode) => {
    if (p !== binary) {
      return fs.chmodSync(p, mode);
    }
    console.log(`MOCK chmod ${mode.toString(8)} ${p}`);
  },
  readFileSync: (p, ...rest) => {
    if (p === resultFile && scenario.result !== undefined) {
      return scenario.result;
    }
    return fs.readFileSync(p, ...rest);
  },
});
tmr.registerMock('fs', fsMock);

// Report the environment and working directory the wrapper hands the binary. mock-task loads
// task-lib, which moves INPUT_*, ENDPOINT_AUTH_* and SECRET_* into its vault: require it last.
const tool = require('azure-pipelines-task-lib/mock-task').tool;
tmr.registerMockExport('tool', (toolPath) => {
  const runner = tool(toolPath);
  const execAsync = runner.execAsync.bind(runner);
  runner.execAsync = (options) => {
    const env = options.env || {};
    const shown = {};
    for (const name of scenario.showEnv || []) {
      shown[name] = env[name] === undefined ? null : env[name];
    }
    const leaked = Object.keys(env).filter((k) => /^(INPUT|ENDPOINT_AUTH|SECRET)_/.test(k));
    console.log(`MOCK exec ${JSON.stringify({ cwd: options.cwd, env: shown, leaked })}`);
    return execAsync(options);
  };
  return runner;
});

tmr.run();
