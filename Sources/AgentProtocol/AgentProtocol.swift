// AgentProtocol
