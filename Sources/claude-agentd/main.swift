// claude-agentd: the agent itself. `claude-agent start` runs it detached and
// `claude-agent serve` in the foreground; it only parses arguments and runs AgentCore.
import AgentCore
import AgentPOSIX
import AgentProtocol
import OAuth

let usage = """
    usage: claude-agentd [-a SOCKET] [-t SECONDS] [--skew SECONDS] [--config FILE]
                         [--refresh-ahead] [--import FILE]... [--persist FILE] [--import-account NAME]

    Runs the claude-agent token agent in the foreground, logging to standard error.
    Normally started by `claude-agent start` (detached) or `claude-agent serve`.
    Token refreshes, code exchanges and revocations each run a short-lived
    claude-agent-fetch, so the agent itself links no HTTP or TLS code.
    Started by systemd with a socket (LISTEN_FDS, contrib/claude-agent.socket) it serves
    that socket; with NOTIFY_SOCKET it reports READY=1 and STOPPING=1 (Type=notify).

    options:
      -a SOCKET              listen on SOCKET instead of $XDG_RUNTIME_DIR/claude-agent/agent.sock
      -t SECONDS             forget added tokens after SECONDS (1 to 315576000, ten years)
                             unless the add says otherwise
      --skew SECONDS         treat tokens this close to expiry as expired (default 60;
                             0 to 315576000)
      --config FILE          provider configuration (default $XDG_CONFIG_HOME/claude-agent/config.json;
                             also CLAUDE_AGENT_CONFIG)
      --refresh-ahead        refresh tokens in the background at about 2/3 of their life
      --import FILE          import a credentials file at start (Claude Code's .credentials.json
                             or the seed CLI's credentials.json)
      --persist FILE         import FILE and write rotated tokens back to it
      --import-account NAME  the account name for imported files (default "default")
      --callback-url URL     where providers redirect after an approval (default
                             http://127.0.0.1:7777/oauth/callback, the bridge)
      --idle-timeout SECONDS close connections idle this long (default 60; 1 to 315576000)
      --fetch-helper PATH    the program that makes each HTTPS exchange (default
                             claude-agent-fetch beside claude-agentd, else on PATH)
      --no-forward           refuse connections forwarded through ssh (whose peer is ssh or sshd)
      --refresh-timeout SECONDS
                             each attempt's time-out at a token endpoint, 1 to 600 (default
                             30, or the configuration's refresh_timeout_seconds)
      --socket-check-interval MILLISECONDS
                             how often to check that the socket is still ours (default
                             60000; a shorter one is for tests, which cannot wait a minute)
      --version              print the version and exit
      -h, --help             print this help and exit

    """

/// One line, `claude-agentd: <code>: <message>`, and the exit status the shared table
/// gives the code (`claude-agent start` passes the line on under its own name).
func fail(_ code: ErrorCode, _ message: String) -> Never {
    try? FileDescriptor.standardError.writeAll(Array("claude-agentd: \(code.rawValue): \(message)\n".utf8))
    ProcessControl.exit(ExitCode(code).rawValue)
}

func usageError(_ message: String) -> Never {
    fail(.usage, "\(message) (see 'claude-agentd --help')")
}

var socketPath: String?
var lifetime: Int64?
var skew: Int64 = 60
var configPath: String?
var refreshAhead = false
var importPaths: [(String, Bool)] = []
var importAccount = "default"
var callbackURL = "http://127.0.0.1:7777/oauth/callback"
var idleTimeout: Int64 = 60
var fetchHelper: String?
var refusesForwarded = false
var refreshTimeout: Int64?
var socketCheckInterval: Int64 = Limits.socketCheckIntervalMilliseconds
var arguments = CommandLine.arguments.dropFirst()

// Swift 6 isolates main.swift's top-level variables to the main actor, on which its
// top-level code runs; the helpers that read them run there too.
@MainActor
func value(_ option: String) -> String {
    guard let text = arguments.popFirst() else { usageError("\(option) needs a value") }
    return text
}

/// A whole number of `unit` within `range` (`NumberRange`), else a usage error (exit 2).
@MainActor
func number(_ option: String, in range: ClosedRange<Int64>, unit: String) -> Int64 {
    let text = value(option)
    guard let value = Int64(text), range.contains(value) else {
        usageError("\(option) needs a whole number of \(unit) \(NumberRange.describe(range, unit: "")), not \"\(text)\"")
    }
    return value
}

@MainActor
func seconds(_ option: String, in range: ClosedRange<Int64>) -> Int64 {
    number(option, in: range, unit: "seconds")
}

while let argument = arguments.popFirst() {
    switch argument {
    case "-a", "--socket": socketPath = value(argument)
    case "-t", "--lifetime": lifetime = seconds(argument, in: NumberRange.durationSeconds)
    case "--skew": skew = seconds(argument, in: NumberRange.offsetSeconds)
    case "--config": configPath = value(argument)
    case "--refresh-ahead": refreshAhead = true
    case "--import": importPaths.append((value(argument), false))
    case "--persist": importPaths.append((value(argument), true))
    case "--import-account": importAccount = value(argument)
    case "--callback-url": callbackURL = value(argument)
    case "--idle-timeout": idleTimeout = seconds(argument, in: NumberRange.durationSeconds)
    case "--fetch-helper": fetchHelper = value(argument)
    case "--no-forward": refusesForwarded = true
    case "--refresh-timeout": refreshTimeout = seconds(argument, in: AgentSettings.refreshTimeoutRange)
    case "--socket-check-interval": socketCheckInterval = number(argument, in: 10...3_600_000, unit: "milliseconds")
    case "--version":
        print("claude-agentd \(agentVersion)")
        ProcessControl.exit(0)
    case "-h", "--help":
        print(usage, terminator: "")
        ProcessControl.exit(0)
    default:
        usageError("unknown argument \"\(argument)\"")
    }
}

/// The configuration file: --config, else CLAUDE_AGENT_CONFIG, else the XDG default, which
/// may be absent (the built-in Claude provider is used then).
@MainActor
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
        fail(.badConfiguration, "\(error)")
    } catch {
        fail(.badConfiguration, "cannot read \(path): \(error)")
    }
    do {
        return try settings.applyingEnvironment(environment)
    } catch {
        fail(.badConfiguration, "\(error)")
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
    fail(.startFailed, "\(error)")
}
if let inherited, let socketPath, socketPath != inherited.path {
    Log.info("serving the socket passed by the service manager, \(inherited.path), not -a \(socketPath)")
}

var configuration = AgentConfiguration(
    socketPath: inherited?.path ?? socketPath ?? SocketPath.defaultPath(),
    managesDirectory: socketPath == nil && inherited == nil,
    defaultLifetimeSeconds: lifetime,
    expirySkewSeconds: skew,
    version: agentVersion,
    settings: settings,
    refreshAhead: refreshAhead,
    imports: importPaths.map { CredentialsImport(path: $0.0, account: importAccount, persist: $0.1) },
    callbackURL: callbackURL)
configuration.idleTimeoutMilliseconds = idleTimeout.saturatingMultiplied(by: 1000)
configuration.fetchHelperPath = fetchHelper
configuration.inheritedListener = inherited
configuration.notifySocketPath = ServiceManager.takeNotifySocket()
configuration.refusesForwarded = refusesForwarded
configuration.refreshTimeoutSeconds = refreshTimeout ?? settings.refreshTimeoutSeconds ?? configuration.refreshTimeoutSeconds
configuration.socketCheckIntervalMilliseconds = socketCheckInterval
do {
    let agent = try Agent(configuration: configuration)
    try agent.start()
    try agent.run()
} catch let error as AgentError {
    fail(error.code, error.message)
} catch {
    fail(.startFailed, "\(error)")
}
