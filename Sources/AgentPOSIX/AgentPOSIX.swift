// AgentPOSIX
