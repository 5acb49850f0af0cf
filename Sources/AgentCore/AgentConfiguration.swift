import AgentProtocol
import AgentTransport

/// A credentials file to import at start (`--import`, `--persist`).
public struct CredentialsImport: Sendable {
    public var path: String
    public var account: String
    /// Write rotated tokens back to the file.
    public var persist: Bool

    public init(path: String, account: String, persist: Bool) {
        self.path = path
        self.account = account
        self.persist = persist
    }
}

/// Everything the agent is started with; the daemon's argument parser fills it in. The
/// providers and what the configuration file and environment set are `settings`.
public struct AgentConfiguration: Sendable {
    /// The socket to listen on.
    public var socketPath: String
    /// Whether the socket's directory is the default private one, which the agent creates
    /// 0700 and checks (owner and mode), and removes at exit if it made it and it is empty.
    public var managesDirectory: Bool
    /// Default lifetime of an added token, in seconds (`-t`, as ssh-agent); nil: forever.
    public var defaultLifetimeSeconds: Int64?
    /// A token this close to its expiry counts as expired, in seconds (`--skew`; see
    /// `ExpiryRule`).
    public var expirySkewSeconds: Int64
    /// The version reported by `hello` and `status`.
    public var version: String
    /// OAuth providers, their time-out and the control browser.
    public var settings: AgentSettings
    /// Refresh tokens in the background before they expire.
    public var refreshAhead: Bool
    /// Credentials files to import at start.
    public var imports: [CredentialsImport]
    /// Where the provider redirects after an approval (the bridge's `/oauth/callback`),
    /// unless the provider has a fixed redirect or the approver gives its own.
    public var callbackURL: String
    /// A connection with nothing in flight and no bytes for this long is closed.
    public var idleTimeoutMilliseconds: Int64 = Limits.idleTimeoutMilliseconds
    /// How often the agent checks that its socket is still its own (see `checkSocket`).
    public var socketCheckIntervalMilliseconds: Int64 = Limits.socketCheckIntervalMilliseconds
    /// The program that performs each HTTP exchange (`claude-agent-fetch`); nil finds it
    /// beside the agent's executable, else on PATH, at each exchange.
    public var fetchHelperPath: String?
    /// A listening socket passed by the service manager (socket activation), served
    /// instead of binding `socketPath`; see `InheritedListener`.
    public var inheritedListener: InheritedListener?
    /// The service manager's notification socket (`NOTIFY_SOCKET`): `READY=1` is sent
    /// there once clients can connect and `STOPPING=1` when shutting down (sd_notify(3)).
    public var notifySocketPath: String?
    /// Refuse connections whose peer is an `ssh` or `sshd` process, i.e. that come through
    /// a forwarded socket (`--no-forward`); see `Forwarding`.
    public var refusesForwarded = false
    /// Where the agent reads the time; tests pass one they advance by hand.
    public var clock: any AgentClock = SystemClock()
    /// How the agent makes HTTP exchanges (refresh, code exchange, revocation, the control
    /// browser); nil: plain HTTP to loopback in process, anything else through
    /// `fetchHelperPath`. Tests pass a token endpoint played in process.
    public var transport: (any HTTPTransport)?

    /// `--callback-url`'s default: the bridge's callback at its default address.
    public static let defaultCallbackURL = "http://127.0.0.1:7777/oauth/callback"

    public init(socketPath: String, managesDirectory: Bool, defaultLifetimeSeconds: Int64? = nil,
                expirySkewSeconds: Int64 = NumberRange.defaultExpirySkewSeconds, version: String, settings: AgentSettings = .builtIn,
                refreshAhead: Bool = false, imports: [CredentialsImport] = [],
                callbackURL: String = defaultCallbackURL) {
        self.socketPath = socketPath
        self.managesDirectory = managesDirectory
        self.defaultLifetimeSeconds = defaultLifetimeSeconds
        self.expirySkewSeconds = expirySkewSeconds
        self.version = version
        self.settings = settings
        self.refreshAhead = refreshAhead
        self.imports = imports
        self.callbackURL = callbackURL
    }
}
