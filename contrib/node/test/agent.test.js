// agent.js against the built agent over its real socket, situation by situation
// (contrib/README.md's table).
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test as nodeTest } from 'node:test';
import { AgentClient, AgentError, authHeaders, getToken, listAccounts, listRequests, status } from '../agent.js';
import { startAgent, waitUntil } from './harness.js';

/** Every test ends within a minute, whatever the agent does. */
const test = (name, body) => nodeTest(name, { timeout: 60_000 }, body);

async function withAgent(body) {
  const agent = await startAgent();
  const client = new AgentClient({ socketPath: agent.socketPath });
  try {
    await body(agent, client);
  } finally {
    client.close();
    await agent.stop();
  }
}

/** Holds a promise's outcome so a rejection before the test awaits it is not "unhandled". */
const settled = (promise) => promise.then((value) => ({ value }), (error) => ({ error }));
const unsettle = ({ value, error }) => (error ? Promise.reject(error) : value);

async function rejectsWith(promise, code) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof AgentError, `not an AgentError: ${error}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

test('happy path: the held token, its provider headers, and authHeaders', () => withAgent(async (agent, client) => {
  // A refresh token ties the account to the default provider, whose headers come along.
  await client.addAccount('work', 'tok-work', { expires_in: 3600, scope: 'user:inference user:profile', account_id: 3, refresh_token: 'rt-work' });
  const raw = await client.call('token.get', { scopes: ['user:inference'] });
  const token = await getToken({ socketPath: agent.socketPath, scopes: ['user:inference'] });
  assert.equal(token.access_token, 'tok-work');
  assert.equal(token.account, 'work');
  assert.equal(token.account_id, 3);
  assert.equal(token.token_type, 'Bearer');
  assert.deepEqual(token.scopes, ['user:inference', 'user:profile']);
  assert.deepEqual(token.headers, raw.headers ?? {});
  assert.deepEqual(await authHeaders({ env: agent.env }), { Authorization: 'Bearer tok-work', ...(raw.headers ?? {}) });
}));

test('auth precedence: ANTHROPIC_AUTH_TOKEN, then ANTHROPIC_API_KEY, then the agent', () => withAgent(async (agent, client) => {
  await client.addAccount('work', 'tok-work', { expires_in: 3600, scope: 'user:inference' });
  assert.deepEqual(await authHeaders({ env: { ...agent.env, ANTHROPIC_API_KEY: 'sk-key', ANTHROPIC_AUTH_TOKEN: 'bearer' } }),
    { Authorization: 'Bearer bearer' });
  assert.deepEqual(await authHeaders({ env: { ...agent.env, ANTHROPIC_API_KEY: 'sk-key', ANTHROPIC_AUTH_TOKEN: '' } }),
    { 'x-api-key': 'sk-key' });
  assert.equal((await authHeaders({ env: { ...agent.env, ANTHROPIC_API_KEY: '' } })).Authorization, 'Bearer tok-work');
}));

test('no agent: agent_not_running', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'claude-agent-none-'));
  try {
    const socketPath = path.join(dir, 'absent.sock');
    await rejectsWith(getToken({ socketPath }), 'agent_not_running');
    await rejectsWith(status({ socketPath }), 'agent_not_running');
    await rejectsWith(authHeaders({ env: { CLAUDE_AGENT_SOCK: socketPath } }), 'agent_not_running');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('locked: no token, but status answers', () => withAgent(async (agent, client) => {
  await client.addAccount('work', 'tok-work', { expires_in: 3600 });
  await client.lock('correct horse');
  await rejectsWith(getToken({ socketPath: agent.socketPath }), 'locked');
  await rejectsWith(listAccounts({ socketPath: agent.socketPath }), 'locked');
  assert.equal((await status({ socketPath: agent.socketPath })).locked, true);
  await rejectsWith(client.unlock('wrong'), 'denied');
  await client.unlock('correct horse');
  assert.equal((await getToken({ socketPath: agent.socketPath })).access_token, 'tok-work');
}));

test('no token, and an unknown account', () => withAgent(async (agent, client) => {
  await rejectsWith(client.getToken({ scopes: ['user:inference'] }), 'no_token');
  await client.addAccount('work', 'tok-work', { expires_in: 3600, scope: 'user:profile' });
  await rejectsWith(client.getToken({ scopes: ['user:inference'] }), 'no_token');
  await rejectsWith(client.getToken({ account: 'nobody' }), 'not_found');
}));

test('expired without a refresh token', () => withAgent(async (agent, client) => {
  // Within the agent's expiry skew (60 s) and without a refresh token, it could never be
  // handed out: the agent refuses to add it, `expired` (Protocol.md, account.add).
  await assert.rejects(client.addAccount('old', 'tok-old', { expires_in: 30 }),
    (error) => error.code === 'expired' && !error.message.includes('tok-old'));
}));

test('a wait that runs out: timeout', () => withAgent(async (agent, client) => {
  await rejectsWith(client.getToken({ scopes: ['user:inference'], wait: true, timeoutSeconds: 1 }), 'timeout');
}));

test('denied while waiting', () => withAgent(async (agent, client) => {
  // The longest wait there is: its deadline must still be one the agent takes.
  const waiting = settled(getToken({ socketPath: agent.socketPath, scopes: ['user:inference'], wait: true, timeoutSeconds: 3600 }));
  const [request] = await waitUntil(() => listRequests({ socketPath: agent.socketPath }).then((r) => r.length && r), 'a request');
  assert.deepEqual(request.scopes, ['user:inference']);
  assert.equal((await client.denyRequest(request.request_id, { reason: 'not today' })).status, 'denied');
  await rejectsWith(waiting.then(unsettle), 'denied');
}));

test('approved while waiting', () => withAgent(async (agent, client) => {
  const waiting = getToken({ socketPath: agent.socketPath, scopes: ['user:admin'], wait: true, timeoutSeconds: 60 });
  const [request] = await waitUntil(() => client.listRequests().then((r) => r.length && r), 'a request');
  await client.addAccount('admin', 'tok-admin', { expires_in: 3600, scope: 'user:admin', account_id: 4 });
  assert.equal((await client.selectAccount(request.request_id, 4)).status, 'approved');
  assert.equal((await waiting).access_token, 'tok-admin');
}));

test('calls overlap on one connection and come back in order', () => withAgent(async (agent, client) => {
  await client.addAccount('work', 'tok-work', { expires_in: 3600 });
  const answers = await Promise.all([client.status(), client.getToken(), client.listAccounts(), client.hello()]);
  assert.equal(answers[1].access_token, 'tok-work');
  assert.equal(answers[2][0].account, 'work');
  assert.equal(answers[3].protocol, 1);
}));

// A strict stand-in for what the built agent cannot show yet: paging (next_cursor) and
// error codes a newer agent may send. It checks each request's frame and id.
async function withScriptedAgent(answers, body) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'claude-agent-scripted-'));
  const socketPath = path.join(dir, 'scripted.sock');
  const requests = [];
  const server = createServer((connection) => {
    let buffer = Buffer.alloc(0);
    connection.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 4 && buffer.length >= 4 + buffer.readUInt32BE(0)) {
        const request = JSON.parse(buffer.subarray(4, 4 + buffer.readUInt32BE(0)).toString('utf8'));
        buffer = buffer.subarray(4 + buffer.readUInt32BE(0));
        assert.ok(Number.isInteger(request.id) && request.id >= 1 && typeof request.op === 'string');
        requests.push(request);
        const payload = Buffer.from(JSON.stringify({ id: request.id, ...answers[requests.length - 1] }));
        const header = Buffer.alloc(4);
        header.writeUInt32BE(payload.length);
        connection.write(Buffer.concat([header, payload]));
      }
    });
  });
  await new Promise((resolve) => server.listen(socketPath, resolve));
  try {
    await body(socketPath, requests);
  } finally {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

const summary = (account) => ({ id: 1, account, scopes: [], expires_at: null, fingerprint: 'SHA256:x',
  has_refresh_token: false, state: 'ok', forget_at: null });

test('listAccounts follows next_cursor', () => withScriptedAgent([
  { ok: true, result: { accounts: [summary('a'), summary('b')], next_cursor: 'c1' } },
  { ok: true, result: { accounts: [summary('c')], next_cursor: null } },
], async (socketPath, requests) => {
  assert.deepEqual((await listAccounts({ socketPath })).map((a) => a.account), ['a', 'b', 'c']);
  assert.equal(requests[0].cursor, undefined);
  assert.equal(requests[1].cursor, 'c1');
}));

test('a repeated cursor is a protocol violation', () => withScriptedAgent([
  { ok: true, result: { requests: [], next_cursor: 'same' } },
  { ok: true, result: { requests: [], next_cursor: 'same' } },
], async (socketPath) => {
  await rejectsWith(listRequests({ socketPath }), 'protocol_violation');
}));

test('error codes this client does not know pass through, and rotation_lost', () => withScriptedAgent([
  { ok: false, error: { code: 'a_code_from_the_future', message: 'why' } },
  { ok: false, error: { code: 'rotation_lost', message: 'log in again' } },
], async (socketPath, requests) => {
  const client = new AgentClient({ socketPath });
  await rejectsWith(client.getToken({ refresh: true }), 'a_code_from_the_future');
  await rejectsWith(client.getToken(), 'rotation_lost');
  client.close();
  assert.equal(requests[0].refresh, true);
  assert.ok(Number.isInteger(requests[0].timeout_ms));
}));
