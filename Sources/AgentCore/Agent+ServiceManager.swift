import AgentPOSIX

/// Readiness notification to a service manager (systemd's `Type=notify`).
extension Agent {
    /// Sends `state` to `NOTIFY_SOCKET` when the agent was started with one. A failure is
    /// logged, not fatal: systemd then reports the start as timed out, which says more
    /// than an agent that refuses to serve.
    func notifyServiceManager(_ state: String) {
        guard let path = configuration.notifySocketPath else { return }
        do throws(Errno) {
            try ServiceManager.notify(state, socketPath: path)
        } catch {
            Log.info("could not notify the service manager: \(error)")
        }
    }
}
