import AgentPOSIX

/// `bridge`: runs claude-agent-bridge in this process's place, with the arguments as
/// given (`--help` included: the bridge checks its own options and describes them).
///
/// The bridge is an HTTP server; the CLI stays small and quick to start inside `$(...)`,
/// so the bridge is a program of its own, found as claude-agentd is: beside this
/// executable, else on PATH.
enum BridgeCommand {
    static func run(_ arguments: [String]) -> Never {
        let program = Lifecycle.siblingExecutable("claude-agent-bridge")
        do throws(Errno) {
            try ProcessControl.exec(program, arguments: arguments)
        } catch {
            Output.fail(.startFailed, "could not run \(program): \(error)")
        }
    }
}
