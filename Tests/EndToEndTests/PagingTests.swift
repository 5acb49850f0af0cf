import Foundation
import Testing

/// No answer outgrows a frame: `account.list` and `request.list` page (`limit`, `cursor`,
/// `next_cursor`), `status` stays small, and the CLI, the client library and the bridge
/// follow the pages.
@Suite("list answers page, whatever the tables hold", .serialized)
struct PagingTests {
    /// Sends `frames` in batches and reads each batch's answers, so neither side's buffers
    /// fill while the other waits.
    func pipeline(_ connection: RawConnection, _ frames: [String], batch: Int = 256) throws -> [[String: Any]] {
        var answers: [[String: Any]] = []
        for start in stride(from: 0, to: frames.count, by: batch) {
            let slice = frames[start..<min(start + batch, frames.count)]
            connection.send(slice.flatMap { RawConnection.frame($0) })
            for _ in slice {
                guard let answer = try connection.receive() else { throw TestFailure("the agent closed the connection") }
                answers.append(answer)
            }
        }
        return answers
    }

    /// A 64-byte account name, the longest allowed, unique by `index`.
    static func name(_ index: Int) -> String {
        let suffix = String(index)
        return String(repeating: "a", count: 64 - suffix.count - 1) + "-" + suffix
    }

    @Test("16384 accounts and 4096 requests: every page fits a frame, and list, requests, status and the bridge show them all")
    func fullTables() throws {
        let sandbox = try Sandbox()
        let daemon = try sandbox.startDaemon(quiet: true)
        let connection = try RawConnection(path: daemon.socket)

        // Accounts, to the limit; the first holds scopes of the largest size allowed.
        let wideScopes = (0..<400).map { "scope:\(String(format: "%03d", $0))" }.joined(separator: " ")
        #expect(wideScopes.utf8.count <= 4096)
        var adds = [#"{"id": 1, "op": "account.add", "account": "\#(Self.name(0))", "access_token": "t0", "refresh_token": "r", "scope": "\#(wideScopes)", "expires_in": 3600, "lifetime": 315576000}"#]
        for index in 1..<16384 {
            adds.append(#"{"id": \#(index + 1), "op": "account.add", "account": "\#(Self.name(index))", "access_token": "t\#(index)", "scope": "user:inference user:profile", "expires_in": 3600}"#)
        }
        let added = try pipeline(connection, adds)
        #expect(added.allSatisfy { $0["ok"] as? Bool == true })
        let over = try connection.call(#"{"id": 1, "op": "account.add", "account": "one-too-many", "access_token": "t"}"#)
        #expect(over.errorCode == "bad_request")

        // Requests, to the limit: 16 per calling process, so 256 threads of this process
        // lend their ids as relayed callers (a thread's /proc/<tid> names our uid).
        let holders = CallerThreads(count: 256)
        defer { holders.release() }
        let longName = String(repeating: "c", count: 256)
        var creates: [String] = []
        for (index, tid) in holders.ids.enumerated() {
            for slot in 0..<16 {
                creates.append(#"{"id": \#(index * 16 + slot + 1), "op": "request.create", "caller_pid": \#(tid), "client_name": "\#(longName)", "hostname": "\#(longName)", "scopes": ["user:inference"], "account": "\#(Self.name(index))"}"#)
            }
        }
        let created = try pipeline(connection, creates)
        #expect(created.allSatisfy { $0["ok"] as? Bool == true }, "\(created.first { $0["ok"] as? Bool != true } ?? [:])")
        #expect(try connection.call(#"{"id": 1, "op": "request.create", "caller_pid": \#(holders.ids[0])}"#).errorCode == "too_many_requests")

        // The protocol: pages within a frame, cursors that walk the whole table once.
        for (op, key, total) in [("account.list", "accounts", 16384), ("request.list", "requests", 4096)] {
            var seen = 0
            var cursor: String?
            var pages = 0
            repeat {
                let cursorField = cursor.map { #", "cursor": "\#($0)""# } ?? ""
                let request = #"{"id": 5, "op": "\#(op)"\#(cursorField)}"#
                connection.send(json: request)
                let answer = try #require(try connection.receive())
                let result = try #require(answer.result)
                let page = try #require(result[key] as? [[String: Any]])
                #expect(!page.isEmpty && page.count <= 1000)
                seen += page.count
                cursor = result["next_cursor"] as? String
                #expect(result.keys.contains("next_cursor"))
                pages += 1
            } while cursor != nil && pages < 1000
            #expect(seen == total, "\(op)")
            #expect(pages > 1)
        }
        let small = try connection.call(#"{"id": 6, "op": "account.list", "limit": 2}"#).result
        #expect((small?["accounts"] as? [Any])?.count == 2)
        let next = try #require(small?["next_cursor"] as? String)
        let second = try connection.call(#"{"id": 7, "op": "account.list", "limit": 2, "cursor": "\#(next)"}"#).result
        #expect(((second?["accounts"] as? [[String: Any]])?.first?["account"] as? String) == Self.name(2))
        #expect(try connection.call(#"{"id": 8, "op": "account.list", "cursor": "x"}"#).errorCode == "bad_request")
        #expect(try connection.call(#"{"id": 9, "op": "account.list", "cursor": "99999999999"}"#).result?["next_cursor"] is NSNull)

        // status stays small: a few dozen states, and says it left the rest out.
        let status = try #require(try connection.call(#"{"id": 10, "op": "status"}"#).result)
        #expect((status["account_states"] as? [Any])?.count == 64)
        #expect(status["account_states_truncated"] as? Bool == true)
        #expect(status["accounts"] as? Int == 16384)

        // The CLI follows the pages.
        let list = try sandbox.cli("list", "-a", daemon.socket)
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.split(separator: "\n").count == 16385)
        let listJSON = try sandbox.cli("list", "--json", "-a", daemon.socket)
        #expect((try JSONSerialization.jsonObject(with: Data(listJSON.stdout.utf8)) as? [Any])?.count == 16384)
        let requests = try sandbox.cli("requests", "-a", daemon.socket)
        #expect(requests.status == 0, "\(requests.stderr)")
        #expect(requests.stdout.split(separator: "\n").count == 4097)
        let requestsJSON = try sandbox.cli("requests", "--json", "-a", daemon.socket)
        #expect((try JSONSerialization.jsonObject(with: Data(requestsJSON.stdout.utf8)) as? [Any])?.count == 4096)
        let statusText = try sandbox.cli("status", "-a", daemon.socket)
        #expect(statusText.status == 0, "\(statusText.stderr)")
        #expect(statusText.stdout.split(separator: "\n").filter { $0.hasPrefix("  #") }.count == 16384)

        // So does the bridge.
        let port = try freeLoopbackPort()
        let bridge = try sandbox.background(["bridge", "--listen", "127.0.0.1:\(port)", "-a", daemon.socket])
        try bridge.waitUntilStarted(saying: "Bridge listening", "the bridge")
        let tokenPath = URL(fileURLWithPath: daemon.socket).deletingLastPathComponent().path + "/bridge.token"
        let secret = try String(contentsOfFile: tokenPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        for (path, key, total) in [("/v1/accounts", "accounts", 16384), ("/v1/token-requests", "requests", 4096)] {
            let answer = try #require(try RawHTTP.send(port: port, "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAuthorization: Bearer \(secret)\r\nConnection: close\r\n\r\n"))
            #expect(answer.status == 200, "\(path): \(answer.head)")
            #expect((answer.json?[key] as? [Any])?.count == total, "\(path)")
        }
        kill(bridge.process.processIdentifier, SIGTERM)
        _ = try bridge.wait()
    }
}

/// Threads that stay alive while their ids are used as relayed `caller_pid`s.
final class CallerThreads: @unchecked Sendable {
    // `ids` is appended under `lock` by each thread before it signals `ready`; init waits
    // for every `ready`, so callers read it only once no thread writes it any more.
    private(set) var ids: [Int32] = []
    private let lock = NSLock()
    private let ready = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private let count: Int

    init(count: Int) {
        self.count = count
        for _ in 0..<count {
            let thread = Thread { [self] in
                // Glibc's gettid is not imported into Swift; /proc/thread-self names the task.
                let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self")) ?? ""
                let tid = Int32(link.split(separator: "/").last ?? "") ?? 0
                lock.withLock { ids.append(tid) }
                ready.signal()
                done.wait()
            }
            thread.stackSize = 64 * 1024
            thread.start()
        }
        for _ in 0..<count { ready.wait() }
    }

    func release() { for _ in 0..<count { done.signal() } }
}
