import AgentPOSIX
import AgentProtocol
import Foundation
import Glibc
import HTTPCodec
import Synchronization

/// 6. The local API endpoint: what `claude-agent endpoint` adds to a Messages call, side by
/// side with the same call made directly to the same local upstream in the same run.
///
/// Targets: added latency p50 ≤ 1 ms and p99 ≤ 5 ms; a stream's first byte within 1 ms of
/// the direct call's; 100 concurrent streams all complete with the endpoint's RSS ≤ 64 MiB;
/// streamed throughput ≥ 50 MB/s.
func measureEndpoint(_ settings: Settings, _ workspace: Workspace, report: Report) throws {
    report.section("6. The local API endpoint: a Messages call through it vs directly")
    let endpointProgram = settings.binaries.directory + "/claude-agent-endpoint"
    guard FileSystem.isExecutable(endpointProgram) else { throw BenchError("\(endpointProgram) not found") }
    let agent = try workspace.startClaudeAgent(settings.binaries, name: "endpoint-agent")
    try AgentCalls(agent.socket).call(addAccountPayload("bench", token: fakeToken(0)))
    let upstream = try MessagesUpstream()
    let port = try freeLoopbackPort()
    let endpoint = try workspace.start(endpointProgram, ["--listen", "127.0.0.1:\(port)", "--upstream", upstream.url,
                                                         "-a", agent.socket], output: workspace.path("endpoint.log"))
    let listening = pollUntil(every: BenchLimits.httpPollMilliseconds, atMost: BenchLimits.listenWaitMilliseconds) {
        (try? BenchHTTP(port: port)) != nil || !endpoint.isRunning
    }
    guard listening, endpoint.isRunning else { throw BenchError("the endpoint did not listen on \(port)") }
    defer { workspace.stop(endpoint) }

    // Latency of a small non-streamed call, on a kept connection, alternating sides.
    let runs = settings.quick ? 200 : 3000
    let direct = try BenchHTTP(port: upstream.port)
    let through = try BenchHTTP(port: port)
    for _ in 0..<20 { _ = try direct.call("/v1/messages", port: upstream.port); _ = try through.call("/v1/messages", port: port) }
    var directTimes: [Double] = []
    var throughTimes: [Double] = []
    for _ in 0..<runs {
        directTimes.append(try direct.call("/v1/messages", port: upstream.port).total)
        throughTimes.append(try through.call("/v1/messages", port: port).total)
    }
    let d50 = percentile(directTimes, 0.5), d99 = percentile(directTimes, 0.99)
    let t50 = percentile(throughTimes, 0.5), t99 = percentile(throughTimes, 0.99)
    // What the endpoint adds to each call: the pairs ran back to back, so a stall of the
    // shared machine hits one side and shows in the tail of the differences, not twice.
    let added = zip(throughTimes, directTimes).map { $0 - $1 }
    let added50 = percentile(added, 0.5), added99 = percentile(added, 0.99)

    // Time to the first byte of a streamed answer.
    var directFirst: [Double] = []
    var throughFirst: [Double] = []
    for _ in 0..<(settings.quick ? 50 : 500) {
        directFirst.append(try direct.call("/v1/stream?events=5", port: upstream.port).firstByte)
        throughFirst.append(try through.call("/v1/stream?events=5", port: port).firstByte)
    }
    let firstAdded = percentile(throughFirst, 0.5) - percentile(directFirst, 0.5)
    report.table(["call", "direct p50", "direct p99", "endpoint p50", "endpoint p99", "added p50", "added p99"], [
        ["POST /v1/messages", Format.us(d50), Format.us(d99), Format.us(t50), Format.us(t99), Format.us(added50), Format.us(added99)],
        ["stream, first byte", Format.us(percentile(directFirst, 0.5)), Format.us(percentile(directFirst, 0.99)),
         Format.us(percentile(throughFirst, 0.5)), Format.us(percentile(throughFirst, 0.99)), Format.us(firstAdded), ""],
    ])
    report.check("endpoint: added latency p50", target: "≤ 1 ms", measured: Format.us(added50), met: added50 <= 1000)
    report.check("endpoint: added latency p99", target: "≤ 5 ms", measured: Format.us(added99), met: added99 <= 5000)
    report.check("endpoint: stream first byte vs direct", target: "≤ +1 ms", measured: Format.us(firstAdded), met: firstAdded <= 1000)

    // 100 streams held open together (20 events 50 ms apart: a second each), RSS sampled.
    let streams = 100
    let eventsPerStream = 20
    let eventGapMilliseconds: Int64 = 50
    let completed = Mutex(0)
    let peak = Mutex(0)
    let sampling = Mutex(true)
    let sampler = Thread {
        while sampling.withLock({ $0 }) {
            if let memory = try? Memory(pid: endpoint.processIdentifier) { peak.withLock { $0 = max($0, memory.resident) } }
            Clock.sleep(milliseconds: BenchLimits.memorySamplePollMilliseconds)
        }
    }
    sampler.start()
    let group = DispatchGroup()
    for _ in 0..<streams {
        group.enter()
        let thread = Thread {
            defer { group.leave() }
            guard let client = try? BenchHTTP(port: port),
                  let answer = try? client.call("/v1/stream?events=\(eventsPerStream)&gap=\(eventGapMilliseconds)", port: port),
                  answer.bytes == eventsPerStream * MessagesUpstream.event.count else { return }
            completed.withLock { $0 += 1 }
        }
        thread.stackSize = 256 * 1024
        thread.start()
    }
    let finished = group.wait(timeout: .now() + .milliseconds(Int(BenchLimits.streamsWaitMilliseconds))) == .success
    sampling.withLock { $0 = false }
    let done = completed.withLock { $0 }
    let rss = peak.withLock { $0 }
    report.table(["concurrent streams", "completed", "endpoint peak RSS"], [[String(streams), String(done), Format.mib(rss)]])
    report.check("endpoint: 100 concurrent streams complete", target: "100", measured: String(done),
                 met: finished && done == streams, essential: true)
    report.check("endpoint: RSS with 100 streams open", target: "≤ 64 MiB", measured: Format.mib(rss), met: rss <= 64 * 1024)
    // Streamed throughput, one large answer each way (after the streams: its buffers
    // would otherwise count in their RSS).
    let bulkBytes = settings.quick ? 32 << 20 : 512 << 20
    let directRate = try direct.throughput(bytes: bulkBytes, port: upstream.port)
    let throughRate = try through.throughput(bytes: bulkBytes, port: port)
    report.table(["streamed \(bulkBytes >> 20) MiB", "direct", "endpoint"],
                 [["throughput", String(format: "%.0f MB/s", directRate), String(format: "%.0f MB/s", throughRate)]])
    report.check("endpoint: streamed throughput", target: "≥ 50 MB/s", measured: String(format: "%.0f MB/s", throughRate),
                 met: throughRate >= 50)

    report.note("\(runs) calls each way, alternating, on one kept connection per side; the upstream answers from memory")
    report.record("endpoint", .object([
        "direct_p50_us": .double(d50), "direct_p99_us": .double(d99), "endpoint_p50_us": .double(t50), "endpoint_p99_us": .double(t99),
        "added_p50_us": .double(added50), "added_p99_us": .double(added99), "stream_first_byte_added_us": .double(firstAdded),
        "throughput_direct_mb_s": .double(directRate), "throughput_endpoint_mb_s": .double(throughRate),
        "streams": .int(Int64(streams)), "streams_completed": .int(Int64(done)), "peak_rss_kib": .int(Int64(rss)),
    ]))
}

private func percentile(_ values: [Double], _ fraction: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction))]
}

/// One kept-alive client connection speaking just enough HTTP/1.1 for the benchmark.
final class BenchHTTP {
    private let fd: FileDescriptor
    private var reader: HTTPReader

    init(port: UInt16) throws {
        guard let address = SocketAddress(parsing: "127.0.0.1:\(port)") else { throw BenchError("bad port") }
        do throws(Errno) {
            fd = try TCPSocket.connect(address)
            try fd.setTimeouts(milliseconds: BenchLimits.httpTimeoutMilliseconds)
        } catch {
            throw BenchError("connect to \(port): \(error)")
        }
        TCPSocket.setNoDelay(fd)
        reader = HTTPReader(fd: fd)
    }

    deinit { fd.close() }

    /// The largest answer is the bulk one, at most 512 MiB.
    static let answerLimits = {
        var limits = HTTPLimits()
        limits.maxBodyBytes = 1 << 30
        return limits
    }()

    static let body = Array(#"{"model":"m","max_tokens":8,"messages":[{"role":"user","content":"Hi"}]}"#.utf8)

    /// One POST; microseconds to the whole answer and to its first body byte.
    func call(_ target: String, port: UInt16) throws -> (total: Double, firstByte: Double, bytes: Int) {
        let request = Array(("POST \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nx-api-key: placeholder\r\n"
            + "anthropic-version: 2023-06-01\r\nContent-Type: application/json\r\nContent-Length: \(Self.body.count)\r\n\r\n").utf8) + Self.body
        let start = Clock.monotonicNanoseconds()
        do throws(Errno) { try fd.sendAll(request) } catch { throw BenchError("send: \(error)") }
        // Counted, not kept: the bulk answer is hundreds of MiB.
        let answer = try reader.response(to: "POST", limits: Self.answerLimits, keepsBody: false)
        let end = Clock.monotonicNanoseconds()
        guard answer.response.status == 200 else { throw BenchError("\(answer.response.status) for \(target)") }
        return (Double(end - start) / 1000, Double(answer.firstByteNanoseconds - start) / 1000, answer.bodyBytes)
    }

    /// MB/s of one streamed answer of `bytes`.
    func throughput(bytes: Int, port: UInt16) throws -> Double {
        let answer = try call("/v1/bulk?bytes=\(bytes)", port: port)
        guard answer.bytes == bytes / 65536 * 65536 else { throw BenchError("bulk answer cut at \(answer.bytes) bytes") }
        return Double(answer.bytes) / (answer.total / 1e6) / 1e6
    }
}
