/// The benchmark's own waits, polls and time-outs, in one place; each duration carries
/// its unit in its name. None of them is measured: they bound how long the benchmark
/// waits for something to start or finish, so a broken run stops with a reason instead
/// of hanging. What a scenario measures, and with which load, stays beside it.
enum BenchLimits {
    /// How long a started agent, ssh-agent, bridge or endpoint has to listen. Each does
    /// within milliseconds; ten seconds leaves room for a loaded machine.
    static let listenWaitMilliseconds: Int64 = 10_000
    /// The pause between looks at a socket that does not listen yet: short against the
    /// few milliseconds an agent takes to start.
    static let socketPollMilliseconds: Int64 = 5
    /// The pause between HTTP probes of a starting bridge or endpoint: each probe is a
    /// whole connection, so they are spaced wider than the socket's.
    static let httpPollMilliseconds: Int64 = 10
    /// Scenario 5: the `timeout` of the tool's `request.wait`, in seconds as the protocol
    /// states it. Each round ends within milliseconds; this only bounds a broken one.
    static let approvalWaitSeconds = 10
    /// Scenario 4: the pause after an agent starts before its idle memory is read, so the
    /// start-up's transient pages have settled.
    static let idleSettleMilliseconds: Int64 = 100
    /// Scenario 4: how long each `sleep` process standing in for a tool lives, in seconds
    /// as sleep(1) takes it: longer than any run, which stops them itself.
    static let callerLifetimeSeconds = 600
    /// Scenario 6: the pause between samples of the endpoint's memory while the streams
    /// are open: a few dozen samples over their second.
    static let memorySamplePollMilliseconds: Int64 = 20
    /// Scenario 6: how long the concurrent streams have to complete. They take about a
    /// second; a minute means the endpoint stalled.
    static let streamsWaitMilliseconds: Int64 = 60_000
    /// Scenario 6: the send and receive time-out of each benchmark HTTP connection, so a
    /// stalled endpoint fails the run; the largest answer (512 MiB) takes a few seconds.
    static let httpTimeoutMilliseconds: Int64 = 30_000
    /// The Messages stand-in: the longest pause between two streamed events a request
    /// may ask for, so a mistyped `gap` cannot stall a connection for long.
    static let maxStreamGapMilliseconds: Int64 = 10_000
    /// `load`: the longest run its `SECONDS` may ask for (an hour), so the run's deadline
    /// in nanoseconds cannot overflow.
    static let maxLoadMilliseconds: Int64 = 3_600_000
}
