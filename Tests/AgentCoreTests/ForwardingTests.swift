import Testing

@testable import AgentCore

@Suite("Forwarding: the destination of the ssh relaying a forwarded socket")
struct ForwardingTests {
    @Test("the first word that is neither an option nor an option's argument", arguments: [
        (["-R", "/tmp/a.sock:/run/user/1000/claude-agent/agent.sock", "build1"], "build1"),
        (["-N", "-T", "-o", "StreamLocalBindUnlink=yes", "alice@build1"], "alice@build1"),
        (["-NTR/tmp/a.sock:/tmp/b.sock", "build1", "uptime"], "build1"),
        (["-p", "2222", "-i", "/home/a/.ssh/id", "-l", "bob", "build1"], "bob@build1"),
        (["-lbob", "carol@build1"], "carol@build1"),
        (["-4", "-v", "--", "-odd-host"], "-odd-host"),
        (["ssh://alice@build1:2222"], "ssh://alice@build1:2222"),
    ])
    func destination(arguments: [String], expected: String) {
        #expect(Forwarding.sshDestination(arguments) == expected)
    }

    @Test("no destination when every word is an option or its argument", arguments: [
        [], ["-N"], ["-R", "/tmp/a:/tmp/b"], ["-o"], ["--"],
    ])
    func none(arguments: [String]) {
        #expect(Forwarding.sshDestination(arguments) == nil)
    }
}
