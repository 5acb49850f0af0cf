// ClaudeAgentClient
