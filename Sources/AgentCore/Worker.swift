import AgentPOSIX
import Dispatch
import OAuth
import Synchronization

/// The result of slow work done off the loop thread.
enum Completion: Sendable {
    case refreshed(accountID: UInt32, generation: UInt64, Result<RefreshOutcome, OAuthError>)
    case exchanged(login: PendingLogin, Result<AccessTokenResponse, OAuthError>)
    case revoked(connectionID: UInt64, rpcID: Int64, account: String, accountID: UInt32, Result<Void, OAuthError>)
    case controlBrowserOpened(connectionID: UInt64, rpcID: Int64, approvalID: String, state: String, Result<Void, OAuthError>)
}

/// Runs blocking work (HTTPS to the token endpoint) on Dispatch's global queue and hands
/// the results back to the loop thread through a pipe the loop polls, so the loop never
/// blocks and owns all state.
final class Worker: Sendable {
    let wake: FileDescriptor
    private let notify: FileDescriptor
    private let finished = Mutex<[Completion]>([])

    init() throws(Errno) {
        let pipe = try FileDescriptor.pipe(nonBlocking: true)
        wake = pipe.read
        notify = pipe.write
    }

    func submit(_ job: @escaping @Sendable () -> Completion) {
        DispatchQueue.global().async { [self] in
            let completion = job()
            finished.withLock { $0.append(completion) }
            // A full pipe already holds a wake-up; EAGAIN loses nothing.
            try? notify.writeAll([1])
        }
    }

    /// The finished results, oldest first; empties the pipe.
    func drain() -> [Completion] {
        while let bytes = try? wake.read(upTo: POSIXLimits.wakeDrainBytes), !bytes.isEmpty {}
        return finished.withLock { results in
            defer { results.removeAll() }
            return results
        }
    }
}
