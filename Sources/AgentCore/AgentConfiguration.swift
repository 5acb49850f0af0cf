/// Everything the agent is started with; the daemon's argument parser fills it in.
public struct AgentConfiguration: Sendable {
    /// The socket to listen on.
    public var socketPath: String
    /// Whether the socket's directory is the default private one, which the agent creates
    /// 0700 and checks (owner and mode), and removes at exit if it made it and it is empty.
    public var managesDirectory: Bool
    /// Default lifetime of an added token, in seconds (`-t`, as ssh-agent); nil: forever.
    public var defaultLifetime: Int64?
    /// A token this close to its expiry counts as expired, in seconds.
    public var expirySkew: Int64
    /// The version reported by `hello` and `status`.
    public var version: String

    public init(socketPath: String, managesDirectory: Bool, defaultLifetime: Int64? = nil,
                expirySkew: Int64 = 60, version: String) {
        self.socketPath = socketPath
        self.managesDirectory = managesDirectory
        self.defaultLifetime = defaultLifetime
        self.expirySkew = expirySkew
        self.version = version
    }
}
