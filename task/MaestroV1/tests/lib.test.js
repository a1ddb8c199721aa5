'use strict';
// Unit tests of the wrapper's pure helpers.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { binaryPath } = require('../lib/binary');
const { FailureWatcher } = require('../lib/output');
const { accountUrl, list, connectionStringSecrets, secretValues } = require('../lib/invocation');

test('binaryPath picks the bundled binary for each agent platform', () => {
  const cases = [
    ['linux', 'x64', 'bin/linux-x64/maestro'],
    ['linux', 'arm64', 'bin/linux-arm64/maestro'],
    ['win32', 'x64', 'bin/win32-x64/maestro.exe'],
    ['darwin', 'x64', 'bin/darwin-x64/maestro'],
    ['darwin', 'arm64', 'bin/darwin-arm64/maestro'],
  ];
  for (const [platform, arch, want] of cases) {
    assert.equal(binaryPath('/task', platform, arch), path.join('/task', want), `${platform}-${arch}`);
  }
});

test('binaryPath names the bundled platforms when the agent has none of them', () => {
  assert.throws(() => binaryPath('/task', 'win32', 'arm64'), {
    message: 'this agent runs on win32-arm64, for which the task bundles no maestro binary (bundled: linux-x64, linux-arm64, win32-x64, darwin-x64, darwin-arm64)',
  });
});

test('FailureWatcher reports the last error issue, else the last stderr line', () => {
  const cases = [
    { name: 'error issue wins over stderr', out: ['##vso[task.logissue type=error;]first', '##vso[task.logissue type=error;]second'], err: ['stderr line'], want: 'second', reported: true },
    { name: 'task.issue form', out: ['##vso[task.issue type=error;source=CustomerScript;]a%0Ab'], err: [], want: 'a\nb', reported: true },
    { name: 'warnings do not count', out: ['##vso[task.logissue type=warning;]careful'], err: ['Error: real reason', ''], want: 'Error: real reason', reported: false },
    { name: 'issue on stderr', out: [], err: ['##vso[task.logissue type=error]on stderr'], want: 'on stderr', reported: true },
    { name: 'malformed command is plain output', out: ['##vso[task.logissue type]x'], err: [], want: 'maestro exited with code 4', reported: false },
    { name: 'nothing at all', out: ['progress'], err: [], want: 'maestro exited with code 4', reported: false },
  ];
  for (const c of cases) {
    const w = new FailureWatcher();
    c.out.forEach((l) => w.stdout(l));
    c.err.forEach((l) => w.stderr(l));
    assert.equal(w.message(4), c.want, c.name);
    assert.equal(w.reported, c.reported, c.name);
  }
});

test('accountUrl turns an account name into the blob endpoint of its cloud', () => {
  assert.equal(accountUrl('contoso', 'AzureCloud'), 'https://contoso.blob.core.windows.net');
  assert.equal(accountUrl('contoso', 'AzureChinaCloud'), 'https://contoso.blob.core.chinacloudapi.cn');
  assert.equal(accountUrl(' https://contoso.blob.core.windows.net/ ', 'AzureCloud'), 'https://contoso.blob.core.windows.net');
  assert.equal(accountUrl('http://127.0.0.1:10000/devstoreaccount1', 'AzureStack'), 'http://127.0.0.1:10000/devstoreaccount1');
  assert.throws(() => accountUrl('contoso', 'AzureStack'), /cloud 'AzureStack' is not one the task knows/);
  assert.throws(() => accountUrl('UPPER', 'AzureCloud'), /neither a storage account name/);
});

test('list splits on commas and new lines, trims and drops duplicates', () => {
  assert.deepEqual(list(' a, b\r\n\nc ,a '), ['a', 'b', 'c']);
  assert.deepEqual(list(undefined), []);
  assert.deepEqual(list('.NET 10'), ['.NET 10']);
});

test('connectionStringSecrets finds the account key and the SAS signature', () => {
  const cases = [
    ['DefaultEndpointsProtocol=https;AccountName=a;AccountKey=KEY+/==;EndpointSuffix=core.windows.net', ['KEY+/==']],
    ['BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature=sv=2021-08-06&sp=rwdl&sig=ab%2Bc%3D',
      ['sv=2021-08-06&sp=rwdl&sig=ab%2Bc%3D', 'ab%2Bc%3D', 'ab+c=']],
    ['BlobEndpoint=https://a/;SharedAccessSignature=?sig=plain', ['?sig=plain', 'plain']],
    ['BlobEndpoint=https://a/;SharedAccessSignature=sig=bad%zz', ['sig=bad%zz', 'bad%zz']],
    ['UseDevelopmentStorage=true', []],
  ];
  for (const [cs, want] of cases) {
    assert.deepEqual(connectionStringSecrets(cs), want, cs);
  }
});

test('secretValues registers the parts of a connection string besides the whole', () => {
  const cs = 'BlobEndpoint=https://a/;SharedAccessSignature=sv=1&sig=S1G%3D';
  assert.deepEqual(secretValues({ connectionString: cs, gitHubToken: 'gh' }), [cs, 'sv=1&sig=S1G%3D', 'S1G%3D', 'S1G=', 'gh']);
});
