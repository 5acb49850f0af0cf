import Foundation
import Testing

/// Numbers from outside are range-checked where they enter (`NumberRange`): the built
/// agent, over its real socket, answers `bad_request` to every extreme integer in every
/// numeric field of every operation and serves on; command lines answer a usage error;
/// a token endpoint's or a credentials file's extreme numbers are refused.
@Suite("extreme numbers never crash the agent")
struct HostileNumbersTests {
    /// The values fed to every numeric field: the ends of Int64, just past them (which JSON
    /// carries as numbers that are no Int64), 2^53, 1e300, and small ones at range ends.
    static let extremes = ["-9223372036854775808", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
                           "-1", "0", "1", "9007199254740992", "1e300", "-1e300", "0.5", "3600", "3601", "4294967295",
                           "4294967296", "315576000", "315576001", "2147483648"]

    enum Expected: Equatable {
        case badRequest
        case notBadRequest
        case code(String)
    }

    /// One numeric field of one operation: the request with `V` where the value goes, and
    /// what each value must be answered with.
    struct Field: CustomStringConvertible {
        let op: String
        let template: String
        let rule: @Sendable (Int64?) -> Expected
        var description: String { template }
    }

    /// In `range` (and an integer): answered, but not `bad_request`; otherwise `bad_request`.
    static func within(_ range: ClosedRange<Int64>) -> @Sendable (Int64?) -> Expected {
        { value in value.map(range.contains) == true ? .notBadRequest : .badRequest }
    }

    static let always: @Sendable (Int64?) -> Expected = { _ in .badRequest }
    static let uint32: ClosedRange<Int64> = 0...4_294_967_295

    /// Every numeric field of every operation (and numbers where strings belong).
    static func fields(requestID: String, endedID: String, credentials: String) -> [Field] {
        [
            Field(op: "hello", template: #"{"id": 7, "op": "hello", "protocol": V}"#) { value in
                guard let value else { return .badRequest }
                return value < 1 ? .code("unsupported_version") : .notBadRequest
            },
            Field(op: "token.get", template: #"{"id": 7, "op": "token.get", "account": V}"#, rule: within(uint32)),
            Field(op: "token.get", template: #"{"id": 7, "op": "token.get", "account": "held", "wait": true, "timeout": V}"#,
                  rule: within(1...3600)),
            Field(op: "account.add", template: #"{"id": 7, "op": "account.add", "account": "n", "account_id": 78, "access_token": "x", "expires_in": V}"#,
                  rule: within(-315_576_000...315_576_000)),
            Field(op: "account.add", template: #"{"id": 7, "op": "account.add", "account": "n", "account_id": 78, "access_token": "x", "lifetime": V}"#,
                  rule: within(1...315_576_000)),
            Field(op: "account.add", template: #"{"id": 7, "op": "account.add", "account": "idV", "access_token": "x", "account_id": V}"#,
                  rule: within(uint32)),
            Field(op: "account.add", template: #"{"id": 7, "op": "account.add", "account": V, "access_token": "x"}"#, rule: always),
            Field(op: "account.add", template: #"{"id": 7, "op": "account.add", "account": "n", "access_token": V}"#, rule: always),
            Field(op: "account.list", template: #"{"id": 7, "op": "account.list", "limit": V}"#, rule: within(1...1000)),
            Field(op: "account.list", template: #"{"id": 7, "op": "account.list", "cursor": V}"#, rule: always),
            Field(op: "account.remove", template: #"{"id": 7, "op": "account.remove", "account": V}"#, rule: within(uint32)),
            Field(op: "account.logout", template: #"{"id": 7, "op": "account.logout", "account": V, "revoke": false}"#,
                  rule: within(uint32)),
            Field(op: "account.import", template: #"{"id": 7, "op": "account.import", "path": "\#(credentials)", "account": "impV", "account_id": V}"#,
                  rule: within(uint32)),
            Field(op: "login.start", template: #"{"id": 7, "op": "login.start", "account": "lV", "account_id": V, "redirect_uri": "http://localhost:9/callback"}"#,
                  rule: within(uint32)),
            Field(op: "agent.lock", template: #"{"id": 7, "op": "agent.lock", "passphrase": V}"#, rule: always),
            Field(op: "agent.unlock", template: #"{"id": 7, "op": "agent.unlock", "passphrase": V}"#, rule: always),
            Field(op: "oauth.callback", template: #"{"id": 7, "op": "oauth.callback", "state": V, "code": "c"}"#, rule: always),
            Field(op: "request.create", template: #"{"id": 7, "op": "request.create", "caller_pid": V}"#, rule: within(1...2_147_483_647)),
            Field(op: "request.create", template: #"{"id": 7, "op": "request.create", "account": V}"#, rule: within(uint32)),
            Field(op: "request.create", template: #"{"id": 7, "op": "request.create", "client_name": V}"#, rule: always),
            Field(op: "request.get", template: #"{"id": 7, "op": "request.get", "request_id": V}"#, rule: always),
            Field(op: "request.list", template: #"{"id": 7, "op": "request.list", "limit": V}"#, rule: within(1...1000)),
            Field(op: "request.list", template: #"{"id": 7, "op": "request.list", "cursor": V}"#, rule: always),
            Field(op: "request.wait", template: #"{"id": 7, "op": "request.wait", "request_id": "\#(endedID)", "timeout": V}"#,
                  rule: within(1...3600)),
            Field(op: "request.select_account", template: #"{"id": 7, "op": "request.select_account", "request_id": "\#(endedID)", "account": V}"#) { value in
                value.map(uint32.contains) == true ? .code("invalid_status") : .badRequest
            },
            Field(op: "request.deny", template: #"{"id": 7, "op": "request.deny", "request_id": "\#(requestID)", "reason": V}"#, rule: always),
            Field(op: "request.cancel", template: #"{"id": 7, "op": "request.cancel", "request_id": V}"#, rule: always),
        ]
    }

    /// What the agent reads a JSON number as: an integer when it is one within Int64, or a
    /// number written otherwise whose value is such an integer (`JSONValue.intValue`).
    static func integer(_ literal: String) -> Int64? {
        if let exact = Int64(literal) { return exact }
        guard let number = Double(literal), number >= -9_223_372_036_854_775_808.0, number < 9_223_372_036_854_775_808.0,
              Double(Int64(number)) == number else { return nil }
        return Int64(number)
    }

    @Test("every extreme integer in every numeric field of every op: bad_request when out of range, and the agent serves on")
    func everyField() throws {
        let sandbox = try Sandbox()
        let credentials = sandbox.root + "/credentials.json"
        try #"{"claudeAiOauth": {"accessToken": "imported", "expiresAt": 4102444800000}}"#.write(toFile: credentials, atomically: true, encoding: .utf8)
        var checked = 0
        // A fresh agent per field, so that what one field's accepted values create (accounts
        // with those ids, requests counted against the caller) does not meet the next's.
        for fieldIndex in 0..<Self.fields(requestID: "", endedID: "", credentials: "").count {
            let daemon = try sandbox.startDaemon(socket: sandbox.root + "/agent-\(fieldIndex).sock")
            let connection = try RawConnection(path: daemon.socket)
            let held = #"{"id": 1, "op": "account.add", "account": "held", "account_id": 77, "access_token": "tok", "expires_in": 3600}"#
            #expect(try connection.call(held)["ok"] as? Bool == true)
            let live = try #require(try connection.call(#"{"id": 2, "op": "request.create"}"#).result?["request_id"] as? String)
            let ended = try #require(try connection.call(#"{"id": 3, "op": "request.create"}"#).result?["request_id"] as? String)
            #expect(try connection.call(#"{"id": 4, "op": "request.cancel", "request_id": "\#(ended)"}"#)["ok"] as? Bool == true)
            let field = Self.fields(requestID: live, endedID: ended, credentials: credentials)[fieldIndex]
            for (index, literal) in Self.extremes.enumerated() {
                let request = field.template.replacingOccurrences(of: "V", with: literal)
                    .replacingOccurrences(of: "\"id\(literal)\"", with: "\"id\(index)\"")
                    .replacingOccurrences(of: "\"imp\(literal)\"", with: "\"imp\(index)\"")
                    .replacingOccurrences(of: "\"l\(literal)\"", with: "\"l\(index)\"")
                let answer = try connection.call(request)
                #expect(answer["id"] as? Int == 7, "\(request) → \(answer)")
                switch field.rule(Self.integer(literal)) {
                case .badRequest: #expect(answer.errorCode == "bad_request", "\(request) → \(answer)")
                case .notBadRequest: #expect(answer.errorCode != "bad_request", "\(request) → \(answer)")
                case .code(let code): #expect(answer.errorCode == code, "\(request) → \(answer)")
                }
                checked += 1
            }
            #expect(daemon.process.isRunning, "\(field)")
            #expect(try connection.isServed())
            _ = daemon.stop()
        }
        let daemon = try sandbox.startDaemon()
        let connection = try RawConnection(path: daemon.socket)
        #expect(checked > 400)
        // The request id itself: integers written as such are echoed, anything else is
        // bad_request with id 0.
        for literal in Self.extremes {
            let answer = try connection.call(#"{"id": \#(literal), "op": "status"}"#)
            if let id = Int64(literal) {
                #expect(answer["ok"] as? Bool == true && (answer["id"] as? NSNumber)?.int64Value == id)
            } else {
                #expect(answer.errorCode == "bad_request" && answer["id"] as? Int == 0)
            }
        }
        #expect(daemon.process.isRunning)
        #expect(try RawConnection(path: daemon.socket).isServed())
    }

    @Test("the issue's cases: a huge expires_in or lifetime is bad_request and the token is still served")
    func reportedRequests() throws {
        let sandbox = try Sandbox()
        let daemon = try sandbox.startDaemon()
        let connection = try RawConnection(path: daemon.socket)
        for field in ["expires_in", "lifetime"] {
            let answer = try connection.call(#"{"id":1,"op":"account.add","account":"n","access_token":"x","\#(field)":9223372036854775807}"#)
            #expect(answer.errorCode == "bad_request")
        }
        #expect(try connection.call(#"{"id":2,"op":"account.add","account":"n","access_token":"x","lifetime":315576000}"#)["ok"] as? Bool == true)
        let list = try sandbox.cli("list", "-a", daemon.socket)
        #expect(list.status == 0 && list.stdout.contains("n  "))
        #expect(daemon.process.isRunning)
    }

    @Test("command-line numbers out of range are usage errors (exit 2) of the CLI and the daemon", arguments: [
        ["add", "-t", "9223372036854775807", "--account", "n"],
        ["add", "-t", "0", "--account", "n"],
        ["add", "-t", "315576001", "--account", "n"],
        ["token", "--wait", "--timeout", "9223372036854775807"],
        ["token", "--wait", "--timeout", "3601"],
        ["login", "--timeout", "-1"],
        ["approve", "0b9e6b8e-4f0e-4d5c-9a43-2a4d8d1c7f10", "--account", "a", "--timeout", "1e300"],
        ["start", "--skew", "9223372036854775807"],
        ["start", "--idle-timeout", "10000000000000000"],
        ["serve", "-t", "9223372036854775808"],
    ])
    func cliOptions(_ arguments: [String]) throws {
        let sandbox = try Sandbox()
        let result = try sandbox.run(Binaries.cli, arguments + ["-a", sandbox.root + "/none.sock"])
        #expect(result.status == 2, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains("needs a whole number of seconds"), "\(result.stderr)")
    }

    @Test("claude-agentd refuses out-of-range numbers with exit 2 before it listens", arguments: [
        ["--idle-timeout", "10000000000000000"], ["--idle-timeout", "0"], ["-t", "9223372036854775807"],
        ["-t", "-9223372036854775808"], ["--skew", "9223372036854775807"], ["--skew", "-1"],
    ])
    func daemonOptions(_ arguments: [String]) throws {
        let sandbox = try Sandbox()
        let result = try sandbox.run(Binaries.daemon, arguments + ["-a", sandbox.root + "/agent.sock"])
        #expect(result.status == 2, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains("needs a whole number of seconds"))
        #expect(!FileManager.default.fileExists(atPath: sandbox.root + "/agent.sock"))
    }

    @Test("a credentials file with expiresAt -2^63 is refused at import; list and the agent work on")
    func credentialsImport() throws {
        let sandbox = try Sandbox()
        let daemon = try sandbox.startDaemon()
        let path = sandbox.root + "/.credentials.json"
        try #"{"claudeAiOauth": {"accessToken": "x", "refreshToken": "r", "expiresAt": -9223372036854775808}}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let add = try sandbox.cli("add", "--from-file", path, "-a", daemon.socket)
        #expect(add.status == 2)  // bad_request
        #expect(add.stderr.contains("bad_request") && add.stderr.contains("expiresAt"), "\(add.stderr)")
        let list = try sandbox.cli("list", "-a", daemon.socket)
        #expect(list.status == 0)
        #expect(list.stdout == "The agent has no accounts.\n")
        // And at start (`--import`): the file is skipped, the agent runs.
        let other = try sandbox.startDaemon(["--import", path], socket: sandbox.root + "/second.sock")
        #expect(try sandbox.cli("list", "-a", other.socket).stdout == "The agent has no accounts.\n")
    }

    @Test("a token endpoint answering expires_at -2^63 (or expires_in 2^63-1) to a refresh: the token is held with no known expiry, and the agent serves on",
          arguments: [#"{"access_token":"x","expires_at":-9223372036854775808}"#,
                      #"{"access_token":"x","expires_in":9223372036854775807}"#,
                      #"{"access_token":"x","expires_at":9223372036854775807,"refresh_token":"r2"}"#])
    func providerAnswer(_ body: String) throws {
        let endpoint = try CannedTokenEndpoint(body: body)
        let sandbox = try Sandbox()
        let config = sandbox.root + "/config.json"
        try """
            {"default_provider": "canned", "providers": {"canned": {"client_id": "c", "authorize_url": "\(endpoint.url)/authorize",
             "token_url": "\(endpoint.url)/token", "scopes": ["user:inference"]}}}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try sandbox.startDaemon(["--config", config, "--refresh-ahead"])
        let connection = try RawConnection(path: daemon.socket)
        let added = try connection.call(#"{"id":1,"op":"account.add","account":"a","access_token":"old","refresh_token":"r","expires_in":0}"#)
        #expect(added["ok"] as? Bool == true, "\(added)")
        let answer = try connection.call(#"{"id":2,"op":"token.get"}"#)
        #expect(answer.result?["access_token"] as? String == "x", "\(answer)")
        #expect(answer.result?["expires_at"] is NSNull, "\(answer)")
        #expect(endpoint.requests >= 1)
        #expect(daemon.process.isRunning)
        #expect(try connection.call(#"{"id":3,"op":"status"}"#)["ok"] as? Bool == true)
        #expect(try sandbox.cli("list", "-a", daemon.socket).status == 0)
    }
}

/// A token endpoint on 127.0.0.1 that answers every request with HTTP 200 and one fixed
/// JSON body: for answers no real provider gives on purpose (django-oauth-toolkit never
/// sends an absurd `expires_at`), but any provider, or anyone answering for it, could.
/// RFC 6749 §5.1 fixes what a 200 from a token endpoint is; the body here breaks it.
final class CannedTokenEndpoint: @unchecked Sendable {
    // `served` is guarded by `lock`; everything else is `let`, set in init.
    let url: String
    private let listener: Int32
    private let lock = NSLock()
    private var served = 0
    private let body: String

    init(body: String) throws {
        self.body = body
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            Glibc.close(fd)
            throw TestFailure("cannot listen on 127.0.0.1")
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        url = "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    deinit { shutdown(listener, Int32(SHUT_RDWR)); Glibc.close(listener) }

    var requests: Int { lock.withLock { served } }

    private func serve() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            // Read the head and the Content-Length body, then answer and close.
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = recv(client, &buffer, buffer.count, 0)
                if n <= 0 { break }
                received += buffer[0..<n]
                let text = String(decoding: received, as: UTF8.self)
                guard let end = text.range(of: "\r\n\r\n") else { continue }
                let head = text[..<end.lowerBound].lowercased()
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
                if received.count - text[..<end.upperBound].utf8.count >= length { break }
            }
            lock.withLock { served += 1 }
            let answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
            _ = Array(answer.utf8).withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            Glibc.close(client)
        }
    }
}
