// AgentCrypto
