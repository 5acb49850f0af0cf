import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import AgentProtocol
import Testing

/// The scripted token endpoint in `fake_token_endpoint.py`, started once per test process
/// and shared: every test uses its own `key`, so tests running in parallel never see each
/// other's requests. The server exits by itself when this process ends (its standard
/// input closes).
final class FakeTokenEndpoint: @unchecked Sendable {
    // Immutable after init.
    let port: Int
    /// A port with nothing listening, for the connection-refused test.
    let closedPort: Int
    private let process: Process
    private let input: Pipe

    struct StartError: Error, CustomStringConvertible {
        var description: String
    }

    /// Started on first use; a failure to start is reported by every test that needs it.
    static let shared: Result<FakeTokenEndpoint, StartError> = Result { () throws(StartError) in try FakeTokenEndpoint() }

    private init() throws(StartError) {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("fake_token_endpoint.py")
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path]
        input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        do {
            try process.run()
        } catch {
            throw StartError(description: "cannot start python3 \(script.path): \(error)")
        }
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { throw StartError(description: "the fake token endpoint exited before it was ready") }
            line.append(chunk)
        }
        let words = String(decoding: line, as: UTF8.self).split(whereSeparator: \.isWhitespace)
        guard words.count == 3, words[0] == "READY", let port = Int(words[1]), let closed = Int(words[2]) else {
            throw StartError(description: "unexpected first line from the fake token endpoint: \(String(decoding: line, as: UTF8.self))")
        }
        self.port = port
        closedPort = closed
    }

    static func start() throws -> FakeTokenEndpoint {
        try shared.get()
    }

    /// A fresh key for one test.
    static func newKey() -> String {
        UUID().uuidString.lowercased()
    }

    /// The token URL that makes the server behave as `query` says (`mode=…&…`), for `key`.
    func tokenURL(key: String, _ query: String = "mode=ok") -> String {
        "http://127.0.0.1:\(port)/o/token/?key=\(key)&\(query)"
    }

    /// What the requests made under `key` carried, in order.
    func log(key: String) throws -> [JSONObject] {
        let url = try #require(URL(string: "http://127.0.0.1:\(port)/log?key=\(key)"))
        let done = DispatchSemaphore(value: 0)
        let box = DataBox()
        URLSession.shared.dataTask(with: url) { data, _, _ in
            box.data = data
            done.signal()
        }.resume()
        #expect(done.wait(timeout: .now() + 10) == .success)
        let records = try JSONValue.parse([UInt8](try #require(box.data))).arrayValue
        return try #require(records).compactMap(\.objectValue)
    }
}

/// Hands the log's bytes from URLSession's queue to the waiting test.
private final class DataBox: @unchecked Sendable {
    // Written before the semaphore is signalled, read after the wait.
    var data: Data?
}
