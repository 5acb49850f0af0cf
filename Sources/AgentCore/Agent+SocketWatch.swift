import AgentPOSIX

/// The agent outlives its socket only by a moment: as gpg-agent does, it checks now and
/// then (and when idle, as the poll wakes for it) that the path it listens on is still
/// its own socket, the same inode it bound. When the socket was removed (`rm
/// "$CLAUDE_AGENT_SOCK"`) no client can reach this agent any more, and the next `start`
/// makes another; when it was replaced, another agent took the path. Either way this one
/// logs why and exits cleanly, so two live agents never refresh the same tokens.
extension Agent {
    /// Notes the bound socket's identity and when to look at it first.
    func watchSocket() {
        guard let stamp = try? FileSystem.stamp(configuration.socketPath, followingLinks: false) else { return }
        socketIdentity = (stamp.device, stamp.inode)
        nextSocketCheck = clock.monotonicMilliseconds() + configuration.socketCheckIntervalMilliseconds
    }

    /// Stops the agent when its socket is gone or is another's; at most once an interval.
    func checkSocket(monotonic now: Int64) {
        guard let due = nextSocketCheck, now >= due, let identity = socketIdentity else { return }
        nextSocketCheck = now + configuration.socketCheckIntervalMilliseconds
        let path = configuration.socketPath
        let reason: String
        do throws(Errno) {
            let stamp = try FileSystem.stamp(path, followingLinks: false)
            guard stamp.device != identity.device || stamp.inode != identity.inode else { return }
            reason = "was replaced (another agent may listen there now)"
        } catch where error == .noSuchFile || error == .notDirectory {
            reason = "was removed"
        } catch {
            Log.info("cannot check the socket \(path): \(error)")
            return
        }
        Log.info("the socket \(path) \(reason): no client can reach this agent; exiting")
        // The path is not ours any more: leave whatever is there now.
        socketLost = true
        stopping = true
    }
}
