import AgentProtocol
import Testing

@Suite("number ranges at the door, saturating arithmetic after it")
struct NumberRangeTests {
    @Test("saturating sums, differences and products stop at the ends of Int64")
    func saturating() {
        #expect(Int64.max.saturatingAdding(1) == .max)
        #expect(Int64.min.saturatingAdding(-1) == .min)
        #expect(Int64(5).saturatingAdding(-7) == -2)
        #expect(Int64.min.saturatingSubtracting(60) == .min)
        #expect(Int64.max.saturatingSubtracting(-1) == .max)
        #expect(Int64(1_000).saturatingSubtracting(60) == 940)
        #expect(Int64.max.saturatingMultiplied(by: 1000) == .max)
        #expect(Int64.min.saturatingMultiplied(by: 1000) == .min)
        #expect(Int64.min.saturatingMultiplied(by: -1) == .max)
        #expect(Int64(-3).saturatingMultiplied(by: Int64.max) == .min)
        #expect(Int64(60).saturatingMultiplied(by: 1000) == 60_000)
    }

    static let extremes: [JSONValue] = [.int(.min), .int(.max), .int(-1), .int(0), .int(1 << 53), .double(1e300),
                                        .double(9_223_372_036_854_775_808.0), .double(-1e300), .double(0.5)]

    @Test("an integer field read with a range takes only integers in it", arguments: extremes)
    func rangedField(_ value: JSONValue) {
        let object: JSONObject = ["lifetime": value]
        let inRange = value.intValue.map { NumberRange.durationSeconds.contains($0) } ?? false
        do {
            let read = try object.optionalInt("lifetime", in: NumberRange.durationSeconds, unit: "seconds")
            #expect(inRange && read == value.intValue)
        } catch {
            #expect(!inRange)
            #expect(error.code == .badRequest)
            #expect(error.message == "field \"lifetime\" must be an integer from 1 to 315576000 seconds")
        }
    }

    @Test("account.add's expires_in and expires_at: extremes are bad_request, never a trap", arguments: extremes)
    func tokenBundleExpiry(_ value: JSONValue) {
        let now: Int64 = 1_800_000_000
        let object: JSONObject = ["access_token": "x", "expires_in": value]
        let inRange = value.intValue.map { NumberRange.expiresInSeconds.contains($0) } ?? false
        do {
            let bundle = try TokenBundle(json: object, now: now)
            #expect(inRange)
            #expect(bundle.expiresAt == now + (value.intValue ?? 0))
        } catch {
            #expect(!inRange && error.code == .badRequest)
        }
    }

    @Test("expires_at before 1970 or written with an offset past 9999 is bad_request")
    func expiresAtText() throws {
        for text in ["0000-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "0001-01-01T00:00:00+23:59"] {
            #expect(throws: AgentError.self) { try TokenBundle(json: ["access_token": "x", "expires_at": .string(text)], now: 0) }
        }
        let last = try TokenBundle(json: ["access_token": "x", "expires_at": "9999-12-31T23:59:59Z"], now: 0)
        #expect(last.expiresAt == 253_402_300_799)
    }

    @Test("scopes past 4096 bytes and tokens past 16 KiB are bad_request")
    func fieldSizes() {
        let scopes = JSONValue.array((0..<1000).map { .string("scope\($0)") })
        #expect(throws: AgentError.self) { try TokenBundle(json: ["access_token": "x", "scopes": scopes], now: 0) }
        let token = JSONValue.string(String(repeating: "t", count: TokenBundle.maxTokenBytes + 1))
        #expect(throws: AgentError.self) { try TokenBundle(json: ["access_token": token], now: 0) }
    }
}
