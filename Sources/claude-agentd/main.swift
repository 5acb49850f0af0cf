// claude-agentd: the agent itself. `claude-agent start` runs it detached and
// `claude-agent serve` in the foreground; it only parses arguments and runs AgentCore.
import AgentArguments
import AgentCore
import AgentPOSIX
import AgentProtocol
import OAuth

/// claude-agentd's command line; it fails with one line, `claude-agentd: <code>: <message>`,
/// and the exit status the shared table gives the code (`claude-agent start` passes the
/// line on under its own name).
let program = CommandLineProgram(
    name: "claude-agentd", options: DaemonOptions.all, synopsis: "[-a SOCKET] [-t SECONDS] [agent options]",
    description: """
        Runs the claude-agent token agent in the foreground, logging to standard error.
        Normally started by `claude-agent start` (detached) or `claude-agent serve`.
        Token refreshes, code exchanges and revocations each run a short-lived
        claude-agent-fetch, so the agent itself links no HTTP or TLS code.
        Started by systemd with a socket (LISTEN_FDS, contrib/claude-agent.socket) it serves
        that socket; with NOTIFY_SOCKET it reports READY=1 and STOPPING=1 (Type=notify).
        """)
let parsed = program.parse()

let socketPath = parsed.value("-a")
let lifetimeSeconds = program.number(parsed, "-t", in: NumberRange.durationSeconds, unit: "seconds")
let skew = program.number(parsed, "--skew", in: NumberRange.offsetSeconds, unit: "seconds") ?? NumberRange.defaultExpirySkewSeconds
let configPath = parsed.value("--config")
let refreshAhead = parsed.has("--refresh-ahead")
// In the order given: each import reads its file, and a later one of the same account wins.
let importPaths: [(String, Bool)] = parsed.ordered.compactMap { option in
    guard let value = option.value, option.name == "--import" || option.name == "--persist" else { return nil }
    return (value, option.name == "--persist")
}
let importAccount = parsed.value("--import-account") ?? AccountName.defaultName
let callbackURL = parsed.value("--callback-url") ?? AgentConfiguration.defaultCallbackURL
let idleTimeoutSeconds = program.number(parsed, "--idle-timeout", in: NumberRange.durationSeconds, unit: "seconds")
let fetchHelper = parsed.value("--fetch-helper")
let refusesForwarded = parsed.has("--no-forward")
let refreshTimeoutSeconds = program.number(parsed, "--refresh-timeout", in: AgentSettings.refreshTimeoutRange, unit: "seconds")
let socketCheckIntervalMilliseconds = program.number(parsed, "--socket-check-interval", in: NumberRange.socketCheckIntervalMilliseconds, unit: "milliseconds")
    ?? Limits.socketCheckIntervalMilliseconds

/// The configuration file: --config, else CLAUDE_AGENT_CONFIG, else the XDG default, which
/// may be absent (the built-in Claude provider is used then).
func loadSettings() -> AgentSettings {
    let environment = ProcessControl.environmentDictionary()
    let explicit = configPath ?? environment["CLAUDE_AGENT_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
    let configHome = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
        ?? (environment["HOME"] ?? "") + "/.config"
    let path = explicit ?? configHome + "/claude-agent/config.json"
    var settings = AgentSettings.builtIn
    do {
        let bytes = try FileSystem.readFile(path)
        settings = try AgentSettings.parse(bytes, path: path)
    } catch let error as Errno where error == .noSuchFile && explicit == nil {
        // No configuration file: the built-in provider.
    } catch let error as ConfigurationError {
        program.fail(.badConfiguration, "\(error)")
    } catch {
        program.fail(.badConfiguration, "cannot read \(path): \(error)")
    }
    do {
        return try settings.applyingEnvironment(environment)
    } catch {
        program.fail(.badConfiguration, "\(error)")
    }
}

if let ignored = SocketPath.ignoredRuntimeDirectory() {
    try? FileDescriptor.standardError.writeAll(Array("claude-agentd: \(SocketPath.ignoredRuntimeDirectoryWarning(ignored))\n".utf8))
}
let settings = loadSettings()
// Socket activation: a socket passed by the service manager replaces -a and the default.
let inherited: InheritedListener?
do {
    inherited = try InheritedListener.fromServiceManager()
} catch {
    program.fail(.startFailed, "\(error)")
}
if let inherited, let socketPath, socketPath != inherited.path {
    Log.info("serving the socket passed by the service manager, \(inherited.path), not -a \(socketPath)")
}
// Descriptors inherited by accident are closed before the agent opens any of its own
// (InheritedDescriptors says which stay, and why).
do throws(Errno) {
    try InheritedDescriptors.close(keeping: (inherited.map { [$0.fd.rawValue] } ?? [])
        + InheritedDescriptors.named(by: [configPath] + importPaths.map(\.0)))
} catch {
    Log.info("warning: descriptors inherited from the parent stay open: \(error)")
}

var configuration = AgentConfiguration(
    socketPath: inherited?.path ?? socketPath ?? SocketPath.defaultPath(),
    managesDirectory: socketPath == nil && inherited == nil,
    defaultLifetimeSeconds: lifetimeSeconds,
    expirySkewSeconds: skew,
    version: agentVersion,
    settings: settings,
    refreshAhead: refreshAhead,
    imports: importPaths.map { CredentialsImport(path: $0.0, account: importAccount, persist: $0.1) },
    callbackURL: callbackURL)
if let idleTimeoutSeconds { configuration.idleTimeoutMilliseconds = idleTimeoutSeconds.saturatingMultiplied(by: 1000) }
configuration.fetchHelperPath = fetchHelper
configuration.inheritedListener = inherited
configuration.notifySocketPath = ServiceManager.takeNotifySocket()
configuration.refusesForwarded = refusesForwarded
if let refreshTimeoutSeconds { configuration.settings.refreshTimeoutSeconds = refreshTimeoutSeconds }
configuration.socketCheckIntervalMilliseconds = socketCheckIntervalMilliseconds
do {
    let agent = try Agent(configuration: configuration)
    try agent.start()
    try agent.run()
} catch let error as AgentError {
    program.fail(error.code, error.message)
} catch {
    program.fail(.startFailed, "\(error)")
}
