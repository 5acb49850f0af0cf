import AgentPOSIX
import Dispatch
import Foundation
import Glibc

/// What a load run measured.
struct LoadResult {
    var operations: Int
    /// The run's wall time, measured (its JSON field is `seconds`).
    var seconds: Double
    var errors: Int
    /// Round-trip latencies, sorted, in nanoseconds.
    var latencies: [UInt64]

    var throughput: Double { Double(operations) / seconds }
    func percentile(_ p: Double) -> Double {
        guard !latencies.isEmpty else { return .nan }
        let index = min(latencies.count - 1, Int((Double(latencies.count) * p / 100).rounded(.down)))
        return Double(latencies[index]) / 1000
    }
    var p50: Double { percentile(50) }
    var p99: Double { percentile(99) }
}

/// Drives `clients` threads against one socket for `durationMilliseconds` (1 ms to
/// `BenchLimits.maxLoadMilliseconds`), each sending `exchange` and waiting for its
/// answer, again and again: on one connection kept open (`persistent`), or on a new
/// connection per request, as a shell's `$(claude-agent token)` does.
///
/// Every thread records each round trip's latency; throughput is all round trips over
/// the wall time of the run.
func runLoad(socket: String, exchange: Exchange, clients: Int, persistent: Bool, durationMilliseconds: Int64) throws -> LoadResult {
    precondition((1...BenchLimits.maxLoadMilliseconds).contains(durationMilliseconds), "a load run of \(durationMilliseconds) ms")
    final class Slot: @unchecked Sendable {
        // Written by its own thread only, read after the group is done.
        var latencies: [UInt64] = []
        var errors = 0
        var failure: BenchError?
    }
    let slots = (0..<clients).map { _ in Slot() }
    let ready = DispatchGroup()
    let done = DispatchGroup()
    let start = DispatchSemaphore(value: 0)
    // In range, so in nanoseconds it fits: an hour is 3.6e12 ns.
    let durationNanoseconds = UInt64(durationMilliseconds) * 1_000_000
    for slot in slots {
        ready.enter()
        done.enter()
        let thread = Thread {
            defer { done.leave() }
            slot.latencies.reserveCapacity(1 << 16)
            var buffer = [UInt8](repeating: 0, count: 4096)
            var connection: BlockingConnection?
            do throws(BenchError) {
                if persistent { connection = try BlockingConnection.open(socket) }
            } catch {
                slot.failure = error
            }
            ready.leave()
            start.wait()
            guard slot.failure == nil else { return }
            let deadline = Clock.monotonicNanoseconds() + durationNanoseconds
            while true {
                let begin = Clock.monotonicNanoseconds()
                if begin >= deadline { break }
                do throws(BenchError) {
                    let link: BlockingConnection
                    if let connection { link = connection } else { link = try BlockingConnection.open(socket) }
                    try link.writeAll(exchange.request)
                    let length = try link.readMessage(into: &buffer)
                    if !persistent { link.close() }
                    let good = buffer.withUnsafeBufferPointer { exchange.accepts(UnsafeBufferPointer(rebasing: $0[0..<length])) }
                    if good { slot.latencies.append(Clock.monotonicNanoseconds() - begin) } else { slot.errors += 1 }
                } catch {
                    slot.failure = error
                    return
                }
            }
            connection?.close()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    ready.wait()
    let began = Clock.monotonicNanoseconds()
    for _ in slots { start.signal() }
    done.wait()
    let elapsed = Double(Clock.monotonicNanoseconds() - began) / 1e9
    if let failure = slots.lazy.compactMap(\.failure).first { throw failure }
    var all = slots.flatMap(\.latencies)
    all.sort()
    return LoadResult(operations: all.count, seconds: elapsed, errors: slots.reduce(0) { $0 + $1.errors }, latencies: all)
}
