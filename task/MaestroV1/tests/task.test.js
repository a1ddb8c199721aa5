'use strict';
// End-to-end tests of the wrapper under task-lib's MockTestRunner: inputs in, exact maestro
// command lines, environment, masking, result and output variables out.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { MockTestRunner } = require('azure-pipelines-task-lib/mock-test');

const taskRoot = path.join(__dirname, '..');
const binary = path.join(taskRoot, 'bin', `${process.platform}-${process.arch}`,
  process.platform === 'win32' ? 'maestro.exe' : 'maestro');

const CONNECTION_STRING = 'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=c2VjcmV0LWtleQ==';
const JOB_TOKEN = 'job-access-token-0123456789';
const SP_KEY = 'sp-secret-value-9876';
const GITHUB_TOKEN = 'ghp_examplegithubtoken42';

// workspace makes an agent temp directory and a sources directory for one scenario.
function workspace(t, files = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'maestro-task-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const temp = path.join(root, 'temp');
  const sources = path.join(root, 's');
  fs.mkdirSync(temp);
  fs.mkdirSync(sources);
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(sources, name)), { recursive: true });
    fs.writeFileSync(path.join(sources, name), content);
  }
  return { temp, sources };
}

async function run(ws, scenario) {
  const full = Object.assign({}, scenario, {
    env: Object.assign({
      AGENT_TEMPDIRECTORY: ws.temp,
      SYSTEM_DEFAULTWORKINGDIRECTORY: ws.sources,
      BUILD_BUILDID: '4711',
      BUILD_SOURCEBRANCH: 'refs/heads/main',
    }, scenario.env),
    endpoints: Object.assign({
      SYSTEMVSSCONNECTION: { auth: { scheme: 'OAuth', parameters: { AccessToken: JOB_TOKEN } } },
    }, scenario.endpoints),
  });
  process.env.MAESTRO_TEST_SCENARIO = JSON.stringify(full);
  try {
    const tr = new MockTestRunner(path.join(__dirname, 'mockrun.js'), path.join(taskRoot, 'task.json'));
    tr.nodePath = process.execPath;
    await tr.runAsync();
    return tr;
  } finally {
    delete process.env.MAESTRO_TEST_SCENARIO;
  }
}

function lines(tr) {
  return tr.stdout.split(/\r?\n/);
}

function mockExecs(tr) {
  return lines(tr).filter((l) => l.startsWith('MOCK exec ')).map((l) => JSON.parse(l.slice('MOCK exec '.length)));
}

function explain(tr) {
  return `stdout:\n${tr.stdout}\nstderr:\n${tr.stderr}`;
}

// assertMaskedFirst checks that the first line mentioning the secret is its setsecret command,
// and that it precedes the binary's command line. With debugToo false, task-lib's own
// ##vso[task.debug] echo of input values is left out: the agent masks secret variables itself.
function assertMaskedFirst(tr, secret, debugToo) {
  const all = lines(tr);
  const relevant = all.filter((l) => debugToo || !l.startsWith('##vso[task.debug]'));
  const first = relevant.findIndex((l) => l.includes(secret));
  assert.notEqual(first, -1, `secret never masked\n${explain(tr)}`);
  assert.equal(relevant[first], `##vso[task.setsecret]${secret}`, explain(tr));
  const setsecret = all.indexOf(`##vso[task.setsecret]${secret}`);
  const command = all.findIndex((l) => l.startsWith('[command]'));
  if (command !== -1) {
    assert.ok(setsecret < command, `setsecret after the command line\n${explain(tr)}`);
  }
}

const PUBLISH_RECORD = JSON.stringify({ id: 42, channels: [{ id: 1, name: '.NET 10' }, { id: 7, name: '.NET Eng - Latest' }] });

function connectionStringInputs(extra) {
  return Object.assign({
    command: 'publish',
    storeType: 'connectionString',
    storeConnectionString: CONNECTION_STRING,
    storageContainer: 'bar',
  }, extra);
}

test('publish maps inputs to the exact command line and sets the output variables', async (t) => {
  const ws = workspace(t, { 'eng/Version.Details.xml': '<Dependencies />' });
  const resultFile = path.join(ws.temp, 'maestro-publish-result.json');
  const details = path.join(ws.sources, 'eng', 'Version.Details.xml');
  const cmd = `{bin} publish --manifest /a/AssetManifests/*.xml --manifest /b/extra.xml --channel .NET 10 --channel Eng --version-details ${details} --result-file ${resultFile}`;
  const tr = await run(ws, {
    inputs: connectionStringInputs({
      manifests: '/a/AssetManifests/*.xml\n/b/extra.xml\n',
      channels: '.NET 10, Eng\n.NET 10',
      versionDetails: 'eng/Version.Details.xml',
      uploadAssets: 'false',
    }),
    exec: { [cmd]: { code: 0, stdout: '42' } },
    result: PUBLISH_RECORD,
    showEnv: ['MAESTRO_STORE', 'AZURE_STORAGE_CONNECTION_STRING', 'SYSTEM_ACCESSTOKEN', 'TF_BUILD', 'BUILD_BUILDID', 'BUILD_SOURCEBRANCH', 'AZURE_CLIENT_SECRET'],
  });
  assert.ok(tr.succeeded, explain(tr));
  assert.equal(tr.invokedToolCount, 1);
  assert.ok(tr.ran(cmd.replace('{bin}', binary)), explain(tr));
  const out = lines(tr);
  for (const v of [
    '##vso[task.setvariable variable=MaestroBuildId;isOutput=false;issecret=false;]42',
    '##vso[task.setvariable variable=MaestroBuildId;isOutput=true;issecret=false;]42',
    '##vso[task.setvariable variable=MaestroChannels;isOutput=false;issecret=false;].NET 10,.NET Eng - Latest',
    '##vso[task.setvariable variable=MaestroChannels;isOutput=true;issecret=false;].NET 10,.NET Eng - Latest',
  ]) {
    assert.ok(out.includes(v), `missing ${v}\n${explain(tr)}`);
  }
  const [execution] = mockExecs(tr);
  assert.deepEqual(execution, {
    cwd: ws.sources,
    env: {
      MAESTRO_STORE: 'azblob://bar',
      AZURE_STORAGE_CONNECTION_STRING: CONNECTION_STRING,
      SYSTEM_ACCESSTOKEN: JOB_TOKEN,
      TF_BUILD: 'True',
      BUILD_BUILDID: '4711',
      BUILD_SOURCEBRANCH: 'refs/heads/main',
      AZURE_CLIENT_SECRET: null,
    },
    leaked: [],
  });
  assert.ok(out.includes(`MOCK chmod 755 ${binary}`), explain(tr));
  assert.ok(!fs.existsSync(resultFile), 'result file left behind');
});

test('secrets are masked before any other output', async (t) => {
  const ws = workspace(t);
  const tr = await run(ws, {
    inputs: connectionStringInputs({ manifests: 'm.xml', gitHubToken: GITHUB_TOKEN }),
    exec: { [`{bin} publish --manifest m.xml --result-file ${path.join(ws.temp, 'maestro-publish-result.json')}`]: { code: 0, stdout: `token ${JOB_TOKEN} would be masked` } },
    result: PUBLISH_RECORD,
    showEnv: ['GITHUB_TOKEN'],
  });
  assert.ok(tr.succeeded, explain(tr));
  assertMaskedFirst(tr, JOB_TOKEN, true);
  assertMaskedFirst(tr, CONNECTION_STRING, false);
  // The account key alone, for messages that quote it without the rest of the string.
  const keySecret = lines(tr).indexOf('##vso[task.setsecret]c2VjcmV0LWtleQ==');
  assert.ok(keySecret !== -1 && keySecret < lines(tr).findIndex((l) => l.startsWith('[command]')), explain(tr));
  assertMaskedFirst(tr, GITHUB_TOKEN, false);
  assert.equal(mockExecs(tr)[0].env.GITHUB_TOKEN, GITHUB_TOKEN);
});

test('an Azure Resource Manager connection becomes the service principal environment', async (t) => {
  const ws = workspace(t);
  const tr = await run(ws, {
    inputs: {
      command: 'publish',
      storeType: 'azureResourceManager',
      store: 'arm-endpoint-id',
      storageAccount: 'contosobar',
      storageContainer: 'maestro',
      manifests: 'm.xml',
      azureDevOpsToken: 'pat-from-secret-variable',
    },
    endpoints: {
      'arm-endpoint-id': {
        auth: { scheme: 'ServicePrincipal', parameters: { serviceprincipalid: 'client-id', serviceprincipalkey: SP_KEY, tenantid: 'tenant-id', authenticationType: 'spnKey' } },
        data: { environment: 'AzureUSGovernment' },
      },
    },
    exec: { [`{bin} publish --manifest m.xml --result-file ${path.join(ws.temp, 'maestro-publish-result.json')}`]: { code: 0 } },
    result: PUBLISH_RECORD,
    showEnv: ['MAESTRO_STORE', 'AZURE_STORAGE_ACCOUNT_URL', 'AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'SYSTEM_ACCESSTOKEN', 'AZURE_STORAGE_CONNECTION_STRING'],
  });
  assert.ok(tr.succeeded, explain(tr));
  assertMaskedFirst(tr, SP_KEY, true);
  assertMaskedFirst(tr, 'pat-from-secret-variable', false);
  assert.deepEqual(mockExecs(tr)[0].env, {
    MAESTRO_STORE: 'azblob://maestro',
    AZURE_STORAGE_ACCOUNT_URL: 'https://contosobar.blob.core.usgovcloudapi.net',
    AZURE_TENANT_ID: 'tenant-id',
    AZURE_CLIENT_ID: 'client-id',
    AZURE_CLIENT_SECRET: SP_KEY,
    SYSTEM_ACCESSTOKEN: 'pat-from-secret-variable',
    AZURE_STORAGE_CONNECTION_STRING: null,
  });
});

test('a failing binary fails the task with its last error issue, reported once', async (t) => {
  const ws = workspace(t);
  const stdout = [
    '##vso[task.setprogress value=10;]Reading manifests',
    '##vso[task.logissue type=error;]first problem',
    '##vso[task.logissue type=error;]manifest m.xml line 3: Package has no Version',
  ].join(os.EOL);
  const tr = await run(ws, {
    inputs: connectionStringInputs({ manifests: 'm.xml' }),
    exec: { [`{bin} publish --manifest m.xml --result-file ${path.join(ws.temp, 'maestro-publish-result.json')}`]: { code: 1, stdout, stderr: 'Error: manifest m.xml line 3: Package has no Version' } },
  });
  assert.ok(tr.failed, explain(tr));
  const out = lines(tr);
  assert.ok(out.includes('##vso[task.complete result=Failed;]manifest m.xml line 3: Package has no Version'), explain(tr));
  const issues = out.filter((l) => /^##vso\[task\.(log)?issue type=error/.test(l) && l.includes('Package has no Version'));
  assert.equal(issues.length, 1, `error reported ${issues.length} times\n${explain(tr)}`);
  assert.ok(!out.some((l) => l.startsWith('##vso[task.setvariable')), explain(tr));
});

test('mirror runs maestro mirror run with the source, branch, target and mode, the tokens in the environment only', async (t) => {
  const ws = workspace(t);
  const cmd = '{bin} mirror run --source https://github.com/dotnet/runtime --branch release/9.0 --target https://dev.azure.com/dnceng/internal/_git/dotnet-runtime --mode internalMerge';
  const tr = await run(ws, {
    inputs: connectionStringInputs({
      command: 'mirror',
      mirrorSource: ' https://github.com/dotnet/runtime ',
      mirrorBranch: 'release/9.0',
      mirrorTarget: 'https://dev.azure.com/dnceng/internal/_git/dotnet-runtime',
      mirrorMode: 'internalMerge',
      gitHubToken: GITHUB_TOKEN,
    }),
    exec: { [cmd]: { code: 0, stdout: 'merged internal/release/9.0 of https://dev.azure.com/dnceng/internal/_git/dotnet-runtime: 1 commit' } },
    showEnv: ['MAESTRO_STORE', 'SYSTEM_ACCESSTOKEN', 'GITHUB_TOKEN', 'TF_BUILD'],
  });
  assert.ok(tr.succeeded, explain(tr));
  assert.equal(tr.invokedToolCount, 1);
  assert.ok(tr.ran(cmd.replace('{bin}', binary)), explain(tr));
  assertMaskedFirst(tr, JOB_TOKEN, false);
  assertMaskedFirst(tr, GITHUB_TOKEN, false);
  const command = lines(tr).find((l) => l.startsWith('[command]'));
  assert.ok(!command.includes(JOB_TOKEN) && !command.includes(GITHUB_TOKEN), `a token on the command line\n${explain(tr)}`);
  assert.ok(!lines(tr).some((l) => l.startsWith('##vso[task.setvariable')), explain(tr));
});

test('mirror defaults to fastForward, and a refusal fails the task with the binary\'s message', async (t) => {
  const ws = workspace(t);
  const stdout = '##vso[task.logissue type=error;]fastForward refused: main of https://dev.azure.com/o/p/_git/r (0123456789ab) has 1 commit that main of https://github.com/o/r (ba9876543210) does not; nothing was pushed.%0A0123456789ab hotfix';
  const tr = await run(ws, {
    inputs: connectionStringInputs({ command: 'mirror', mirrorSource: 'https://github.com/o/r', mirrorBranch: 'main', mirrorTarget: 'https://dev.azure.com/o/p/_git/r' }),
    exec: { '{bin} mirror run --source https://github.com/o/r --branch main --target https://dev.azure.com/o/p/_git/r --mode fastForward': { code: 4, stdout } },
  });
  assert.ok(tr.failed, explain(tr));
  assert.equal(tr.invokedToolCount, 1, explain(tr));
  assert.ok(lines(tr).some((l) => l.startsWith('##vso[task.complete result=Failed;]fastForward refused: main of https://dev.azure.com/o/p/_git/r')), explain(tr));
});

test('a crashing binary fails the task with its last stderr line', async (t) => {
  const ws = workspace(t);
  const tr = await run(ws, {
    inputs: connectionStringInputs({ command: 'flow-tick' }),
    exec: { '{bin} flow tick': { code: 2, stderr: `panic: boom${os.EOL}goroutine 1 [running]` } },
  });
  assert.ok(tr.failed, explain(tr));
  assert.ok(tr.createdErrorIssue('goroutine 1 [running]'), explain(tr));
});

test('a binary exiting non-zero without output fails with its exit code', async (t) => {
  const ws = workspace(t);
  const tr = await run(ws, {
    inputs: connectionStringInputs({ command: 'flow-tick' }),
    exec: { '{bin} flow tick': { code: 3 } },
  });
  assert.ok(tr.failed);
  assert.ok(tr.createdErrorIssue('maestro exited with code 3'), explain(tr));
});

test('publish without a result file fails clearly', async (t) => {
  const ws = workspace(t);
  const resultFile = path.join(ws.temp, 'maestro-publish-result.json');
  const tr = await run(ws, {
    inputs: connectionStringInputs({ manifests: 'm.xml' }),
    exec: { [`{bin} publish --manifest m.xml --result-file ${resultFile}`]: { code: 0 } },
  });
  assert.ok(tr.failed);
  assert.ok(tr.errorIssues.some((m) => m.startsWith(`read the build record maestro publish wrote to ${resultFile}:`)), explain(tr));
});

const failures = [
  ['no command', { storeType: 'url', storeUrl: 'file:///bar' }, 'Input required: command'],
  ['no store authentication', { command: 'flow-tick' }, 'Input required: storeType'],
  ['connection string missing', { command: 'flow-tick', storeType: 'connectionString', storageContainer: 'bar' }, 'Input required: storeConnectionString'],
  ['connection string variable missing', { command: 'flow-tick', storeType: 'connectionString', storeConnectionString: '$(MaestroStoreConnectionString)', storageContainer: 'bar' }, "storeConnectionString: '$(MaestroStoreConnectionString)' was not expanded; define the variable MaestroStoreConnectionString (for the Maestro++ pipelines: in the Maestro variable group)"],
  ['container variable missing', { command: 'flow-tick', storeType: 'connectionString', storeConnectionString: CONNECTION_STRING, storageContainer: '$(MaestroStorageContainer)' }, "storageContainer: '$(MaestroStorageContainer)' was not expanded; define the variable MaestroStorageContainer (for the Maestro++ pipelines: in the Maestro variable group)"],
  ['store url missing', { command: 'flow-tick', storeType: 'url' }, 'Input required: storeUrl'],
  ['unknown store type', { command: 'flow-tick', storeType: 'ftp' }, "storeType: unknown value 'ftp'; use azureResourceManager, connectionString or url"],
  ['bad container', { command: 'flow-tick', storeType: 'connectionString', storeConnectionString: CONNECTION_STRING, storageContainer: 'Bad_Name' }, "storageContainer: 'Bad_Name' is not a valid container name (3-63 lowercase letters, digits and single hyphens)"],
  ['no manifests', { command: 'publish', storeType: 'url', storeUrl: 'file:///bar', manifests: ' \n ' }, "manifests: required for command 'publish'; give the asset manifest files or globs, one per line"],
  ['unknown command', { command: 'deploy', storeType: 'url', storeUrl: 'file:///bar' }, "command: unknown value 'deploy'; use one of publish, add-build-to-channel, trigger-subscription, apply-subscription, flow-tick, mirror"],
  ['mirror without a source', { command: 'mirror', storeType: 'url', storeUrl: 'file:///bar', mirrorBranch: 'main', mirrorTarget: 'https://dev.azure.com/o/p/_git/r' }, "mirrorSource: required for command 'mirror'"],
  ['mirror without a target', { command: 'mirror', storeType: 'url', storeUrl: 'file:///bar', mirrorSource: 'https://github.com/o/r', mirrorBranch: 'main' }, "mirrorTarget: required for command 'mirror'"],
  ['mirror with an unknown mode', { command: 'mirror', storeType: 'url', storeUrl: 'file:///bar', mirrorSource: 'https://github.com/o/r', mirrorBranch: 'main', mirrorTarget: 'https://dev.azure.com/o/p/_git/r', mirrorMode: 'force' }, "mirrorMode: unknown value 'force'; use fastForward or internalMerge"],
  ['subscription id missing', { command: 'trigger-subscription', storeType: 'url', storeUrl: 'file:///bar' }, "subscriptionId: required for command 'trigger-subscription'"],
  ['apply without build', { command: 'apply-subscription', storeType: 'url', storeUrl: 'file:///bar', subscriptionId: 'abc' }, "buildId: required for command 'apply-subscription'"],
  ['unexpanded build variable', { command: 'add-build-to-channel', storeType: 'url', storeUrl: 'file:///bar', buildId: '$(MaestroBuildId)', channels: 'x' }, "buildId: '$(MaestroBuildId)' was not expanded; no earlier step in this job set that variable. Give the BAR build id"],
  ['build id not a number', { command: 'trigger-subscription', storeType: 'url', storeUrl: 'file:///bar', subscriptionId: 'abc', buildId: '12a' }, "buildId: '12a' is not a BAR build id (a positive integer)"],
  ['no channel to add', { command: 'add-build-to-channel', storeType: 'url', storeUrl: 'file:///bar', buildId: '5' }, "channels: required for command 'add-build-to-channel'"],
  ['version details elsewhere missing', { command: 'publish', storeType: 'url', storeUrl: 'file:///bar', manifests: 'm.xml', versionDetails: 'src/eng/Version.Details.xml' }, 'versionDetails: {sources}/src/eng/Version.Details.xml does not exist'],
  ['explicit version details missing', { command: 'publish', storeType: 'url', storeUrl: 'file:///bar', manifests: 'm.xml', versionDetails: 'other/Version.Details.xml' }, 'versionDetails: {sources}/other/Version.Details.xml does not exist'],
  ['upload without directory', { command: 'publish', storeType: 'url', storeUrl: 'file:///bar', manifests: 'm.xml', uploadAssets: 'true', assetsDirectory: 'nope' }, 'assetsDirectory: {sources}/nope is not a directory'],
  ['bad storage account', { command: 'flow-tick', storeType: 'azureResourceManager', store: 'arm', storageAccount: 'Not An Account', storageContainer: 'bar' }, "storageAccount: 'Not An Account' is neither a storage account name (3-24 lowercase letters and digits) nor a blob endpoint URL"],
  ['workload identity connection', { command: 'flow-tick', storeType: 'azureResourceManager', store: 'wif', storageAccount: 'acct', storageContainer: 'bar' }, "store: service connection 'wif' uses the WorkloadIdentityFederation scheme; the task supports service principals with a secret. Use a service principal connection or storeType: connectionString"],
  ['certificate connection', { command: 'flow-tick', storeType: 'azureResourceManager', store: 'cert', storageAccount: 'acct', storageContainer: 'bar' }, "store: service connection 'cert' authenticates with a certificate; the task supports a service principal secret"],
  ['unknown connection', { command: 'flow-tick', storeType: 'azureResourceManager', store: 'missing', storageAccount: 'acct', storageContainer: 'bar' }, "store: service connection 'missing' has no authorization; check that the pipeline is permitted to use it"],
];

for (const [name, inputs, message] of failures) {
  test(`fails clearly: ${name}`, async (t) => {
    const ws = workspace(t);
    const tr = await run(ws, {
      inputs,
      endpoints: {
        arm: { auth: { scheme: 'ServicePrincipal', parameters: { serviceprincipalid: 'c', serviceprincipalkey: 'k', tenantid: 't' } } },
        wif: { auth: { scheme: 'WorkloadIdentityFederation', parameters: { serviceprincipalid: 'c', tenantid: 't' } } },
        cert: { auth: { scheme: 'ServicePrincipal', parameters: { serviceprincipalid: 'c', serviceprincipalkey: 'k', tenantid: 't', authenticationType: 'spnCertificate' } } },
      },
    });
    assert.ok(tr.failed, explain(tr));
    assert.equal(tr.invokedToolCount, 0, explain(tr));
    assert.deepEqual(tr.errorIssues, [message.replace('{sources}', ws.sources)], explain(tr));
  });
}

test('the bundled binary missing fails clearly', async (t) => {
  const ws = workspace(t);
  const tr = await run(ws, {
    inputs: { command: 'flow-tick', storeType: 'url', storeUrl: 'file:///bar' },
    binaryPresent: false,
  });
  assert.ok(tr.failed);
  assert.deepEqual(tr.errorIssues, [`the bundled binary ${binary} is missing: reinstall the extension or rebuild the task with scripts/build-vsix.sh`]);
});

test('a token whose variable does not exist is left out with a warning', async (t) => {
  const ws = workspace(t);
  const tr = await run(ws, {
    inputs: { command: 'flow-tick', storeType: 'url', storeUrl: 'file:///bar', gitHubToken: '$(MaestroGitHubToken)' },
    exec: { '{bin} flow tick': { code: 0 } },
    showEnv: ['GITHUB_TOKEN', 'SYSTEM_ACCESSTOKEN'],
  });
  assert.ok(tr.succeeded, explain(tr));
  assert.ok(tr.createdWarningIssue("gitHubToken: '$(MaestroGitHubToken)' was not expanded; running without it"), explain(tr));
  assert.deepEqual(mockExecs(tr)[0].env, { GITHUB_TOKEN: null, SYSTEM_ACCESSTOKEN: JOB_TOKEN });
});

test('the default Version.Details.xml is skipped when the repository has none', async (t) => {
  const ws = workspace(t);
  const cmd = `{bin} publish --manifest m.xml --result-file ${path.join(ws.temp, 'maestro-publish-result.json')}`;
  const tr = await run(ws, {
    inputs: { command: 'publish', storeType: 'url', storeUrl: 'file:///bar', manifests: 'm.xml', versionDetails: 'eng/Version.Details.xml' },
    exec: { [cmd]: { code: 0 } },
    result: PUBLISH_RECORD,
  });
  assert.ok(tr.succeeded, explain(tr));
  assert.ok(tr.ran(cmd.replace('{bin}', binary)), explain(tr));
});

test('the sources directory given for an empty filePath input counts as no Version.Details.xml', async (t) => {
  const ws = workspace(t);
  const cmd = `{bin} publish --manifest m.xml --result-file ${path.join(ws.temp, 'maestro-publish-result.json')}`;
  const tr = await run(ws, {
    inputs: { command: 'publish', storeType: 'url', storeUrl: 'file:///bar', manifests: 'm.xml', versionDetails: ws.sources },
    exec: { [cmd]: { code: 0 } },
    result: PUBLISH_RECORD,
  });
  assert.ok(tr.succeeded, explain(tr));
});

test('uploadAssets passes the assets directory', async (t) => {
  const ws = workspace(t, { 'out/packages/a.nupkg': 'x' });
  const dir = path.join(ws.sources, 'out');
  const cmd = `{bin} publish --manifest m.xml --upload ${dir} --result-file ${path.join(ws.temp, 'maestro-publish-result.json')} --no-trigger`;
  const tr = await run(ws, {
    inputs: { command: 'publish', storeType: 'url', storeUrl: 'file:///bar', manifests: 'm.xml', uploadAssets: 'true', assetsDirectory: 'out', extraArguments: '--no-trigger' },
    exec: { [cmd]: { code: 0 } },
    result: PUBLISH_RECORD,
    showEnv: ['MAESTRO_STORE'],
  });
  assert.ok(tr.succeeded, explain(tr));
  assert.ok(tr.ran(cmd.replace('{bin}', binary)), explain(tr));
  assert.equal(mockExecs(tr)[0].env.MAESTRO_STORE, 'file:///bar');
});

test('add-build-to-channel runs once per channel with the build from the publish step', async (t) => {
  const ws = workspace(t);
  const first = '{bin} build add-to-channel --id 42 --channel .NET 10';
  const second = '{bin} build add-to-channel --id 42 --channel .NET Eng - Latest';
  const tr = await run(ws, {
    inputs: { command: 'add-build-to-channel', storeType: 'url', storeUrl: 'file:///bar', channels: '.NET 10\n.NET Eng - Latest' },
    env: { MAESTROBUILDID: '42' },
    exec: { [first]: { code: 0 }, [second]: { code: 0 } },
  });
  assert.ok(tr.succeeded, explain(tr));
  assert.equal(tr.invokedToolCount, 2);
  assert.ok(tr.ran(first.replace('{bin}', binary)) && tr.ran(second.replace('{bin}', binary)), explain(tr));
});

test('add-build-to-channel stops at the first failing channel', async (t) => {
  const ws = workspace(t);
  const tr = await run(ws, {
    inputs: { command: 'add-build-to-channel', storeType: 'url', storeUrl: 'file:///bar', buildId: '7', channels: 'missing, other' },
    exec: { '{bin} build add-to-channel --id 7 --channel missing': { code: 1, stdout: "##vso[task.logissue type=error;]channel 'missing' does not exist" } },
  });
  assert.ok(tr.failed);
  assert.equal(tr.invokedToolCount, 1);
  assert.ok(tr.stdout.includes("##vso[task.complete result=Failed;]channel 'missing' does not exist"), explain(tr));
});

const commands = [
  ['trigger-subscription with a build', { command: 'trigger-subscription', subscriptionId: '6f1c-sub', buildId: '12' }, '{bin} subscription trigger --id 6f1c-sub --build 12'],
  ['trigger-subscription on the latest build', { command: 'trigger-subscription', subscriptionId: '6f1c-sub' }, '{bin} subscription trigger --id 6f1c-sub'],
  ['apply-subscription', { command: 'apply-subscription', subscriptionId: '6f1c-sub', buildId: '12' }, '{bin} subscription apply --id 6f1c-sub --build 12'],
  ['flow-tick', { command: 'flow-tick' }, '{bin} flow tick'],
  ['flow-tick with extra arguments', { command: 'flow-tick', extraArguments: '--now "2026-12-04T13:00:00Z"' }, '{bin} flow tick --now 2026-12-04T13:00:00Z'],
];

for (const [name, inputs, cmd] of commands) {
  test(`maps ${name}`, async (t) => {
    const ws = workspace(t);
    const tr = await run(ws, {
      inputs: Object.assign({ storeType: 'url', storeUrl: 'file:///bar' }, inputs),
      exec: { [cmd]: { code: 0 } },
    });
    assert.ok(tr.succeeded, explain(tr));
    assert.equal(tr.invokedToolCount, 1);
    assert.ok(tr.ran(cmd.replace('{bin}', binary)), explain(tr));
    assert.ok(!tr.stdout.includes('task.setvariable variable=MaestroBuildId'), explain(tr));
  });
}

const speculative = [
  ['an explicit pull request', { pullRequest: 'https://github.com/dotnet/arcade/pull/12' }, {}, ' --speculative --pull-request https://github.com/dotnet/arcade/pull/12'],
  ['a GitHub pull request build', {}, { BUILD_REPOSITORY_URI: 'https://github.com/dotnet/arcade.git', BUILD_REPOSITORY_PROVIDER: 'GitHub', SYSTEM_PULLREQUEST_PULLREQUESTNUMBER: '5' }, ' --speculative --pull-request https://github.com/dotnet/arcade/pull/5'],
  ['an Azure Repos pull request build', {}, { BUILD_REPOSITORY_URI: 'https://dev.azure.com/dnceng/internal/_git/dotnet-arcade', BUILD_REPOSITORY_PROVIDER: 'TfsGit', SYSTEM_PULLREQUEST_PULLREQUESTID: '77' }, ' --speculative --pull-request https://dev.azure.com/dnceng/internal/_git/dotnet-arcade/pullrequest/77'],
  // Azure Repos gives the repository URI with the organization as user name (its clone URL).
  ['an Azure Repos pull request build, the URI with a user name', {}, { BUILD_REPOSITORY_URI: 'https://dnceng@dev.azure.com/dnceng/internal/_git/dotnet-arcade', BUILD_REPOSITORY_PROVIDER: 'TfsGit', SYSTEM_PULLREQUEST_PULLREQUESTID: '78' }, ' --speculative --pull-request https://dev.azure.com/dnceng/internal/_git/dotnet-arcade/pullrequest/78'],
  ['a branch build', {}, { BUILD_REPOSITORY_URI: 'https://github.com/dotnet/arcade', BUILD_REPOSITORY_PROVIDER: 'GitHub' }, ' --speculative'],
];

for (const [name, inputs, env, flags] of speculative) {
  test(`speculative publish: ${name}`, async (t) => {
    const ws = workspace(t);
    const cmd = `{bin} publish --manifest m.xml${flags} --result-file ${path.join(ws.temp, 'maestro-publish-result.json')}`;
    const tr = await run(ws, {
      inputs: Object.assign({ command: 'publish', storeType: 'url', storeUrl: 'file:///bar', manifests: 'm.xml', speculative: 'true' }, inputs),
      env,
      exec: { [cmd]: { code: 0 } },
      result: JSON.stringify({ id: 1000000000, speculative: true, channels: [{ id: 1000000001, name: '.NET 10 (speculative)' }] }),
    });
    assert.ok(tr.succeeded, explain(tr));
    assert.ok(tr.ran(cmd.replace('{bin}', binary)), explain(tr));
    assert.ok(lines(tr).includes('##vso[task.setvariable variable=MaestroChannels;isOutput=false;issecret=false;].NET 10 (speculative)'), explain(tr));
  });
}

test('a pull request input without speculative is not passed', async (t) => {
  const ws = workspace(t);
  const cmd = `{bin} publish --manifest m.xml --result-file ${path.join(ws.temp, 'maestro-publish-result.json')}`;
  const tr = await run(ws, {
    inputs: { command: 'publish', storeType: 'url', storeUrl: 'file:///bar', manifests: 'm.xml', pullRequest: 'https://github.com/dotnet/arcade/pull/12' },
    env: { BUILD_REPOSITORY_URI: 'https://github.com/dotnet/arcade', BUILD_REPOSITORY_PROVIDER: 'GitHub', SYSTEM_PULLREQUEST_PULLREQUESTNUMBER: '5' },
    exec: { [cmd]: { code: 0 } },
    result: PUBLISH_RECORD,
  });
  assert.ok(tr.succeeded, explain(tr));
  assert.ok(tr.ran(cmd.replace('{bin}', binary)), explain(tr));
});
