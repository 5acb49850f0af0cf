/// An operation of the protocol: the one list the agent's dispatch, `hello`'s `ops`, the
/// client library, the bridge, the CLI and the benchmark all name, as OpenSSH's
/// `authfd.h` is included by both `ssh-agent.c` and `authfd.c`.
///
/// A request carries its op as a string (`Request.op`) so that an op this agent does not
/// know can still be read and answered `unknown_op`; `Op(rawValue:)` is the one place that
/// string is decoded. Protocol.md § Operations describes each case.
public enum Op: String, CaseIterable, Sendable, CustomStringConvertible {
    case hello
    case status
    case tokenGet = "token.get"
    case accountAdd = "account.add"
    case accountList = "account.list"
    case accountRemove = "account.remove"
    case agentLock = "agent.lock"
    case agentUnlock = "agent.unlock"
    case agentStop = "agent.stop"
    case loginStart = "login.start"
    case oauthCallback = "oauth.callback"
    case accountLogout = "account.logout"
    case accountImport = "account.import"
    case requestCreate = "request.create"
    case requestGet = "request.get"
    case requestList = "request.list"
    case requestWait = "request.wait"
    case requestSelectAccount = "request.select_account"
    case requestDeny = "request.deny"
    case requestCancel = "request.cancel"
    case providerGet = "provider.get"

    public var description: String { rawValue }
}
