import AgentProtocol

/// The `Date` header's IMF-fixdate form (RFC 9110 §5.6.7): `Sun, 06 Nov 1994 08:49:37 GMT`.
///
/// An origin server with a clock must send `Date`; without Foundation the civil date comes
/// from the same algorithm RFC 3339 times use.
enum HTTPDate {
    static func format(_ unixSeconds: Int64) -> String {
        let days = floorDivide(unixSeconds, 86_400)
        let secondOfDay = unixSeconds - days * 86_400
        let weekday = Int((days % 7 + 7 + 4) % 7)  // 1970-01-01 was a Thursday (4)
        let (year, month, day) = RFC3339.civil(fromDays: days)
        return "\(weekdays[weekday]), \(pad(day)) \(months[Int(month) - 1]) \(year) "
            + "\(pad(secondOfDay / 3600)):\(pad(secondOfDay / 60 % 60)):\(pad(secondOfDay % 60)) GMT"
    }

    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private static func pad(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }
}
