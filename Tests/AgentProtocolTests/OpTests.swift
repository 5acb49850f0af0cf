import Foundation
import Testing
@testable import AgentProtocol

/// Protocol.md is the contract a client is written from: it must name exactly the ops the
/// agent dispatches, so the two cannot drift.
@Suite("The op vocabulary")
struct OpTests {
    static let protocolText: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("Protocol.md"), encoding: .utf8)) ?? ""
    }()

    @Test("Protocol.md documents every op under its own heading")
    func everyOpHasAHeading() throws {
        let text = Self.protocolText
        try #require(!text.isEmpty, "Protocol.md could not be read")
        let headings = text.split(separator: "\n").filter { $0.hasPrefix("### ") }
        for op in Op.allCases {
            #expect(headings.contains { $0.contains("`\(op.rawValue)`") }, "no heading for \(op.rawValue)")
        }
    }

    @Test("hello's example in Protocol.md lists exactly the ops, in order")
    func helloExampleMatches() throws {
        let text = Self.protocolText
        let marker = #""ops": ["#
        let start = try #require(text.range(of: marker))
        let end = try #require(text[start.upperBound...].firstIndex(of: "]"))
        let listed = text[start.upperBound..<end].split(separator: ",").map {
            $0.trimmingCharacters(in: CharacterSet(charactersIn: " \""))
        }
        #expect(listed == Op.allCases.map(\.rawValue))
    }

    @Test("an op string decodes to its case, and an unknown one to nil")
    func decoding() {
        #expect(Op(rawValue: "token.get") == .tokenGet)
        #expect(Op(rawValue: "request.select_account") == .requestSelectAccount)
        #expect(Op(rawValue: "token.GET") == nil)
        #expect(Request(rpcID: 1, op: .tokenGet).op == "token.get")
    }
}
