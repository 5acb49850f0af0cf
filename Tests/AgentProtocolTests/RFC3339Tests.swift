import Testing
@testable import AgentProtocol

@Suite("RFC 3339 timestamps")
struct RFC3339Tests {
    @Test("known Unix times format as UTC text", arguments: [
        (Int64(0), "1970-01-01T00:00:00Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),
        (1_700_000_000, "2023-11-14T22:13:20Z"),
        (1_000_000_000, "2001-09-09T01:46:40Z"),
        (-1, "1969-12-31T23:59:59Z"),
        (4_102_444_800, "2100-01-01T00:00:00Z"),
        (253_402_300_799, "9999-12-31T23:59:59Z"),
        (-62_135_596_800, "0001-01-01T00:00:00Z"),
    ])
    func format(seconds: Int64, text: String) {
        #expect(RFC3339.format(seconds) == text)
        #expect(RFC3339.parse(text) == seconds)
    }

    @Test("numeric offsets, lowercase letters and a space separator are understood", arguments: [
        ("2023-11-15T00:13:20+02:00", Int64(1_700_000_000)),
        ("2023-11-14T17:13:20-05:00", 1_700_000_000),
        ("2023-11-14T22:13:20+00:00", 1_700_000_000),
        ("2023-11-14T22:13:20-00:00", 1_700_000_000),
        ("2023-11-15T04:43:20+06:30", 1_700_000_000),
        ("2023-11-14t22:13:20z", 1_700_000_000),
        ("2023-11-14 22:13:20Z", 1_700_000_000),
        ("1970-01-01T00:00:00+23:59", -86_340),
    ])
    func offsets(text: String, seconds: Int64) {
        #expect(RFC3339.parse(text) == seconds)
    }

    @Test("fractional seconds are accepted and dropped", arguments: [
        ("2023-11-14T22:13:20.999Z", Int64(1_700_000_000)),
        ("2023-11-14T22:13:20.0Z", 1_700_000_000),
        ("2023-11-14T22:13:20.123456789+01:00", 1_699_996_400),
        ("1969-12-31T23:59:59.5Z", -1),
    ])
    func fractions(text: String, seconds: Int64) {
        #expect(RFC3339.parse(text) == seconds)
    }

    @Test("leap days exist only in leap years", arguments: [
        ("2000-02-29T00:00:00Z", true),
        ("2024-02-29T12:00:00Z", true),
        ("2023-02-29T00:00:00Z", false),
        ("1900-02-29T00:00:00Z", false),
        ("2100-02-29T00:00:00Z", false),
        ("2400-02-29T00:00:00Z", true),
    ])
    func leapDays(text: String, valid: Bool) {
        #expect((RFC3339.parse(text) != nil) == valid)
    }

    @Test("a leap second counts as the first second of the next minute")
    func leapSecond() {
        #expect(RFC3339.parse("2016-12-31T23:59:60Z") == 1_483_228_800)
    }

    @Test("malformed or out-of-range text is rejected", arguments: [
        "",
        "2023-11-14",
        "2023-11-14T22:13:20",
        "2023-02-30T00:00:00Z",
        "2023-04-31T00:00:00Z",
        "2023-13-01T00:00:00Z",
        "2023-00-01T00:00:00Z",
        "2023-01-00T00:00:00Z",
        "2023-01-32T00:00:00Z",
        "2023-11-14T24:00:00Z",
        "2023-11-14T22:60:00Z",
        "2023-11-14T22:13:61Z",
        "2023-11-14T22:13:20.Z",
        "2023-11-14T22:13:20.5",
        "2023-11-14T22:13:20+0200",
        "2023-11-14T22:13:20+02",
        "2023-11-14T22:13:20+24:00",
        "2023-11-14T22:13:20+02:60",
        "2023-11-14T22:13:20Zjunk",
        "2023-11-14T22:13:20Z ",
        " 2023-11-14T22:13:20Z",
        "2023-1-14T22:13:20Z",
        "2023/11/14T22:13:20Z",
        "2023-11-14X22:13:20Z",
        "2023-11-14T22-13-20Z",
        "+023-11-14T22:13:20Z",
        "2023-11-14T2a:13:20Z",
        "20231114T221320Z",
        "2023-11-14T22:13:20UTC",
    ])
    func invalid(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test("format and parse round-trip across years 0001 to 9999")
    func roundTripRange() {
        var seconds: Int64 = -62_135_596_800
        var mismatches = 0
        while seconds <= 253_402_300_799 {
            if RFC3339.parse(RFC3339.format(seconds)) != seconds { mismatches += 1 }
            seconds += 7_777_777
        }
        #expect(mismatches == 0)
    }

    @Test("every day boundary around the epoch and 2000 converts both ways")
    func dayBoundaries() {
        for day in Int64(-800)...800 {
            for base in [Int64(0), 946_684_800] {
                let seconds = base + day * 86_400
                #expect(RFC3339.parse(RFC3339.format(seconds)) == seconds)
                #expect(RFC3339.parse(RFC3339.format(seconds - 1)) == seconds - 1)
            }
        }
    }

    @Test("consecutive days advance the date by one")
    func consecutiveDays() {
        var previous = RFC3339.civil(fromDays: -1000)
        for days in Int64(-999)...20_000 {
            let current = RFC3339.civil(fromDays: days)
            #expect(RFC3339.daysFromCivil(year: current.year, month: current.month, day: current.day) == days)
            let sameMonth = current.year == previous.year && current.month == previous.month
                && current.day == previous.day + 1
            let nextMonth = current.day == 1
                && (current.month == previous.month + 1 && current.year == previous.year
                    || current.month == 1 && previous.month == 12 && current.year == previous.year + 1)
            #expect(sameMonth || nextMonth)
            previous = current
        }
    }

    @Test("extreme inputs format without trapping", arguments: [Int64.min, Int64.max, -62_135_596_801])
    func extremes(seconds: Int64) {
        #expect(!RFC3339.format(seconds).isEmpty)
    }

    @Test("a time before year 1 formats with a year of zero")
    func yearZero() {
        #expect(RFC3339.format(-62_135_596_801) == "0000-12-31T23:59:59Z")
    }
}
