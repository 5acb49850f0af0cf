// claude-agent clients for Node (Protocol.md version 1, Bridge.md): see README.md in contrib/.
export * from './agent.js';
export * from './bridge.js';
