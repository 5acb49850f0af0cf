// The control browser's side of claude-agent: Node >= 18, built-in modules only, ESM.
// Speaks the HTTP API of Bridge.md (served by `claude-agent bridge`, protocol version 1).
//
// - BridgeClient: list pending token requests, select an account, deny, cancel, and follow
//   changes. The bridge has no event stream, so watchRequests() polls with back-off.
// - openAuthHandler(): the `GET /open-auth?account_id=&auth_url=` route the agent calls
//   (Protocol.md, request.select_account), for an Electron main process to mount.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultSocketPath } from './agent.js';

/** The original router's address, where `claude-agent bridge` listens by default. */
export const DEFAULT_BRIDGE_URL = 'http://127.0.0.1:7777';
/** Bridge.md caps its own bodies far below this; a larger answer is not the bridge's. */
const MAX_BODY_BYTES = 1024 * 1024;
const ACCOUNT_ID_MAX = 4294967295;

/** A bridge answer other than the expected one: the HTTP `status` and Bridge.md's error `code`. */
export class BridgeError extends Error {
  constructor(status, code, message) {
    super(`${code}: ${message}`);
    this.name = 'BridgeError';
    this.status = status;
    this.code = code;
    this.detail = message;
  }
}

/** The bridge's secret, from `bridge.token` beside the agent's socket (Bridge.md, The secret). */
export function readBridgeSecret(socketPath = defaultSocketPath()) {
  const file = path.join(path.dirname(socketPath), 'bridge.token');
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new BridgeError(0, 'no_secret', `cannot read ${file} (${error.code ?? error.message}); is claude-agent bridge running?`);
  }
  const secret = text.trim();
  if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) throw new BridgeError(0, 'no_secret', `${file} does not hold a bridge secret`);
  return secret;
}

/** Requests one route of the bridge; resolves { status, headers, body } (body parsed when JSON). */
function exchange(baseUrl, method, route, { secret, json, timeoutMs }) {
  const url = new URL(route, baseUrl);
  const body = json === undefined ? null : Buffer.from(JSON.stringify(json), 'utf8');
  const headers = { Accept: 'application/json', 'Content-Length': String(body ? body.length : 0) };
  if (body) headers['Content-Type'] = 'application/json';
  if (secret) headers.Authorization = `Bearer ${secret}`;
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, headers, agent: false, timeout: timeoutMs }, (response) => {
      const chunks = [];
      let size = 0;
      response.on('data', (chunk) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) request.destroy(new BridgeError(0, 'bad_bridge_answer', 'the answer is too large'));
        else chunks.push(chunk);
      });
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed = text;
        if ((response.headers['content-type'] ?? '').startsWith('application/json')) {
          try { parsed = JSON.parse(text); } catch { return reject(new BridgeError(response.statusCode, 'bad_bridge_answer', 'the answer is not JSON')); }
        }
        resolve({ status: response.statusCode, headers: response.headers, body: parsed });
      });
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new BridgeError(0, 'timeout', `${method} ${route} took more than ${timeoutMs} ms`)));
    request.on('error', (error) => reject(error instanceof BridgeError ? error
      : new BridgeError(0, 'bridge_unreachable', `no bridge at ${baseUrl} (${error.code ?? error.message})`)));
    request.end(body ?? undefined);
  });
}

function failure({ status, body }, route) {
  if (body && typeof body === 'object' && typeof body.error === 'string') {
    return new BridgeError(status, body.error, body.message ?? '');
  }
  return new BridgeError(status, 'bad_bridge_answer', `${route} answered ${status}`);
}

/** A client of the bridge's HTTP API; the routes that approve, deny or list need the secret. */
export class BridgeClient {
  constructor({ baseUrl = DEFAULT_BRIDGE_URL, secret, timeoutMs = 30_000 } = {}) {
    this.baseUrl = baseUrl;
    this.secret = secret;
    this.timeoutMs = timeoutMs;
  }

  /** The bridge at CLAUDE_ROUTER_URL (else the default) with the secret beside CLAUDE_AGENT_SOCK. */
  static fromEnvironment(env = process.env) {
    return new BridgeClient({ baseUrl: env.CLAUDE_ROUTER_URL || DEFAULT_BRIDGE_URL, secret: readBridgeSecret(defaultSocketPath(env)) });
  }

  async json(method, route, { expect = [200], secret = true, json } = {}) {
    const answer = await exchange(this.baseUrl, method, route, { secret: secret ? this.secret : undefined, json, timeoutMs: this.timeoutMs });
    if (!expect.includes(answer.status)) throw failure(answer, route);
    return answer.body;
  }

  health() { return this.json('GET', '/healthz', { secret: false }); }

  /** The live (pending and in-progress) requests, with who asked. */
  async listRequests() { return (await this.json('GET', '/v1/token-requests')).requests; }

  async listAccounts() { return (await this.json('GET', '/v1/accounts')).accounts; }

  /** Approves with account `accountId` (a number): `approved` at once, or `in_progress` while the control browser opens the authorization. */
  selectAccount(requestId, accountId) {
    return this.json('POST', `/v1/token-requests/${encodeURIComponent(requestId)}/select-account`, { json: { account_id: accountId } });
  }

  cancel(requestId) { return this.json('POST', `/v1/token-requests/${encodeURIComponent(requestId)}/cancel`); }

  /** Denies through the approval page's form route, the bridge's only deny (303 to `/`, or to `/?error=<code>`). */
  async deny(requestId) {
    const route = `/ui/requests/${encodeURIComponent(requestId)}/deny`;
    const answer = await exchange(this.baseUrl, 'POST', route, { secret: this.secret, timeoutMs: this.timeoutMs });
    if (answer.status !== 303) throw failure(answer, route);
    const location = new URL(answer.headers.location ?? '/', this.baseUrl);
    const code = location.searchParams.get('error');
    if (code) throw new BridgeError(answer.status, code, `the bridge refused to deny ${requestId}`);
  }

  /** What the original router's clients use: make a request (no secret) and read its status. */
  createRequest({ clientName, hostname, scopes, account }) {
    const json = { client_name: clientName, hostname, scopes };
    if (account !== undefined) json.account = account;
    return this.json('POST', '/v1/token-requests', { secret: false, expect: [201], json });
  }

  requestStatus(requestId) {
    return this.json('GET', `/v1/token-requests/${encodeURIComponent(requestId)}/status`, { secret: false });
  }

  /**
   * Follows the live requests: yields the list at once, then each time it changes. Polls
   * every `minIntervalMs`, doubling up to `maxIntervalMs` while nothing changes and back to
   * the minimum on a change or a failure's recovery. Ends when `signal` aborts.
   * An unreachable bridge (restarting) is retried at the slowest pace; other errors throw.
   */
  async *watchRequests({ signal, minIntervalMs = 250, maxIntervalMs = 4000 } = {}) {
    let interval = minIntervalMs;
    let last = null;
    while (!signal?.aborted) {
      let requests = null;
      try {
        requests = await this.listRequests();
      } catch (error) {
        if (!(error instanceof BridgeError) || !['bridge_unreachable', 'agent_unreachable', 'timeout'].includes(error.code)) throw error;
        interval = maxIntervalMs;
      }
      if (requests) {
        const key = JSON.stringify(requests.map((r) => [r.request_id, r.status, r.account_id, r.updated_at]));
        if (key !== last) {
          last = key;
          interval = minIntervalMs;
          yield requests;
          continue;
        }
        interval = Math.min(interval * 2, maxIntervalMs);
      }
      try {
        await sleep(interval, undefined, { signal });
      } catch {
        return; // aborted
      }
    }
  }
}

function answer(response, status, body) {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  response.end(text);
}

/**
 * The control browser's `GET /open-auth?account_id=<n>&auth_url=<url>` route, as a Node
 * request listener: checks the query, calls `open({ accountId, authUrl })` (open the
 * authorize URL in that account's browser profile) and answers 200 `{"ok":true}` once it
 * resolves, 400 for a bad query, 500 when `open` throws (the agent then marks the request
 * `error`: control_browser_failed). Other routes go to `fallback`, else 404.
 * Only loopback `Host`s are served, so a page on a rebound domain cannot drive it.
 */
export function openAuthHandler(open, { fallback } = {}) {
  return async (request, response) => {
    const url = new URL(request.url, 'http://127.0.0.1');
    if (url.pathname !== '/open-auth') {
      if (fallback) return fallback(request, response);
      return answer(response, 404, { ok: false, error: 'not_found' });
    }
    if (request.method !== 'GET') return answer(response, 405, { ok: false, error: 'method_not_allowed' });
    const host = (request.headers.host ?? '').replace(/:\d+$/, '');
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) return answer(response, 403, { ok: false, error: 'forbidden_host' });
    const accountText = url.searchParams.get('account_id') ?? '';
    const accountId = Number(accountText);
    if (!/^\d{1,10}$/.test(accountText) || accountId > ACCOUNT_ID_MAX) {
      return answer(response, 400, { ok: false, error: 'account_id must be an integer from 0 to 4294967295' });
    }
    const rawUrl = url.searchParams.get('auth_url') ?? '';
    let authUrl;
    try {
      authUrl = new URL(rawUrl);
    } catch {
      return answer(response, 400, { ok: false, error: 'auth_url must be a URL' });
    }
    if (authUrl.protocol !== 'https:' && authUrl.protocol !== 'http:') {
      return answer(response, 400, { ok: false, error: 'auth_url must be an http or https URL' });
    }
    try {
      await open({ accountId, authUrl: rawUrl });
    } catch (error) {
      return answer(response, 500, { ok: false, error: `cannot open the authorization: ${error.message}` });
    }
    return answer(response, 200, { ok: true });
  };
}
