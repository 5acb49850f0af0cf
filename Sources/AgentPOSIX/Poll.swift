import Glibc

/// One entry of a `poll(2)` set.
public struct PollEvents: OptionSet, Sendable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }
    public static let readable = PollEvents(rawValue: Int16(POLLIN))
    public static let writable = PollEvents(rawValue: Int16(POLLOUT))
    public static let error = PollEvents(rawValue: Int16(POLLERR))
    public static let hangUp = PollEvents(rawValue: Int16(POLLHUP))
    public static let invalid = PollEvents(rawValue: Int16(POLLNVAL))
}

/// A reusable `pollfd` array, so the loop allocates nothing per iteration.
public struct PollSet {
    public private(set) var entries: [pollfd] = []

    public init() {}

    public mutating func removeAll() { entries.removeAll(keepingCapacity: true) }

    public mutating func add(_ fd: FileDescriptor, _ events: PollEvents) {
        entries.append(pollfd(fd: fd.rawValue, events: events.rawValue, revents: 0))
    }

    public var count: Int { entries.count }

    public func descriptor(at index: Int) -> FileDescriptor { FileDescriptor(rawValue: entries[index].fd) }

    public func returnedEvents(at index: Int) -> PollEvents { PollEvents(rawValue: entries[index].revents) }

    /// Waits up to `timeoutMilliseconds` (-1: forever); returns the number of ready entries.
    /// An interrupted wait counts as zero ready. The corresponding C function is `poll`.
    public mutating func wait(timeoutMilliseconds: Int32) throws(Errno) -> Int {
        do throws(Errno) {
            let n = try syscall("poll", retryingInterrupts: false) {
                entries.withUnsafeMutableBufferPointer { buffer in
                    Glibc.poll(buffer.baseAddress, nfds_t(buffer.count), timeoutMilliseconds)
                }
            }
            return Int(n)
        } catch where error == .interrupted {
            return 0
        }
    }
}

/// Waits until `fd` is ready for `events` or the timeout passes; returns whether it is.
public func waitFor(_ fd: FileDescriptor, _ events: PollEvents, timeoutMilliseconds: Int32) throws(Errno) -> Bool {
    var set = PollSet()
    set.add(fd, events)
    return try set.wait(timeoutMilliseconds: timeoutMilliseconds) > 0
}
