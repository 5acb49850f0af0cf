import Glibc

/// Reading secrets from the controlling terminal without echo.
public enum Terminal {
    /// Prints `prompt` on /dev/tty and reads one line with echo off. Returns nil when
    /// there is no terminal or input ended.
    public static func readSecret(prompt: String) -> String? {
        guard let tty = try? FileDescriptor.open("/dev/tty", O_RDWR | O_NOCTTY) else { return nil }
        defer { tty.close() }
        var saved = termios()
        guard tcgetattr(tty.rawValue, &saved) == 0 else { return nil }
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        quiet.c_lflag |= tcflag_t(ECHONL)
        try? tty.writeAll(Array(prompt.utf8))
        guard tcsetattr(tty.rawValue, TCSAFLUSH, &quiet) == 0 else { return nil }
        defer { tcsetattr(tty.rawValue, TCSAFLUSH, &saved) }
        return readLine(from: tty)
    }

    /// Reads one line (without its newline) from `fd`, byte by byte so nothing past the
    /// line is consumed. Returns nil at end of input before any byte.
    public static func readLine(from fd: FileDescriptor, limit: Int = POSIXLimits.maxLineBytes) -> String? {
        var bytes: [UInt8] = []
        while bytes.count < limit {
            guard let chunk = try? fd.read(upTo: 1), let byte = chunk.first else {
                return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\n") { break }
            bytes.append(byte)
        }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads all of `fd` up to `limit` bytes; nil when it holds more.
    public static func readAll(from fd: FileDescriptor, limit: Int) -> [UInt8]? {
        var content: [UInt8] = []
        while true {
            guard let chunk = try? fd.read(upTo: POSIXLimits.readChunkBytes) else { return nil }
            if chunk.isEmpty { return content }
            content += chunk
            if content.count > limit { return nil }
        }
    }
}
