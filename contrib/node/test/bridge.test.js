// bridge.js against the built agent and the real bridge (`claude-agent bridge`), and
// openAuthHandler as the control browser the agent calls.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test as nodeTest } from 'node:test';
import { AgentClient, AgentError, getToken } from '../agent.js';
import { BridgeClient, BridgeError, openAuthHandler, readBridgeSecret } from '../bridge.js';
import { startAgent, startBridge, waitUntil } from './harness.js';

/** Every test ends within a minute, whatever the agent does. */
const test = (name, body) => nodeTest(name, { timeout: 60_000 }, body);

/** The status of one plain HTTP request (node:http, so no reliance on a global fetch). */
function statusOf(url, { method = 'GET', headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, headers, agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on('error', reject);
    request.end();
  });
}

const settled = (promise) => promise.then((value) => ({ value }), (error) => ({ error }));

/** A control browser on a free loopback port serving openAuthHandler(open). */
async function startControlBrowser(open) {
  const server = http.createServer(openAuthHandler(open));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

async function withBridge(body, { open } = {}) {
  const opened = [];
  const browser = await startControlBrowser(async (call) => {
    opened.push(call);
    if (open) await open(call);
  });
  const agent = await startAgent({ config: { control_browser_url: browser.url } });
  const bridge = await startBridge(agent);
  const client = new AgentClient({ socketPath: agent.socketPath });
  try {
    const approver = BridgeClient.fromEnvironment({ ...agent.env, CLAUDE_ROUTER_URL: bridge.url });
    await body({ agent, bridge, client, approver, opened });
  } finally {
    client.close();
    await bridge.stop();
    await agent.stop();
    await browser.close();
  }
}

/** The first list watchRequests yields that satisfies `predicate`; gives up after 10 s. */
async function watchFor(approver, predicate) {
  const controller = new AbortController();
  const limit = setTimeout(() => controller.abort(), 10_000);
  let last;
  try {
    for await (const requests of approver.watchRequests({ signal: controller.signal, minIntervalMs: 20, maxIntervalMs: 200 })) {
      last = requests;
      if (predicate(requests)) return requests;
    }
  } finally {
    clearTimeout(limit);
    controller.abort();
  }
  throw new Error(`gave up watching for the requests wanted; the last list: ${JSON.stringify(last)}`);
}

test('approval flow: a waiting tool, the bridge lists it, an account is selected, the tool gets the token', () => withBridge(async ({ agent, client, approver }) => {
  const waiting = settled(getToken({ socketPath: agent.socketPath, scopes: ['user:inference'], wait: true, timeoutSeconds: 60, clientName: 'my-tool' }));
  const [request] = await watchFor(approver, (requests) => requests.length === 1);
  assert.equal(request.status, 'pending');
  assert.equal(request.client_name, 'my-tool');
  assert.deepEqual(request.scopes, ['user:inference']);
  assert.equal(request.caller.pid, process.pid);
  await client.addAccount('work', 'tok-work', { expires_in: 3600, scope: 'user:inference', account_id: 3 });
  assert.deepEqual((await approver.listAccounts()).map((a) => [a.id, a.account]), [[3, 'work']]);
  assert.deepEqual(await approver.selectAccount(request.request_id, 3), { request_id: request.request_id, status: 'approved', account_id: 3 });
  const { value, error } = await waiting;
  assert.equal(error, undefined);
  assert.equal(value.access_token, 'tok-work');
  assert.deepEqual(await watchFor(approver, () => true), []);
}));

test('denied through the bridge: the waiting tool gets denied', () => withBridge(async ({ agent, approver }) => {
  const waiting = settled(getToken({ socketPath: agent.socketPath, scopes: ['user:inference'], wait: true, timeoutSeconds: 60 }));
  const [request] = await watchFor(approver, (requests) => requests.length === 1);
  await approver.deny(request.request_id);
  const { error } = await waiting;
  assert.ok(error instanceof AgentError && error.code === 'denied', String(error));
  await assert.rejects(approver.deny(request.request_id), (e) => e instanceof BridgeError && e.code !== '');
  await assert.rejects(approver.selectAccount(request.request_id, 3), (e) => e.status === 409 && e.code === 'invalid_status_for_select');
}));

test('the original router flow over the bridge: create, watch, cancel, read the status', () => withBridge(async ({ approver }) => {
  const created = await approver.createRequest({ clientName: 'router-tool', hostname: 'box', scopes: ['user:inference'] });
  assert.equal(created.status, 'pending');
  const [request] = await watchFor(approver, (requests) => requests.some((r) => r.request_id === created.request_id));
  assert.equal(request.client_name, 'router-tool');
  assert.equal((await approver.cancel(created.request_id)).status, 'cancelled');
  assert.equal((await approver.requestStatus(created.request_id)).status, 'cancelled');
}));

test('open-auth: selecting an account without a token opens its authorization in the control browser', () => withBridge(async ({ agent, bridge, approver, opened }) => {
  const waiting = settled(getToken({ socketPath: agent.socketPath, scopes: ['user:inference'], wait: true, timeoutSeconds: 60 }));
  const [request] = await watchFor(approver, (requests) => requests.length === 1);
  const selected = await approver.selectAccount(request.request_id, 7);
  assert.equal(selected.status, 'in_progress');
  assert.equal(opened.length, 1);
  assert.equal(opened[0].accountId, 7);
  const authorize = new URL(opened[0].authUrl);
  assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
  const state = authorize.searchParams.get('state');
  assert.ok(state);
  const [inProgress] = await watchFor(approver, (requests) => requests[0]?.status === 'in_progress');
  assert.equal(inProgress.account_id, 7);
  // The person refuses at the provider, whose redirect carries access_denied (RFC 6749 §4.1.2.1).
  assert.equal(await statusOf(`${bridge.url}/oauth/callback?error=access_denied&state=${encodeURIComponent(state)}`), 200);
  const { error } = await waiting;
  assert.equal(error?.code, 'denied');
}));

test('open-auth failing: the request ends in error and select-account answers 502', () => withBridge(async ({ agent, approver }) => {
  const waiting = settled(getToken({ socketPath: agent.socketPath, scopes: ['user:inference'], wait: true, timeoutSeconds: 60 }));
  const [request] = await watchFor(approver, (requests) => requests.length === 1);
  await assert.rejects(approver.selectAccount(request.request_id, 7),
    (e) => e instanceof BridgeError && e.status === 502 && e.code === 'control_browser_unreachable');
  const { error } = await waiting;
  assert.equal(error?.code, 'request_failed');
}, { open: async () => { throw new Error('no such profile'); } }));

test('the secret: read from bridge.token, required, and checked', () => withBridge(async ({ agent, bridge, approver }) => {
  assert.equal(readBridgeSecret(agent.socketPath), approver.secret);
  assert.match(approver.secret, /^[A-Za-z0-9_-]{43}$/);
  const stranger = new BridgeClient({ baseUrl: bridge.url, secret: 'x'.repeat(43) });
  await assert.rejects(stranger.listRequests(), (e) => e.status === 401 && e.code === 'unauthorized');
  assert.deepEqual((await stranger.health()).ok, true);
  assert.throws(() => readBridgeSecret('/nonexistent/agent.sock'), (e) => e.code === 'no_secret');
}));

test('watchRequests stops when aborted and survives nothing changing', () => withBridge(async ({ approver }) => {
  const controller = new AbortController();
  const seen = [];
  setTimeout(() => controller.abort(), 300);
  for await (const requests of approver.watchRequests({ signal: controller.signal, minIntervalMs: 10, maxIntervalMs: 40 })) {
    seen.push(requests);
  }
  assert.deepEqual(seen, [[]]); // one list, then no change until the abort
}));

test('bridge unreachable is a BridgeError, not a crash', async () => {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  const client = new BridgeClient({ baseUrl: `http://127.0.0.1:${port}`, secret: 'x'.repeat(43) });
  await assert.rejects(client.listRequests(), (e) => e instanceof BridgeError && e.code === 'bridge_unreachable');
});

test('openAuthHandler refuses what the agent never sends', async () => {
  const calls = [];
  const browser = await startControlBrowser(async (call) => { calls.push(call); });
  try {
    const get = (query, options) => statusOf(`${browser.url}${query}`, options);
    assert.equal(await get('/open-auth?account_id=3&auth_url=https%3A%2F%2Fexample.test%2Fauthorize%3Fstate%3Ds'), 200);
    assert.deepEqual(calls, [{ accountId: 3, authUrl: 'https://example.test/authorize?state=s' }]);
    assert.equal(await get('/open-auth?auth_url=https%3A%2F%2Fexample.test%2F'), 400);
    assert.equal(await get('/open-auth?account_id=-1&auth_url=https%3A%2F%2Fexample.test%2F'), 400);
    assert.equal(await get('/open-auth?account_id=4294967296&auth_url=https%3A%2F%2Fexample.test%2F'), 400);
    assert.equal(await get('/open-auth?account_id=3'), 400);
    assert.equal(await get('/open-auth?account_id=3&auth_url=javascript%3Aalert(1)'), 400);
    assert.equal(await get('/open-auth?account_id=3&auth_url=https%3A%2F%2Fexample.test%2F', { method: 'POST' }), 405);
    assert.equal(await get('/elsewhere'), 404);
    assert.equal(await get('/open-auth?account_id=3&auth_url=https%3A%2F%2Fexample.test%2F', { headers: { Host: 'rebound.example:80' } }), 403);
    assert.equal(calls.length, 1);
  } finally {
    await browser.close();
  }
});
