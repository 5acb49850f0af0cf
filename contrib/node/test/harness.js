// Runs the built agent (claude-agentd) and bridge (claude-agent bridge) for the tests, on a
// real socket in a private XDG_RUNTIME_DIR. Binaries come from CLAUDE_AGENT_BIN_DIR, else the
// repository's .build/debug; a missing binary fails the run (scripts/test builds them first).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, openSync, closeSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const repository = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const binaries = process.env.CLAUDE_AGENT_BIN_DIR || path.join(repository, '.build', 'debug');
const POLL_MS = 20;
const POLL_ATTEMPTS = 500; // 10 s in all: every wait is bounded

export async function waitUntil(predicate, what) {
  for (let attempt = 0; attempt < POLL_ATTEMPTS; attempt++) {
    const value = await predicate();
    if (value) return value;
    await sleep(POLL_MS);
  }
  throw new Error(`gave up waiting for ${what}`);
}

function binary(name) {
  const file = path.join(binaries, name);
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`swift build\` first (or set CLAUDE_AGENT_BIN_DIR)`);
  return file;
}

function exited(child) {
  return child.exitCode !== null || child.signalCode !== null;
}

async function stopChild(child) {
  if (exited(child)) return;
  const done = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await done;
}

/** Starts claude-agentd; `config` (an object) becomes its --config file. */
export async function startAgent({ config } = {}) {
  const runtimeDir = mkdtempSync(path.join(os.tmpdir(), 'claude-agent-node-'));
  const socketPath = path.join(runtimeDir, 'claude-agent', 'agent.sock');
  const env = { ...process.env, XDG_RUNTIME_DIR: runtimeDir, CLAUDE_AGENT_SOCK: socketPath };
  delete env.ANTHROPIC_API_KEY;
  delete env.ANTHROPIC_AUTH_TOKEN;
  delete env.CLAUDE_ROUTER_URL;
  const args = [];
  if (config) {
    const file = path.join(runtimeDir, 'config.json');
    writeFileSync(file, JSON.stringify(config));
    args.push('--config', file);
  }
  const log = openSync(path.join(runtimeDir, 'agent.log'), 'w');
  const child = spawn(binary('claude-agentd'), args, { env, stdio: ['ignore', log, log] });
  closeSync(log);
  await waitUntil(() => existsSync(socketPath) || exited(child), "the agent's socket");
  if (exited(child)) throw new Error(`claude-agentd exited: ${readFileSync(path.join(runtimeDir, 'agent.log'), 'utf8')}`);
  return {
    runtimeDir, socketPath, env,
    async stop() {
      await stopChild(child);
      rmSync(runtimeDir, { recursive: true, force: true });
    },
  };
}

/** Starts `claude-agent bridge` on a free loopback port for `agent`; resolves its URL once it serves. */
export async function startBridge(agent) {
  const child = spawn(binary('claude-agent'), ['bridge', '--listen', '127.0.0.1:0', '-a', agent.socketPath],
    { env: agent.env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text) => { stderr += text; });
  const url = await waitUntil(() => {
    if (exited(child)) throw new Error(`claude-agent bridge exited: ${stderr}`);
    return /Bridge listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
  }, 'the bridge to listen');
  const secretFile = path.join(path.dirname(agent.socketPath), 'bridge.token');
  await waitUntil(() => existsSync(secretFile), 'bridge.token');
  return { url, stop: () => stopChild(child) };
}
