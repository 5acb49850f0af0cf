import AgentPOSIX
import AgentProtocol
import Dispatch
import Foundation
import Synchronization

/// A stand-in for the agent on a real socket: it answers `token.get` with one error it was
/// given, and any other op `unknown_op`, and notes each op it was sent.
///
/// For the command line's side of answers the real agent gives only after time has passed
/// (a held token lapsing: `expired`): the CLI's exit status and message are checked at
/// once instead of after a sleep. When and why the agent itself answers so is checked in
/// process under a clock the test advances (AgentCoreTests' ExpiredTokenTests).
final class CannedAgent: Sendable {
    let socket: String
    private let listener: FileDescriptor
    private let ops = Mutex<[String]>([])
    private let stopped = Mutex(false)
    private let finished = DispatchSemaphore(value: 0)
    /// The serving thread looks for a client every 100 ms for at most a minute.
    private static let pollMilliseconds: Int32 = 100
    private static let maxPolls = 600

    /// Listens at `socket` and serves from a thread of its own until `stop()`.
    init(socket: String, tokenError error: AgentError) throws {
        self.socket = socket
        listener = try UnixSocket.listen(path: socket)
        let thread = Thread { [self] in
            serve(error)
            finished.signal()
        }
        thread.start()
    }

    /// The ops received so far, in order.
    var received: [String] { ops.withLock { $0 } }

    /// Stops serving, closes the socket and removes it.
    func stop() {
        stopped.withLock { $0 = true }
        finished.wait()
        listener.close()
        try? FileManager.default.removeItem(atPath: socket)
    }

    private func serve(_ error: AgentError) {
        for _ in 0..<Self.maxPolls {
            if stopped.withLock({ $0 }) { return }
            guard (try? waitFor(listener, .readable, timeoutMilliseconds: Self.pollMilliseconds)) == true,
                  let connection = try? UnixSocket.accept(listener)
            else { continue }
            answer(connection, error)
            connection.close()
        }
    }

    /// Answers each request on `connection` until the client closes it (or is silent a
    /// second).
    private func answer(_ connection: FileDescriptor, _ error: AgentError) {
        var decoder = FrameDecoder()
        for _ in 0..<100 {
            guard (try? waitFor(connection, .readable, timeoutMilliseconds: 1000)) == true,
                  let bytes = try? connection.read(upTo: 64 * 1024), !bytes.isEmpty
            else { return }
            decoder.append(bytes)
            while let payload = try? decoder.next(), let request = try? JSONValue.parse(payload) {
                let op = request["op"]?.stringValue ?? ""
                ops.withLock { $0.append(op) }
                let answer = op == Op.tokenGet.rawValue ? error : AgentError(.unknownOp, "this stand-in answers token.get only")
                do {
                    try connection.sendAll(Frame.encode(Response.failure(rpcID: request["id"]?.intValue ?? 0, answer)))
                } catch {
                    return
                }
            }
        }
    }
}
