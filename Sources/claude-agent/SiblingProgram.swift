import AgentPOSIX

/// `bridge` and `endpoint`: each runs a program of the package in this process's place,
/// with the arguments as given (`--help` included: that program checks its own options
/// and describes them).
///
/// The CLI stays static, small and quick to start inside `$(...)`: the bridge is an HTTP
/// server and the endpoint speaks HTTPS through FoundationNetworking, so each is a program
/// of its own, found as claude-agentd is: beside this executable, else on PATH.
enum SiblingProgram {
    /// claude-agent-bridge, which `bridge` runs.
    static let bridge = "claude-agent-bridge"
    /// claude-agent-endpoint, which `endpoint` runs.
    static let endpoint = "claude-agent-endpoint"

    /// Replaces this process with the program `name`, or fails with `start_failed`.
    static func exec(_ name: String, _ arguments: [String]) -> Never {
        let program = Lifecycle.siblingExecutable(name)
        do throws(Errno) {
            try ProcessControl.exec(program, arguments: arguments)
        } catch {
            Output.fail(.startFailed, "could not run \(program): \(error)")
        }
    }
}
