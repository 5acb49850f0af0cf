import CAgentShim
import Glibc

/// Process-wide settings and process creation.
public enum ProcessControl {
    public static var currentPID: Int32 { getpid() }
    /// The parent's pid (1, or a subreaper's, once the parent has exited). The
    /// corresponding C function is `getppid`.
    public static var parentPID: Int32 { getppid() }
    public static var effectiveUID: UInt32 { geteuid() }

    /// Keeps tokens out of core dumps and away from ptrace by other processes of the same
    /// user: `prctl(PR_SET_DUMPABLE, 0)` and `RLIMIT_CORE` 0.
    public static func hardenAgainstMemoryDisclosure() throws(Errno) {
        _ = try syscall("prctl(PR_SET_DUMPABLE)") { cagent_set_nondumpable() }
        var limit = rlimit(rlim_cur: 0, rlim_max: 0)
        _ = try syscall("setrlimit(RLIMIT_CORE)") { setrlimit(Int32(RLIMIT_CORE.rawValue), &limit) }
    }

    /// The value of an environment variable, nil when unset or empty.
    public static func environment(_ name: String) -> String? {
        guard let raw = getenv(name) else { return nil }
        let value = String(cString: raw)
        return value.isEmpty ? nil : value
    }

    /// The whole environment as a dictionary (later duplicates win, as getenv would not:
    /// duplicates do not occur in practice).
    public static func environmentDictionary() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }

    /// This machine's host name (`gethostname`).
    public static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The working directory (`getcwd`), or "." if it cannot be read.
    public static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The path of the running executable (`/proc/self/exe`).
    public static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Starts `path` with `arguments` in a new session with standard input, output and
    /// error on /dev/null, so it outlives the terminal that started it, as ssh-agent's
    /// daemonised child does. Returns the child's pid.
    /// The corresponding C function is `posix_spawn` with `POSIX_SPAWN_SETSID`.
    /// - Parameter standardError: where the child's standard error goes instead of
    ///   /dev/null (a pipe, so the starter can show why a child failed to start).
    public static func spawnDetached(_ path: String, arguments: [String],
                                     standardError: FileDescriptor? = nil) throws(Errno) -> Int32 {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, cagent_spawn_setsid_flag())
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for target in [Int32(0), 1, 2] {
            posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        if let standardError {
            posix_spawn_file_actions_adddup2(&actions, standardError.rawValue, 2)
        }
        let closed = withUnsafeMutablePointer(to: &actions) { cagent_spawn_add_closefrom($0, 3) }
        if closed != 0 { throw Errno(closed, operation: "posix_spawn_file_actions_addclosefrom_np") }
        return try spawn(path, arguments: arguments, actions: &actions, attributes: &attributes)
    }

    /// Starts `path` with `channel` as its standard input and output, standard error on
    /// /dev/null and no other descriptor, as a short-lived helper that reads a request and
    /// writes an answer. Returns the child's pid; the caller closes its copy of `channel`
    /// and must reap the child (`exitStatus(of:waiting:)`).
    ///
    /// The child starts with no signal blocked and every signal at its default action,
    /// whatever the calling thread had: Dispatch's worker threads block signals and the
    /// agent ignores SIGPIPE, and a helper inheriting either could not be killed or told
    /// apart from a hung one. Its environment is this process's, so proxy settings apply
    /// to it as they would here; nothing secret may be passed in `arguments`, which every
    /// local user can read in `/proc`.
    /// The corresponding C function is `posix_spawn` with `POSIX_SPAWN_SETSIGMASK` and
    /// `POSIX_SPAWN_SETSIGDEF`.
    public static func spawnHelper(_ path: String, arguments: [String] = [],
                                   channel: FileDescriptor) throws(Errno) -> Int32 {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, channel.rawValue, 0)
        posix_spawn_file_actions_adddup2(&actions, channel.rawValue, 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let closed = withUnsafeMutablePointer(to: &actions) { cagent_spawn_add_closefrom($0, 3) }
        if closed != 0 { throw Errno(closed, operation: "posix_spawn_file_actions_addclosefrom_np") }
        return try spawn(path, arguments: arguments, actions: &actions, attributes: &attributes)
    }

    /// Starts `path` with `arguments` and exactly `environment`, its standard output on
    /// `standardOutput` (or /dev/null when nil), standard input and error inherited; the
    /// caller's close-on-exec descriptors stay behind. Returns the child's pid; the caller
    /// must reap it (`exitStatus(of:waiting:)` or `exitStatusAndPeakResident(of:)`).
    /// The benchmark starts the commands it times this way.
    /// The corresponding C function is `posix_spawn`.
    public static func spawn(_ path: String, arguments: [String], environment: [String: String],
                             standardOutput: FileDescriptor?) throws(Errno) -> Int32 {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let standardOutput {
            posix_spawn_file_actions_adddup2(&actions, standardOutput.rawValue, 1)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in envp { free(pointer) } }
        return try spawn(path, arguments: arguments, actions: &actions, attributes: &attributes, environment: envp)
    }

    private static func spawn(
        _ path: String, arguments: [String],
        actions: inout posix_spawn_file_actions_t, attributes: inout posix_spawnattr_t,
        environment: [UnsafeMutablePointer<CChar>?]? = nil
    ) throws(Errno) -> Int32 {
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result: Int32
        if let environment {
            result = posix_spawn(&pid, path, &actions, &attributes, argv, environment)
        } else {
            result = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        }
        if result != 0 { throw Errno(result, operation: "posix_spawn \(path)") }
        return pid
    }

    /// Replaces this process with `path` (for `serve`, which runs the daemon in the
    /// foreground). Returns only by throwing. The corresponding C function is `execv`.
    public static func exec(_ path: String, arguments: [String]) throws(Errno) -> Never {
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        _ = try syscall("exec \(path)") { execv(path, argv) }
        preconditionFailure("execv returned without failing")
    }

    /// Replaces this process with `name`, looked up on `PATH` when it has no slash, with
    /// exactly `environment` as its environment (for `claude-agent exec`, whose child gets
    /// a token in its environment, never on its command line). Returns only by throwing.
    /// The corresponding C function is `execve`, tried along `PATH` as `execvp` does
    /// (Glibc's `execvpe` needs `_GNU_SOURCE`, which Swift's Glibc module hides): a
    /// missing file or directory goes on to the next entry, a permission error is kept
    /// in case nothing else is found, any other error stops the search.
    public static func exec(searching name: String, arguments: [String], environment: [String: String]) throws(Errno) -> Never {
        let argv = ([name] + arguments).map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        let candidates = FileSystem.candidates(for: name, searchPath: environment["PATH"], emptyEntryIsCurrentDirectory: true)
        var failure = Errno(ENOENT, operation: "exec \(name)")
        for candidate in candidates {
            do throws(Errno) {
                _ = try syscall("exec \(candidate)") { execve(candidate, argv, envp) }
                preconditionFailure("execve returned without failing")
            } catch where error == .noSuchFile || error == .notDirectory {
                continue
            } catch where error == .permissionDenied {
                failure = error
            }
        }
        throw failure
    }

    /// Reaps `pid` if it has exited, without blocking; returns its exit status or nil.
    public static func reapIfExited(_ pid: Int32) -> Int32? {
        guard let status = try? exitStatus(of: pid, waiting: false) else { return nil }
        return status.shellCode
    }

    /// Reaps the child `pid`: waits for it to end when `waiting`, else returns nil at once
    /// if it is still running. The corresponding C function is `waitpid`.
    /// - Throws: `Errno.noChild` when `pid` is not an unreaped child of this process.
    public static func exitStatus(of pid: Int32, waiting: Bool) throws(Errno) -> ExitStatus? {
        var status: Int32 = 0
        let result = try syscall("waitpid") { waitpid(pid, &status, waiting ? 0 : WNOHANG) }
        return result == pid ? ExitStatus(waitStatus: status) : nil
    }

    /// Waits for the child `pid` to end and reaps it, with the most memory it held: its
    /// peak resident set size (`ru_maxrss`) in KiB. Linux carries a process's peak across
    /// `exec`, so a child spawned straight from a large process reports at least that
    /// process's size (see `becomeChildSubreaper`).
    /// The corresponding C function is `wait4`.
    /// - Throws: `Errno.noChild` when `pid` is not an unreaped child of this process.
    public static func exitStatusAndPeakResident(of pid: Int32) throws(Errno) -> (status: ExitStatus, peakResidentKiB: Int) {
        var status: Int32 = 0
        var usage = rusage()
        _ = try syscall("wait4") { wait4(pid, &status, 0, &usage) }
        return (ExitStatus(waitStatus: status), usage.ru_maxrss)
    }

    /// Terminates with `code` without running Swift cleanup (after fork-like handoffs).
    public static func exit(_ code: Int32) -> Never { Glibc.exit(code) }
}
