import AgentProtocol

/// One line per request, for the journal: who called, for which account, what, and how
/// it ended. Never a body, a header value or a token.
public struct AuditRecord: Sendable {
    /// When the request ended, Unix seconds.
    public var unixSeconds: Int64
    /// `pid=N exe=PATH` of the calling process, or `pid=? exe=?` when it could not be found.
    public var caller: String
    public var account: String
    public var method: String
    /// The path without its query.
    public var path: String
    /// The status the client got; 499 when the client left first (nginx's convention).
    public var status: Int
    public var bytesIn: Int
    public var bytesOut: Int64
    public var milliseconds: Int64
    public var note: String?

    /// `request 2026-11-30T18:01:46Z pid=12 exe=/usr/bin/python3 account=work POST /v1/messages
    /// status=200 in=312 out=5120 ms=840`.
    public var line: String {
        var text = "request \(RFC3339.format(unixSeconds)) \(caller) account=\(account) \(method) \(path) "
            + "status=\(status) in=\(bytesIn) out=\(bytesOut) ms=\(milliseconds)"
        if let note { text += " (\(note))" }
        return text
    }
}
