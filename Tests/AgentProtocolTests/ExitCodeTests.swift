import Testing
@testable import AgentProtocol

@Suite("exit codes: one table for every program")
struct ExitCodeTests {
    @Test("each code exits with its row of the README's table; unknown codes are 7", arguments: [
        (ErrorCode.agentNotRunning, ExitCode.noAgent), (.io, .noAgent), (.usage, .usage), (.badRequest, .usage),
        (.badConfiguration, .usage), (.noToken, .noToken), (.notFound, .noToken), (.expired, .expired),
        (.loginRequired, .expired), (.refreshFailed, .expired), (.locked, .locked), (.denied, .denied),
        (.cancelled, .denied), (.timeout, .denied), (.requestFailed, .denied), (.notLocked, .failure),
        (.internal, .failure), (.listenFailed, .failure), (.startFailed, .failure), (ErrorCode(rawValue: "brand_new"), .failure),
    ])
    func mapping(code: ErrorCode, exit: ExitCode) {
        #expect(ExitCode(code) == exit)
    }

    @Test("no code is in two rows")
    func rowsAreDisjoint() {
        let codes = ExitCode.table.flatMap(\.1)
        #expect(Set(codes).count == codes.count)
    }
}
