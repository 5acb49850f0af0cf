/// The exit status of `claude-agent` and `claude-agentd` for every error code: the one
/// place that maps them, so the README's table and `--help` describe every program alike.
///
/// A code missing from `table` is "any other error" (7); a new code that belongs in
/// another row is one more line here.
public enum ExitCode: Int32, Sendable, CaseIterable {
    case success = 0
    /// No agent answers at the socket.
    case noAgent = 1
    /// A usage error or bad input: arguments, the configuration, a token bundle.
    case usage = 2
    /// No token covers the request.
    case noToken = 3
    /// The token expired and could not be refreshed.
    case expired = 4
    case locked = 5
    /// A person or the clock said no.
    case denied = 6
    /// Any other error.
    case failure = 7
    /// `exec`'s COMMAND was found but could not be run (as sh and env(1)).
    case commandNotExecutable = 126
    /// `exec`'s COMMAND was not found (as sh and env(1)).
    case commandNotFound = 127

    /// Every code that does not exit 7, by row of the README's table.
    public static let table: [(ExitCode, [ErrorCode])] = [
        (.noAgent, [.agentNotRunning, .io]),
        (.usage, [.usage, .badRequest, .badConfiguration, .invalidState]),
        (.noToken, [.noToken, .notFound]),
        (.expired, [.expired, .loginRequired, .rotationLost, .refreshFailed]),
        (.locked, [.locked]),
        (.denied, [.denied, .cancelled, .timeout, .requestFailed]),
        (.commandNotExecutable, [.commandNotExecutable]),
        (.commandNotFound, [.commandNotFound]),
    ]

    private static let byCode: [ErrorCode: ExitCode] = {
        var map: [ErrorCode: ExitCode] = [:]
        for (exit, codes) in table { for code in codes { map[code] = exit } }
        return map
    }()

    /// The status a program exits with after failing with `code`.
    public init(_ code: ErrorCode) {
        self = Self.byCode[code] ?? .failure
    }
}
