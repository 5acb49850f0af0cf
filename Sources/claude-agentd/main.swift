print("claude-agentd")
