import AgentPOSIX

/// `endpoint`: runs claude-agent-endpoint in this process's place, with the arguments
/// as given (`--help` included: the endpoint checks its own options and describes them).
///
/// The endpoint speaks HTTPS to the API, which needs FoundationNetworking; the CLI stays
/// static and quick to start inside `$(...)`, so the endpoint is a program of its own,
/// found as claude-agentd is: beside this executable, else on PATH.
enum EndpointCommand {
    static func run(_ arguments: [String]) -> Never {
        let program = Lifecycle.siblingExecutable("claude-agent-endpoint")
        do throws(Errno) {
            try ProcessControl.exec(program, arguments: arguments)
        } catch {
            Output.fail(.startFailed, "could not run \(program): \(error)")
        }
    }
}
