import AgentPOSIX

/// Descriptors this process inherited without either side meaning it, and their closing.
///
/// claude-agentd closes every descriptor from 3 up that was not passed on purpose, as
/// ssh-agent does with `closefrom(STDERR_FILENO + 1)` first thing in main: a parent's
/// descriptors that were not close-on-exec (a shell's `exec 5<file`, a pipe another thread
/// of the parent was making while it spawned the agent) would otherwise stay open for the
/// agent's whole life, pin files and pipes their owners expect closed, and take slots of
/// the open-file limit the connection cap is worked out from, so that under a low limit
/// accept() would fail with EMFILE before the cap and a client would get a reset instead
/// of `busy`.
enum InheritedDescriptors {
    /// Closes every descriptor from 3 up except:
    /// - `passed`: the socket the service manager passed (from 3, sd_listen_fds(3)) and
    ///   files named by descriptor on the command line (`serve --import <(pass show
    ///   claude)` gives /dev/fd/63);
    /// - a connected Unix stream socket whose other end is the parent: the parent's way of
    ///   learning when this process exits. Foundation's `Process` on Linux gives every
    ///   child one end of a socketpair and, at end of file on its own end, waits for the
    ///   child with a blocking waitpid on the one thread that watches all its children:
    ///   closing it would stall that parent until the agent exits.
    /// 0, 1 and 2 stay: `claude-agent start` hands its error pipe over as standard error
    /// and otherwise passes nothing (it spawns the agent with closefrom(3) itself).
    /// Nothing of this process's own is open yet when main calls this.
    /// - Throws: `Errno` when the open descriptors cannot be listed (no /proc) or closed
    ///   (no close_range: Linux before 5.9); then nothing, or only part, is closed.
    static func close(keeping passed: [Int32]) throws(Errno) {
        let parent = ProcessControl.parentPID
        let lifelines = try ProcessControl.openDescriptors().filter { fd in
            fd > FileDescriptor.standardError.rawValue && UnixSocket.isStreamSocket(FileDescriptor(rawValue: fd), connectedTo: parent)
        }
        try ProcessControl.closeDescriptors(from: FileDescriptor.standardError.rawValue + 1, keeping: passed + lifelines)
    }

    /// The descriptors `paths` name (`/dev/fd/N`), for `close(keeping:)`.
    static func named(by paths: [String?]) -> [Int32] {
        paths.compactMap { $0.flatMap(ProcessControl.descriptor(namedBy:)) }
    }
}
