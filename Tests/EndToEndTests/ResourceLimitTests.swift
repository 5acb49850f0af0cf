import AgentPOSIX
import Foundation
import Testing

/// The agent's resources under many connections: a bounded total of buffered bytes, and a
/// clear `busy` for every client past the connection cap.
@Suite("memory and connection limits", .serialized)
struct ResourceLimitTests {
    /// Raises this process's open-file limit to `wanted` (or its hard limit), for tests that
    /// open hundreds of connections; never lowers it (other suites run beside these).
    static func raiseOpenFiles(to wanted: Int) {
        ProcessControl.raiseOpenFileLimit(to: wanted)
    }

    /// The resident set of `pid`, in bytes, from `/proc/<pid>/status`.
    static func residentBytes(of pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        let kilobytes = try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
        return kilobytes * 1024
    }

    /// Bytes `pid` has read through `read`-like calls, sockets included (`rchar` in
    /// `/proc/<pid>/io`).
    static func bytesRead(by pid: Int32) throws -> Int {
        let io = try String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8)
        let line = try #require(io.split(separator: "\n").first { $0.hasPrefix("rchar:") })
        return try #require(Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces)))
    }

    @Test("700 connections each holding 200 KiB of a 256 KiB frame: the agent stays under its 64 MiB budget and serves a new client")
    func bufferedBytesBounded() throws {
        Self.raiseOpenFiles(to: 2048)
        let sandbox = try Sandbox()
        let daemon = try sandbox.startDaemon(quiet: true)
        let pid = daemon.process.processIdentifier
        let before = try Self.residentBytes(of: pid)
        let partial: [UInt8] = [0, 4, 0, 0] + [UInt8](repeating: 0x20, count: 200 * 1024)
        var connections: [RawConnection] = []
        defer { for connection in connections { connection.close() } }
        for _ in 0..<700 {
            let connection = try RawConnection(path: daemon.socket)
            _ = fcntl(connection.fd, F_SETFL, fcntl(connection.fd, F_GETFL) | O_NONBLOCK)
            connections.append(connection)
        }
        // Push every connection's bytes as far as the agent takes them: rounds of
        // non-blocking sends, until all are sent, refused, or a round moves nothing.
        var sent = [Int](repeating: 0, count: connections.count)
        var finished = [Bool](repeating: false, count: connections.count)
        for _ in 0..<200 {
            var progress = false
            for (index, connection) in connections.enumerated() where !finished[index] {
                let n = partial.withUnsafeBytes {
                    Glibc.send(connection.fd, UnsafeRawBufferPointer(rebasing: $0[sent[index]...]).baseAddress,
                               partial.count - sent[index], Int32(MSG_NOSIGNAL))
                }
                if n > 0 {
                    sent[index] += n
                    progress = true
                    if sent[index] == partial.count { finished[index] = true }
                } else if n < 0 && errno != EAGAIN {
                    finished[index] = true  // the agent closed it
                }
            }
            if finished.allSatisfy({ $0 }) { break }
            if !progress { usleep(50_000) }
        }
        // The kernel's socket buffers hold what the agent has not read yet: wait until the
        // agent reads no more (its read count stays the same three checks running).
        var lastRead = -1
        var steady = 0
        for _ in 0..<400 where steady < 3 {
            usleep(50_000)
            let read = try Self.bytesRead(by: pid)
            steady = read == lastRead ? steady + 1 : 0
            lastRead = read
        }
        #expect(steady == 3, "the agent kept reading")
        // Without the budget the agent would hold 700 × 200 KiB = 137 MiB here.
        let resident = try Self.residentBytes(of: pid)
        #expect(resident - before < 96 << 20, "the agent grew by \(resident - before) bytes")
        #expect(sent.reduce(0, +) > 64 << 20, "the test did not offer more than the budget")
        let fresh = try RawConnection(path: daemon.socket)
        #expect(try fresh.call(#"{"id": 1, "op": "status"}"#)["ok"] as? Bool == true)
        #expect(daemon.process.isRunning)
    }

    /// 320 open files leave the agent 256 connections; the 257th is answered `busy`.
    @Test("at the connection cap every CLI run exits 7 busy, even when its request cannot be written")
    func busyAlwaysSeven() throws {
        Self.raiseOpenFiles(to: 2048)
        let sandbox = try Sandbox()
        let daemon = try sandbox.startDaemon(openFiles: 320)
        var open: [RawConnection] = []
        defer { for connection in open { connection.close() } }
        for _ in 0..<256 { open.append(try RawConnection(path: daemon.socket)) }
        #expect(try open[255].call(#"{"id": 1, "op": "hello"}"#)["ok"] as? Bool == true)
        // A request far larger than a socket buffer: the agent closes without reading it, so
        // the CLI's write fails every time, and only the busy frame already sent says why.
        let scopes = (0..<8).flatMap { ["--scope", String(repeating: "s", count: 120_000) + String($0)] }
        for _ in 0..<5 {
            let result = try sandbox.run(Binaries.cli, ["token"] + scopes + ["-a", daemon.socket])
            #expect(result.status == 7, "\(result.stderr)")
            #expect(result.stderr.hasPrefix("claude-agent: busy: "), "\(result.stderr)")
        }
        for _ in 0..<30 {
            let result = try sandbox.cli("token", "-a", daemon.socket)
            #expect(result.status == 7, "\(result.stderr)")
            #expect(result.stderr.hasPrefix("claude-agent: busy: "), "\(result.stderr)")
        }
        #expect(try open[0].call(#"{"id": 2, "op": "status"}"#)["ok"] as? Bool == true)
    }
}
