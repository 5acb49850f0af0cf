import AgentPOSIX

/// Sends each exchange through a fresh `claude-agent-fetch` process, which performs it
/// with URLSession and exits.
///
/// The agent lives for days and holds every account's tokens; HTTPS needs Foundation,
/// libcurl and a TLS library, tens of megabytes of code the agent would otherwise map
/// for the rare refresh. So, as OpenSSH separates privileges, the agent links none of
/// them and each exchange runs in a short-lived child that sees one request. Spawning
/// costs a few milliseconds, nothing beside a network round trip.
///
/// The request and answer travel over the child's standard input and output (see
/// `HTTPExchange+Wire.swift`). A missing, crashing or garbling helper is
/// `.transportFailed`; one that outlives the exchange's time-out (plus a grace period
/// for its own start) is killed and the exchange `.failed` as timed out, as a slow
/// endpoint is.
public struct HelperTransport: HTTPTransport {
    /// The helper's file name, installed beside `claude-agentd`.
    public static let executableName = "claude-agent-fetch"

    /// Extra time the helper gets past the exchange's own time-out: URLSession enforces
    /// that time-out itself and reports it as a failure, which says more than a kill.
    public static let graceMilliseconds: Int64 = 2000

    /// The helper to run; nil looks for it at each exchange, beside the running
    /// executable, then on `PATH` (so an upgrade in place is picked up).
    public let path: String?

    public init(path: String? = nil) {
        self.path = path
    }

    public func send(_ exchange: HTTPExchange) -> HTTPOutcome {
        guard let helper = path ?? Self.locate() else {
            let running = ProcessControl.executablePath().map(FileSystem.baseName) ?? "this program"
            return .transportFailed("\(Self.executableName) was found neither beside \(running) nor on PATH")
        }
        var request = exchange.wireEncoded()
        defer { Memory.wipe(&request) }
        let timeout = exchange.boundedTimeoutMilliseconds
        let result: HelperProcess.Result
        do throws(Errno) {
            result = try HelperProcess.run(helper, input: request,
                                           timeoutMilliseconds: timeout + Self.graceMilliseconds,
                                           outputLimit: HTTPExchange.maximumWireBytes)
        } catch {
            return .transportFailed("cannot run \(Self.executableName): \(error)")
        }
        var output = result.output
        defer { Memory.wipe(&output) }
        switch result.interruption {
        case .deadline?:
            return .failed(HTTPOutcome.timedOut(afterMilliseconds: timeout))
        case .outputLimit?:
            return .transportFailed("\(Self.executableName) failed: its answer is over \(HTTPExchange.maximumWireBytes) bytes")
        case nil:
            break
        }
        guard result.status == .exited(0) else {
            return .transportFailed("\(Self.executableName) failed: \(result.status)")
        }
        do throws(HTTPWireError) {
            return try HTTPOutcome(wire: output)
        } catch {
            return .transportFailed("\(Self.executableName) failed: \(error)")
        }
    }

    /// `claude-agent-fetch` beside the running executable (installed together), else the
    /// first executable one on `PATH`; nil when there is none.
    public static func locate() -> String? {
        FileSystem.findBesideSelfOrOnPath(executableName)
    }
}
