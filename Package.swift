// swift-tools-version:6.0
// claude-agent: a per-user OAuth token agent for Claude tools, in the style of ssh-agent.
// No package dependencies by design: Foundation and Glibc only.
import PackageDescription

/// The CLI runs inside `$(...)`: link its Swift runtime statically so it starts in ~2 ms.
/// The agent too, so that it maps no shared Swift library: it links no Foundation (its
/// HTTPS goes through claude-agent-fetch) and idles at a fraction of the memory.
let staticStdlib: [LinkerSetting] = [.unsafeFlags(["-static-stdlib"])]

let package = Package(
    name: "claude-agent",
    products: [
        .library(name: "ClaudeAgentClient", targets: ["ClaudeAgentClient"]),
        .executable(name: "claude-agent", targets: ["claude-agent"]),
        .executable(name: "claude-agentd", targets: ["claude-agentd"]),
        .executable(name: "claude-agent-fetch", targets: ["claude-agent-fetch"]),
        .executable(name: "claude-agent-endpoint", targets: ["claude-agent-endpoint"]),
    ],
    targets: [
        .target(name: "CAgentShim"),
        .target(name: "AgentPOSIX", dependencies: ["CAgentShim"]),
        .target(name: "AgentCrypto"),
        .target(name: "AgentProtocol"),
        .target(name: "AgentCore", dependencies: ["AgentProtocol", "AgentPOSIX", "AgentCrypto", "OAuth"]),
        .target(name: "OAuth", dependencies: ["AgentProtocol", "AgentCrypto", "AgentPOSIX"]),
        // The only target that links FoundationNetworking; only claude-agent-fetch and tests use it.
        .target(name: "FoundationTransport", dependencies: ["OAuth"]),
        .target(name: "ClaudeAgentClient", dependencies: ["AgentProtocol", "AgentPOSIX"]),
        .target(name: "HTTPBridge", dependencies: ["AgentProtocol", "AgentPOSIX", "AgentCrypto", "ClaudeAgentClient"]),
        .executableTarget(
            name: "claude-agent",
            dependencies: ["ClaudeAgentClient", "AgentProtocol", "AgentPOSIX", "HTTPBridge"],
            linkerSettings: staticStdlib),
        .executableTarget(name: "claude-agentd", dependencies: ["AgentCore"], linkerSettings: staticStdlib),
        // The local API endpoint's logic, without an HTTP client (the executable brings URLSession).
        .target(name: "ClaudeEndpoint", dependencies: ["HTTPBridge", "ClaudeAgentClient", "AgentProtocol", "AgentPOSIX"]),
        // Links FoundationNetworking for HTTPS upstream, as claude-agent-fetch does; the CLI only execs it.
        .executableTarget(
            name: "claude-agent-endpoint", dependencies: ["ClaudeEndpoint", "HTTPBridge", "AgentPOSIX", "AgentProtocol"]),
        .executableTarget(
            name: "claude-agent-fetch", dependencies: ["FoundationTransport", "OAuth", "AgentPOSIX", "AgentProtocol"]),
        // The benchmark against ssh-agent (scripts/bench); not a product, never installed.
        .executableTarget(name: "claude-agent-bench", dependencies: ["AgentProtocol", "AgentPOSIX"]),
        .testTarget(name: "AgentProtocolTests", dependencies: ["AgentProtocol"]),
        .testTarget(name: "AgentCryptoTests", dependencies: ["AgentCrypto"]),
        .testTarget(name: "HTTPBridgeTests", dependencies: ["HTTPBridge", "AgentProtocol", "AgentPOSIX", "ClaudeAgentClient"]),
        .testTarget(name: "ClaudeEndpointTests", dependencies: ["ClaudeEndpoint", "HTTPBridge", "AgentProtocol"]),
        .testTarget(name: "AgentCoreTests", dependencies: ["AgentCore", "AgentProtocol", "AgentPOSIX", "OAuth"]),
        .testTarget(
            name: "OAuthTests", dependencies: ["OAuth", "FoundationTransport", "AgentCrypto", "AgentProtocol", "AgentPOSIX"],
            exclude: ["fake_token_endpoint.py"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["ClaudeAgentClient", "AgentProtocol", "AgentPOSIX"]),
    ],
    swiftLanguageModes: [.v5]
)
