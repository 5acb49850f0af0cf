print("claude-agent")
