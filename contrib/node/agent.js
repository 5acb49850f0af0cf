// A claude-agent socket client: Node >= 18, built-in modules only, ESM.
// Speaks version 1 of Protocol.md (the agent's socket protocol).
//
//   import { getToken, authHeaders } from './agent.js';
//   const token = await getToken({ scopes: ['user:inference'] });
//   const headers = await authHeaders();           // for an HTTP call to Claude
//
// Every failure rejects with an AgentError whose `code` is one of Protocol.md's error codes
// (`no_token`, `locked`, `denied`, `timeout`, ...) or one of this client's own:
// `agent_not_running` (nothing answers at the socket), `io` (the connection broke),
// `protocol_violation` (the answer was not a protocol answer). A code this file does not
// know (from a newer agent) is kept as it came.
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** The version of Protocol.md this client speaks. */
export const PROTOCOL_VERSION = 1;
/** Protocol.md, Frames: a payload is 1 to 262144 bytes. */
export const MAX_FRAME_LENGTH = 256 * 1024;
/** How long one call waits for its answer, as the Swift client. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Protocol.md, token.get with wait: the agent's default wait. */
export const DEFAULT_WAIT_SECONDS = 300;
/** Protocol.md: a wait lasts 1 to 3600 seconds. */
export const MAX_WAIT_SECONDS = 3600;
/** The scopes authHeaders asks for: what a call to the Messages API needs. */
export const DEFAULT_SCOPES = Object.freeze(['user:inference']);
/** The largest `timeout_ms` the agent takes (1 to 3,600,000). */
export const MAX_TIMEOUT_MS = 3_600_000;
/** A bound on following next_cursor, so a misbehaving agent cannot loop us forever. */
const MAX_PAGES = 100_000;

/** A failure with a stable snake_case `code` and a `message` for people. */
export class AgentError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.name = 'AgentError';
    this.code = code;
    this.detail = message;
  }
}

/** CLAUDE_AGENT_SOCK, else the agent's default path (Protocol.md, Transport). */
export function defaultSocketPath(env = process.env) {
  if (env.CLAUDE_AGENT_SOCK) return env.CLAUDE_AGENT_SOCK;
  if (env.XDG_RUNTIME_DIR) return path.join(env.XDG_RUNTIME_DIR, 'claude-agent', 'agent.sock');
  return `/tmp/claude-agent-${os.userInfo().uid}/agent.sock`;
}

/** One connection to the agent, opened on first use; calls may overlap (answers come in order). */
export class AgentClient {
  constructor({ socketPath = defaultSocketPath(), timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
    this.socketPath = socketPath;
    this.timeoutMs = timeoutMs;
    this.socket = null;
    this.connecting = null;
    this.buffer = Buffer.alloc(0);
    this.pending = new Map(); // id -> { resolve, reject, timer }
    this.nextId = 1;
  }

  close() {
    this.fail(new AgentError('io', 'the connection was closed'));
  }

  // -- the wire ----------------------------------------------------------------------

  /** Sends one request (`fields` beside `id` and `op`); resolves with its `result`. */
  async call(op, fields = {}, { timeoutMs = this.timeoutMs } = {}) {
    const socket = await this.connected();
    const id = this.nextId++;
    const payload = Buffer.from(JSON.stringify({ ...fields, id, op }), 'utf8');
    const header = Buffer.alloc(4);
    header.writeUInt32BE(payload.length);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // Answers come in order, so a late one would block the ones behind it: start over.
        this.fail(new AgentError('timeout', `the agent did not answer ${op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      socket.write(Buffer.concat([header, payload]));
    });
  }

  connected() {
    if (this.socket) return Promise.resolve(this.socket);
    if (this.connecting) return this.connecting;
    this.connecting = new Promise((resolve, reject) => {
      const socket = net.createConnection(this.socketPath);
      socket.once('connect', () => {
        this.socket = socket;
        this.connecting = null;
        resolve(socket);
      });
      socket.on('error', (error) => {
        if (this.socket !== socket) {
          this.connecting = null;
          reject(new AgentError('agent_not_running',
            `no agent at ${this.socketPath} (${error.code ?? error.message}); start one with: eval "$(claude-agent start)"`));
        } else {
          this.fail(new AgentError('io', `the connection to the agent broke: ${error.message}`));
        }
      });
      socket.on('data', (chunk) => this.received(chunk));
      socket.on('close', () => {
        if (this.socket === socket) this.fail(new AgentError('io', 'the agent closed the connection'));
      });
    });
    return this.connecting;
  }

  received(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 4) {
      const length = this.buffer.readUInt32BE(0);
      if (length < 1 || length > MAX_FRAME_LENGTH) {
        return this.fail(new AgentError('protocol_violation', `the agent sent a frame of ${length} bytes`));
      }
      if (this.buffer.length < 4 + length) return;
      const payload = this.buffer.subarray(4, 4 + length).toString('utf8');
      this.buffer = this.buffer.subarray(4 + length);
      let answer;
      try {
        answer = JSON.parse(payload);
      } catch {
        return this.fail(new AgentError('protocol_violation', 'the agent sent a payload that is not JSON'));
      }
      if (answer === null || typeof answer !== 'object' || Array.isArray(answer)) {
        return this.fail(new AgentError('protocol_violation', 'the agent sent a payload that is not an object'));
      }
      if (answer.id === 0 && answer.ok === false) return this.fail(errorFrom(answer)); // busy, a bad frame
      const waiter = this.pending.get(answer.id);
      if (!waiter) continue; // the answer to a call given up on
      this.pending.delete(answer.id);
      clearTimeout(waiter.timer);
      if (answer.ok === true && answer.result && typeof answer.result === 'object') waiter.resolve(answer.result);
      else waiter.reject(errorFrom(answer));
    }
  }

  /** Rejects every call in flight with `error` and drops the connection. */
  fail(error) {
    const socket = this.socket;
    this.socket = null;
    this.buffer = Buffer.alloc(0);
    socket?.destroy();
    for (const { reject, timer } of this.pending.values()) {
      clearTimeout(timer);
      reject(error);
    }
    this.pending.clear();
  }

  /** Every item of a list op, following `next_cursor` when the agent pages. */
  async paged(op, key, fields = {}) {
    const items = [];
    const seen = new Set();
    let cursor = null;
    for (let page = 0; page < MAX_PAGES; page++) {
      const result = await this.call(op, cursor ? { ...fields, cursor } : fields);
      items.push(...(result[key] ?? []));
      cursor = result.next_cursor;
      if (!cursor) return items;
      if (seen.has(cursor)) throw new AgentError('protocol_violation', `${op} repeated the cursor ${cursor}`);
      seen.add(cursor);
    }
    throw new AgentError('protocol_violation', `${op} kept paging past ${MAX_PAGES} pages`);
  }

  // -- operations --------------------------------------------------------------------

  hello() { return this.call('hello', { protocol: PROTOCOL_VERSION, client: 'claude-agent-client (node)' }); }

  status() { return this.call('status'); }

  /**
   * `token.get`. With `wait`, a person approves when no token is held and `timeoutSeconds`
   * (default 300) bounds the wait; `refresh` forces one refresh first.
   * Resolves with { access_token, token_type, expires_at, scopes, account, account_id, headers }.
   */
  async getToken({ scopes = [], account, wait = false, timeoutSeconds, refresh = false, clientName } = {}) {
    const fields = { scopes: [...scopes] };
    if (account !== undefined && account !== null) fields.account = account;
    if (refresh) fields.refresh = true;
    if (clientName) fields.client_name = clientName;
    let deadlineMs = this.timeoutMs;
    if (wait) {
      const seconds = Math.min(MAX_WAIT_SECONDS, Math.max(1, Math.floor(timeoutSeconds ?? DEFAULT_WAIT_SECONDS)));
      Object.assign(fields, { wait: true, timeout: seconds });
      deadlineMs = (seconds + 10) * 1000; // the agent answers `timeout` first
    }
    fields.timeout_ms = Math.max(1, Math.min(Math.floor(deadlineMs), MAX_TIMEOUT_MS));
    const result = await this.call('token.get', fields, { timeoutMs: deadlineMs });
    if (typeof result.access_token !== 'string' || result.access_token === '') {
      throw new AgentError('protocol_violation', 'the answer holds no access_token');
    }
    return { token_type: 'Bearer', expires_at: null, scopes: [], ...result, headers: { ...(result.headers ?? {}) } };
  }

  listAccounts() { return this.paged('account.list', 'accounts'); }
  addAccount(account, accessToken, fields = {}) {
    return this.call('account.add', { ...fields, account, access_token: accessToken });
  }
  removeAccount(account) { return this.call('account.remove', { account }); }
  lock(passphrase) { return this.call('agent.lock', { passphrase }); }
  unlock(passphrase) { return this.call('agent.unlock', { passphrase }); }

  createRequest({ scopes = [], account, clientName, hostname } = {}) {
    const fields = { scopes: [...scopes] };
    if (account !== undefined) fields.account = account;
    if (clientName) fields.client_name = clientName;
    if (hostname) fields.hostname = hostname;
    return this.call('request.create', fields);
  }
  listRequests() { return this.paged('request.list', 'requests'); }
  getRequest(requestId) { return this.call('request.get', { request_id: requestId }); }
  waitRequest(requestId, { timeoutSeconds = DEFAULT_WAIT_SECONDS } = {}) {
    return this.call('request.wait', { request_id: requestId, timeout: timeoutSeconds },
      { timeoutMs: (timeoutSeconds + 10) * 1000 });
  }
  selectAccount(requestId, account, { printUrl = false } = {}) {
    return this.call('request.select_account', { request_id: requestId, account, print_url: printUrl },
      { timeoutMs: Math.max(this.timeoutMs, 30_000) });
  }
  denyRequest(requestId, { reason } = {}) {
    return this.call('request.deny', reason ? { request_id: requestId, reason } : { request_id: requestId });
  }
  cancelRequest(requestId) { return this.call('request.cancel', { request_id: requestId }); }
}

function errorFrom(answer) {
  const error = answer.error;
  if (error && typeof error.code === 'string') return new AgentError(error.code, String(error.message ?? ''));
  return new AgentError('protocol_violation', 'the agent sent an answer that is neither a result nor an error');
}

async function once(socketPath, body) {
  const client = new AgentClient({ socketPath });
  try {
    return await body(client);
  } finally {
    client.close();
  }
}

/** An access token covering `scopes` from the agent at CLAUDE_AGENT_SOCK (options as AgentClient.getToken). */
export function getToken(options = {}) {
  return once(options.socketPath ?? defaultSocketPath(), (client) => client.getToken(options));
}

/**
 * The headers of one Claude API call, in the order Claude Code resolves credentials (and the
 * Swift AuthResolver): ANTHROPIC_AUTH_TOKEN as a Bearer token, else ANTHROPIC_API_KEY as
 * `x-api-key`, else the agent's token as a Bearer token plus its provider's headers.
 */
export async function authHeaders({ scopes = DEFAULT_SCOPES, account, wait, timeoutSeconds, env = process.env } = {}) {
  if (env.ANTHROPIC_AUTH_TOKEN) return { Authorization: `Bearer ${env.ANTHROPIC_AUTH_TOKEN}` };
  if (env.ANTHROPIC_API_KEY) return { 'x-api-key': env.ANTHROPIC_API_KEY };
  const token = await once(defaultSocketPath(env), (client) => client.getToken({ scopes, account, wait, timeoutSeconds }));
  return { Authorization: `Bearer ${token.access_token}`, ...token.headers };
}

/** Every account the agent holds (summaries, never a secret). */
export function listAccounts({ socketPath = defaultSocketPath() } = {}) {
  return once(socketPath, (client) => client.listAccounts());
}

/** The live (pending and in-progress) token requests. */
export function listRequests({ socketPath = defaultSocketPath() } = {}) {
  return once(socketPath, (client) => client.listRequests());
}

/** The agent's `status` answer (works while locked). */
export function status({ socketPath = defaultSocketPath() } = {}) {
  return once(socketPath, (client) => client.status());
}
