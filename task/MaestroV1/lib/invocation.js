'use strict';
// Maps the task's inputs, service connection and the job's token onto the maestro command line
// and environment. Pure apart from the task-lib reads (and file existence checks), so tests can
// drive it with the mock task-lib.

const fs = require('fs');
const os = require('os');
const path = require('path');

const COMMANDS = ['publish', 'add-build-to-channel', 'trigger-subscription', 'apply-subscription', 'flow-tick', 'mirror'];
const MIRROR_MODES = ['fastForward', 'internalMerge'];
const DEFAULT_VERSION_DETAILS = 'eng/Version.Details.xml';
const RESULT_FILE = 'maestro-publish-result.json';

// Blob endpoint suffixes of the Azure clouds an Azure Resource Manager connection names.
const STORAGE_SUFFIX = {
  azurecloud: 'core.windows.net',
  azurechinacloud: 'core.chinacloudapi.cn',
  azureusgovernment: 'core.usgovcloudapi.net',
  azuregermancloud: 'core.cloudapi.de',
};

// readSecrets reads every secret the binary will get and returns them, so the caller can mask
// them before anything else is printed. Endpoint credentials are read with
// getEndpointAuthorization, which never echoes values into the debug log.
function readSecrets(tl, storeType) {
  const secrets = {};
  if (storeType === 'connectionString') {
    secrets.connectionString = input(tl, 'storeConnectionString', true);
  } else if (storeType === 'azureResourceManager') {
    secrets.servicePrincipal = servicePrincipal(tl, input(tl, 'store', true));
  } else if (storeType !== 'url') {
    throw new Error(`storeType: unknown value '${storeType}'; use azureResourceManager, connectionString or url`);
  }
  secrets.accessToken = optionalToken(tl, 'azureDevOpsToken') || jobAccessToken(tl);
  secrets.gitHubToken = optionalToken(tl, 'gitHubToken');
  return secrets;
}

// unexpanded returns the variable name when value is nothing but a $(Variable) macro the agent
// left as is because no such variable exists.
function unexpanded(value) {
  const m = /^\$\(([^()]+)\)$/.exec(value);
  return m ? m[1] : '';
}

// input reads a trimmed input and rejects a macro naming a variable that does not exist.
function input(tl, name, required) {
  const value = (tl.getInput(name, required) || '').trim();
  const variable = unexpanded(value);
  if (variable) {
    throw new Error(`${name}: '${value}' was not expanded; define the variable ${variable} (for the Maestro++ pipelines: in the Maestro variable group)`);
  }
  return value;
}

// optionalToken reads a token input; a macro naming a missing variable counts as no token.
function optionalToken(tl, name) {
  const value = (tl.getInput(name, false) || '').trim();
  if (unexpanded(value)) {
    tl.warning(`${name}: '${value}' was not expanded; running without it`);
    return '';
  }
  return value;
}

// secretValues lists the values readSecrets found, for ##vso[task.setsecret]. A connection string
// is registered whole and by its parts, because messages quote parts: a request URL carries the
// SAS query re-encoded, so the agent's mask of the whole string never matches it.
function secretValues(secrets) {
  const sp = secrets.servicePrincipal;
  const parts = secrets.connectionString ? connectionStringSecrets(secrets.connectionString) : [];
  return [secrets.connectionString, ...parts, sp && sp.clientSecret, secrets.accessToken, secrets.gitHubToken].filter(Boolean);
}

// connectionStringSecrets returns the secret parts of an Azure Storage connection string, as
// internal/redact.ConnectionStringSecrets does: the AccountKey, the SharedAccessSignature and its
// sig value, raw and percent-decoded.
function connectionStringSecrets(cs) {
  const out = [];
  for (const part of cs.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) {
      continue;
    }
    const name = part.slice(0, eq).trim().toLowerCase();
    const value = part.slice(eq + 1).trim();
    if (!value) {
      continue;
    }
    if (name === 'accountkey') {
      out.push(value);
    } else if (name === 'sharedaccesssignature') {
      out.push(value);
      for (const param of value.replace(/^\?/, '').split('&')) {
        const [key, sig] = [param.slice(0, param.indexOf('=')), param.slice(param.indexOf('=') + 1)];
        if (param.includes('=') && key.toLowerCase() === 'sig' && sig) {
          out.push(sig);
          let decoded = sig;
          try {
            decoded = decodeURIComponent(sig.replace(/\+/g, ' '));
          } catch (_) {
            // not percent-encoded text: the raw value is registered already
          }
          if (decoded !== sig) {
            out.push(decoded);
          }
        }
      }
    }
  }
  return out;
}

function servicePrincipal(tl, endpoint) {
  const auth = tl.getEndpointAuthorization(endpoint, true);
  if (!auth) {
    throw new Error(`store: service connection '${endpoint}' has no authorization; check that the pipeline is permitted to use it`);
  }
  const scheme = String(auth.scheme || '');
  if (scheme.toLowerCase() !== 'serviceprincipal') {
    throw new Error(`store: service connection '${endpoint}' uses the ${scheme} scheme; the task supports service principals with a secret. Use a service principal connection or storeType: connectionString`);
  }
  const param = (key) => {
    const params = auth.parameters || {};
    const found = Object.keys(params).find((k) => k.toLowerCase() === key);
    return found ? params[found] : '';
  };
  if (param('authenticationtype') === 'spnCertificate') {
    throw new Error(`store: service connection '${endpoint}' authenticates with a certificate; the task supports a service principal secret`);
  }
  const sp = { tenantId: param('tenantid'), clientId: param('serviceprincipalid'), clientSecret: param('serviceprincipalkey') };
  for (const [field, value] of Object.entries(sp)) {
    if (!value) {
      throw new Error(`store: service connection '${endpoint}' lacks ${field}`);
    }
  }
  sp.environment = tl.getEndpointDataParameter(endpoint, 'environment', true) || 'AzureCloud';
  return sp;
}

function jobAccessToken(tl) {
  const auth = tl.getEndpointAuthorization('SystemVssConnection', true);
  return (auth && auth.parameters && auth.parameters.AccessToken) || '';
}

// storeEnvironment is what the binary needs to open the store: MAESTRO_STORE plus credentials.
function storeEnvironment(tl, storeType, secrets) {
  if (storeType === 'url') {
    return { MAESTRO_STORE: input(tl, 'storeUrl', true) };
  }
  const container = input(tl, 'storageContainer', true);
  if (!/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/.test(container)) {
    throw new Error(`storageContainer: '${container}' is not a valid container name (3-63 lowercase letters, digits and single hyphens)`);
  }
  const env = { MAESTRO_STORE: `azblob://${container}` };
  if (storeType === 'connectionString') {
    env.AZURE_STORAGE_CONNECTION_STRING = secrets.connectionString;
    return env;
  }
  const sp = secrets.servicePrincipal;
  env.AZURE_STORAGE_ACCOUNT_URL = accountUrl(input(tl, 'storageAccount', true), sp.environment);
  env.AZURE_TENANT_ID = sp.tenantId;
  env.AZURE_CLIENT_ID = sp.clientId;
  env.AZURE_CLIENT_SECRET = sp.clientSecret;
  return env;
}

function accountUrl(account, environment) {
  const value = account.trim();
  if (/^https?:\/\//i.test(value)) {
    return value.replace(/\/+$/, '');
  }
  if (!/^[a-z0-9]{3,24}$/.test(value)) {
    throw new Error(`storageAccount: '${value}' is neither a storage account name (3-24 lowercase letters and digits) nor a blob endpoint URL`);
  }
  const suffix = STORAGE_SUFFIX[String(environment).toLowerCase()];
  if (!suffix) {
    throw new Error(`storageAccount: the service connection's cloud '${environment}' is not one the task knows; give the blob endpoint URL instead of the account name`);
  }
  return `https://${value}.blob.${suffix}`;
}

// list splits a comma- or newline-separated input into unique, trimmed, non-empty items.
function list(value) {
  const items = String(value || '').split(/[,\r\n]+/).map((s) => s.trim()).filter(Boolean);
  return [...new Set(items)];
}

function barId(value, input) {
  const id = String(value || '').trim();
  if (/^\$\(.*\)$/.test(id)) {
    throw new Error(`${input}: '${id}' was not expanded; no earlier step in this job set that variable. Give the BAR build id`);
  }
  if (!/^[1-9][0-9]*$/.test(id)) {
    throw new Error(`${input}: '${id}' is not a BAR build id (a positive integer)`);
  }
  return id;
}

function requiredInput(tl, name, command) {
  const value = input(tl, name, false);
  if (!value) {
    throw new Error(`${name}: required for command '${command}'`);
  }
  return value;
}

// rooted resolves a path input against the sources directory the agent roots filePath inputs in.
function rooted(tl, value) {
  if (path.isAbsolute(value)) {
    return value;
  }
  return path.resolve(workingDirectory(tl), value);
}

function workingDirectory(tl) {
  return tl.getVariable('System.DefaultWorkingDirectory') || tl.getVariable('Build.SourcesDirectory') || process.cwd();
}

function versionDetails(tl) {
  const value = (tl.getInput('versionDetails', false) || '').trim();
  if (!value) {
    return '';
  }
  const file = rooted(tl, value);
  // The agent hands an empty filePath input over as the sources directory itself.
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) {
    return '';
  }
  if (!fs.existsSync(file)) {
    if (file === rooted(tl, DEFAULT_VERSION_DETAILS)) {
      console.log(`${value} does not exist; publishing without the build's dependencies.`);
      return '';
    }
    throw new Error(`versionDetails: ${file} does not exist`);
  }
  return file;
}

function publishArgs(tl, resultFile) {
  const manifests = list(tl.getInput('manifests', false));
  if (manifests.length === 0) {
    throw new Error("manifests: required for command 'publish'; give the asset manifest files or globs, one per line");
  }
  const args = ['publish'];
  for (const m of manifests) {
    args.push('--manifest', m);
  }
  for (const c of list(tl.getInput('channels', false))) {
    args.push('--channel', c);
  }
  const details = versionDetails(tl);
  if (details) {
    args.push('--version-details', details);
  }
  if (tl.getBoolInput('uploadAssets', false)) {
    const dir = rooted(tl, requiredInput(tl, 'assetsDirectory', 'publish'));
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
      throw new Error(`assetsDirectory: ${dir} is not a directory`);
    }
    args.push('--upload', dir);
  }
  if (tl.getBoolInput('speculative', false)) {
    args.push('--speculative');
    const pr = pullRequestURL(tl);
    if (pr) {
      args.push('--pull-request', pr);
    }
  }
  args.push('--result-file', resultFile);
  return args;
}

// pullRequestURL is the pullRequest input, else, in a pull request build, the pull request's
// web URL from the pipeline's variables; '' outside one (a non-mainline branch build).
function pullRequestURL(tl) {
  const given = input(tl, 'pullRequest', false);
  if (given) {
    return given;
  }
  const repo = withoutUser(tl.getVariable('Build.Repository.Uri') || '').replace(/\/+$/, '').replace(/\.git$/, '');
  const provider = tl.getVariable('Build.Repository.Provider') || '';
  if (!repo) {
    return '';
  }
  if (provider === 'GitHub' || provider === 'GitHubEnterprise') {
    const n = tl.getVariable('System.PullRequest.PullRequestNumber');
    return n ? `${repo}/pull/${n}` : '';
  }
  if (provider === 'TfsGit') {
    const id = tl.getVariable('System.PullRequest.PullRequestId');
    return id ? `${repo}/pullrequest/${id}` : '';
  }
  return '';
}

// withoutUser drops the user name Azure Repos puts in Build.Repository.Uri (its clone URL,
// https://{org}@dev.azure.com/...): a pull request's web URL has none, and maestro refuses
// URLs that carry one.
function withoutUser(uri) {
  return uri.replace(/^(https?:\/\/)[^/@]*@/i, '$1');
}

// commandLines returns the argument vectors to run, in order (add-build-to-channel runs once
// per channel); extraArguments are appended to each by the caller.
function commandLines(tl, command, resultFile) {
  switch (command) {
    case 'publish':
      return [publishArgs(tl, resultFile)];
    case 'add-build-to-channel': {
      const id = barId(tl.getInput('buildId', false) || tl.getVariable('MaestroBuildId'), 'buildId');
      const channels = list(tl.getInput('channels', false));
      if (channels.length === 0) {
        throw new Error("channels: required for command 'add-build-to-channel'");
      }
      return channels.map((c) => ['build', 'add-to-channel', '--id', id, '--channel', c]);
    }
    case 'trigger-subscription': {
      const args = ['subscription', 'trigger', '--id', requiredInput(tl, 'subscriptionId', command)];
      const build = (tl.getInput('buildId', false) || '').trim();
      if (build) {
        args.push('--build', barId(build, 'buildId'));
      }
      return [args];
    }
    case 'apply-subscription':
      return [['subscription', 'apply', '--id', requiredInput(tl, 'subscriptionId', command),
        '--build', barId(requiredInput(tl, 'buildId', command), 'buildId')]];
    case 'flow-tick':
      return [['flow', 'tick']];
    case 'mirror': {
      const mode = input(tl, 'mirrorMode', false) || 'fastForward';
      if (!MIRROR_MODES.includes(mode)) {
        throw new Error(`mirrorMode: unknown value '${mode}'; use ${MIRROR_MODES.join(' or ')}`);
      }
      return [['mirror', 'run', '--source', requiredInput(tl, 'mirrorSource', command), '--branch', requiredInput(tl, 'mirrorBranch', command),
        '--target', requiredInput(tl, 'mirrorTarget', command), '--mode', mode]];
    }
    default:
      throw new Error(`command: unknown value '${command}'; use one of ${COMMANDS.join(', ')}`);
  }
}

// plan reads everything the run needs. secrets must come from readSecrets (already masked).
function plan(tl, storeType, secrets) {
  const command = tl.getInput('command', true);
  const temp = tl.getVariable('Agent.TempDirectory') || os.tmpdir();
  const resultFile = command === 'publish' ? path.join(temp, RESULT_FILE) : '';
  const env = storeEnvironment(tl, storeType, secrets);
  if (secrets.accessToken) {
    env.SYSTEM_ACCESSTOKEN = secrets.accessToken;
  }
  if (secrets.gitHubToken) {
    env.GITHUB_TOKEN = secrets.gitHubToken;
  }
  env.TF_BUILD = 'True';
  return {
    runs: commandLines(tl, command, resultFile),
    extraArguments: tl.getInput('extraArguments', false) || '',
    env,
    cwd: workingDirectory(tl),
    resultFile,
  };
}

module.exports = { plan, readSecrets, secretValues, connectionStringSecrets, list, accountUrl };
