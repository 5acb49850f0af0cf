// swift-tools-version:6.0
// claude-agent: a per-user OAuth token agent for Claude tools, in the style of ssh-agent.
// No package dependencies by design: Foundation and Glibc only.
import PackageDescription

/// The CLI runs inside `$(...)`: link its Swift runtime statically so it starts in ~2 ms.
/// The agent too, so that it maps no shared Swift library: it links no Foundation (its
/// HTTPS goes through claude-agent-fetch) and idles at a fraction of the memory.
let staticStdlib: [LinkerSetting] = [.unsafeFlags(["-static-stdlib"])]

/// Programs that link static archives use the toolchain's lld. gold copies every
/// `.gnu.warning` note of glibc into the build log when a static archive merely references
/// a function (`dlopen` in the Swift runtime's prespecialization lookup, `mktemp` in
/// Foundation's temporary-file fallback); our code calls neither, and a build should print
/// no warning that is not ours to act on. lld ships with every Swift toolchain for Linux.
let staticLinker = "-use-ld=lld"

/// The CLI links glibc statically too: no dynamic loader at all, so `claude-agent token`
/// starts in about half the time (BENCHMARKS.md). A static glibc cannot load NSS modules,
/// so this is only for a program that never resolves a name or looks up a user: the CLI
/// talks to a Unix socket and to loopback literals (a test checks that no getaddrinfo,
/// gethostbyname or getpw* is linked in). The agent and the HTTPS helper stay dynamic.
let staticExecutable: [LinkerSetting] = [.unsafeFlags(["-static-executable", staticLinker])]

/// The HTTPS helper's Foundation, linked statically. The modules were compiled against the
/// shared Foundation (tests link it too), so their autolink entries name the shared
/// libraries' dependencies; the static archives' own C parts are named here instead.
let staticFoundation: [LinkerSetting] = [.unsafeFlags([
    "-static-stdlib", staticLinker, "-Xlinker", "--start-group",
    "-lFoundationNetworking", "-l_CFURLSessionInterface", "-lFoundation", "-lCoreFoundation",
    "-lFoundationInternationalization", "-l_FoundationICU", "-lFoundationEssentials", "-l_FoundationCShims",
    "-l_FoundationCollections", "-lswiftSynchronization", "-lswiftDispatch", "-ldispatch", "-lBlocksRuntime",
    "-Xlinker", "--end-group", "-lcurl",
])]

let package = Package(
    name: "claude-agent",
    products: [
        .library(name: "ClaudeAgentClient", targets: ["ClaudeAgentClient"]),
        .executable(name: "claude-agent", targets: ["claude-agent"]),
        .executable(name: "claude-agentd", targets: ["claude-agentd"]),
        .executable(name: "claude-agent-bridge", targets: ["claude-agent-bridge"]),
        .executable(name: "claude-agent-fetch", targets: ["claude-agent-fetch"]),
        .executable(name: "claude-agent-endpoint", targets: ["claude-agent-endpoint"]),
    ],
    targets: [
        .target(name: "CAgentShim"),
        .target(name: "AgentPOSIX", dependencies: ["CAgentShim"]),
        .target(name: "AgentCrypto"),
        .target(name: "AgentProtocol"),
        // The one HTTP/1.1 codec (RFC 9112): the bridge's and the endpoint's server, the CLI's
        // callback listener and the agent's loopback client all read and write HTTP with it.
        .target(name: "HTTPCodec", dependencies: ["AgentProtocol"]),
        // The argument parser and option tables the executables share (no Foundation: the
        // CLI is a static executable); claude-agentd's options are declared here once.
        .target(name: "AgentArguments", dependencies: ["AgentProtocol", "AgentPOSIX"]),
        .target(name: "AgentCore", dependencies: ["AgentProtocol", "AgentPOSIX", "AgentCrypto", "AgentTransport", "OAuth"]),
        .target(name: "OAuth", dependencies: ["AgentProtocol", "AgentCrypto", "AgentPOSIX", "AgentTransport", "HTTPCodec"]),
        // HTTP exchanges, the helper's wire format and the transports that carry them
        // (through claude-agent-fetch, or straight to a loopback address); no Foundation.
        .target(name: "AgentTransport", dependencies: ["AgentProtocol", "AgentCrypto", "AgentPOSIX", "HTTPCodec"]),
        // The URLSession setup every Foundation HTTP client here starts from (no cache, no
        // cookies, no stored credentials): its own target, so the endpoint shares it without
        // linking AgentTransport.
        .target(name: "FoundationSession"),
        // The helper's URLSession transport; only claude-agent-fetch and tests use it.
        .target(name: "FoundationTransport", dependencies: ["AgentTransport", "FoundationSession"]),
        .target(name: "ClaudeAgentClient", dependencies: ["AgentProtocol", "AgentPOSIX"]),
        .target(name: "HTTPBridge", dependencies: ["AgentProtocol", "HTTPCodec", "AgentPOSIX", "AgentCrypto", "ClaudeAgentClient"]),
        .executableTarget(
            name: "claude-agent",
            dependencies: ["ClaudeAgentClient", "AgentProtocol", "AgentPOSIX", "AgentArguments", "HTTPCodec", "OAuth"],
            linkerSettings: staticExecutable),
        .executableTarget(name: "claude-agentd", dependencies: ["AgentCore", "AgentArguments"], linkerSettings: staticStdlib),
        // The HTTP bridge (`claude-agent bridge` execs it), so the CLI links no HTTP server.
        .executableTarget(
            name: "claude-agent-bridge",
            dependencies: ["HTTPBridge", "ClaudeAgentClient", "AgentProtocol", "AgentPOSIX", "AgentArguments"],
            linkerSettings: staticStdlib),
        // The local API endpoint's logic, without an HTTP client (the executable brings URLSession).
        .target(name: "ClaudeEndpoint", dependencies: ["HTTPBridge", "HTTPCodec", "ClaudeAgentClient", "AgentProtocol", "AgentPOSIX"]),
        // Links FoundationNetworking for HTTPS upstream, as claude-agent-fetch does, and
        // statically like it; the CLI only execs it.
        .executableTarget(
            name: "claude-agent-endpoint",
            dependencies: [
                "ClaudeEndpoint", "ClaudeAgentClient", "AgentArguments", "HTTPBridge", "AgentPOSIX", "AgentProtocol", "FoundationSession",
            ],
            linkerSettings: staticFoundation),
        // The HTTPS helper links Foundation statically too, so no installed executable needs
        // the toolchain's shared libraries; it still links the system's libcurl (libcurl4),
        // as FoundationNetworking does (building needs libcurl4-openssl-dev for -lcurl).
        .executableTarget(
            name: "claude-agent-fetch",
            dependencies: ["FoundationTransport", "AgentTransport", "AgentPOSIX", "AgentProtocol", "AgentArguments"],
            linkerSettings: staticFoundation),
        // The benchmark against ssh-agent (scripts/bench); not a product, never installed.
        .executableTarget(name: "claude-agent-bench", dependencies: ["AgentProtocol", "AgentPOSIX", "HTTPCodec"]),
        .testTarget(name: "AgentProtocolTests", dependencies: ["AgentProtocol"]),
        .testTarget(name: "AgentCryptoTests", dependencies: ["AgentCrypto"]),
        .testTarget(name: "HTTPCodecTests", dependencies: ["HTTPCodec"]),
        .testTarget(name: "HTTPBridgeTests", dependencies: ["HTTPBridge", "HTTPCodec", "AgentProtocol", "AgentPOSIX", "ClaudeAgentClient"]),
        .testTarget(name: "ClaudeEndpointTests", dependencies: ["ClaudeEndpoint", "HTTPCodec", "HTTPBridge", "AgentProtocol"]),
        .testTarget(name: "AgentCoreTests", dependencies: ["AgentCore", "AgentProtocol", "AgentPOSIX", "AgentTransport", "OAuth"]),
        .testTarget(name: "AgentTransportTests", dependencies: ["AgentTransport", "HTTPCodec", "AgentProtocol"]),
        .testTarget(
            name: "OAuthTests", dependencies: ["OAuth", "AgentTransport", "FoundationTransport", "AgentCrypto", "AgentProtocol", "AgentPOSIX"],
            exclude: ["fake_token_endpoint.py"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["ClaudeAgentClient", "AgentProtocol", "AgentPOSIX", "AgentArguments"]),
    ],
    swiftLanguageModes: [.v6]
)
