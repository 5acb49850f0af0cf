/// The command line's own waits, polls and sizes, in one place (the agent keeps its
/// limits in AgentCore's `Limits`; the waits a user chooses are in `NumberRange`).
/// Each duration carries its unit in its name.
enum CLILimits {
    /// `start`: how long a new agent has to answer on its socket. It answers within
    /// milliseconds; ten seconds leaves room for a loaded machine's first start.
    static let startWaitMilliseconds: Int64 = 10_000
    /// `start`: how long the probe of an already running agent waits for its `status`. A
    /// live agent answers at once; a hung one should not make `start` hang long.
    static let runningAgentProbeMilliseconds: Int64 = 5_000
    /// `start`: how long each probe of the agent being started waits for its `status`.
    static let startProbeMilliseconds: Int64 = 2_000
    /// `start` and `stop`: the pause between looks at a starting or exiting agent, short
    /// against the few milliseconds an agent takes either way.
    static let lifecyclePollMilliseconds: Int64 = 5
    /// `stop`: how long to wait for the agent's process to exit after it answered (it
    /// removed its socket first, so a slower exit harms no one).
    static let stopWaitMilliseconds: Int64 = 3_000
    /// The most bytes of a failing agent's standard error `start` reads to report it.
    static let startErrorBytes = 4_096
    /// The login callback listener: how long the browser has to send its whole request.
    static let callbackRequestMilliseconds: Int64 = 5_000
    /// The login callback listener: bytes asked of each `read` of the browser's request
    /// (a whole request, usually; `HTTPParser` bounds the total).
    static let callbackReadChunkBytes = 8_192
}
