/// RFC 3339 timestamps ("2026-11-23T07:38:17Z") to and from Unix seconds.
///
/// Token expiry times are exchanged as RFC 3339 text for humans and as Unix seconds
/// for arithmetic. This module may not use Foundation or libc, so the civil-calendar
/// conversion is done here with Howard Hinnant's days-from-civil algorithms, which are
/// exact for the proleptic Gregorian calendar over the whole `Int64` range we need.
public enum RFC3339 {
    private static let secondsPerDay: Int64 = 86_400

    /// "2026-11-23T07:38:17Z" for Unix seconds: UTC, no fraction.
    ///
    /// Years outside 0000–9999 cannot be written in RFC 3339; they are printed with as
    /// many digits as needed (and a leading `-` before year 0) rather than trapping.
    public static func format(_ unixSeconds: Int64) -> String {
        // Split without forming `days * secondsPerDay`, which overflows near Int64.min.
        let remainder = unixSeconds % secondsPerDay
        let days = unixSeconds / secondsPerDay - (remainder < 0 ? 1 : 0)
        let secondOfDay = remainder < 0 ? remainder + secondsPerDay : remainder
        let (year, month, day) = civil(fromDays: days)
        let hour = secondOfDay / 3600
        let minute = secondOfDay % 3600 / 60
        let second = secondOfDay % 60

        var text = year < 0 ? "-" + pad(-year, to: 4) : pad(year, to: 4)
        text += "-" + pad(month, to: 2) + "-" + pad(day, to: 2)
        text += "T" + pad(hour, to: 2) + ":" + pad(minute, to: 2) + ":" + pad(second, to: 2) + "Z"
        return text
    }

    /// Parses an RFC 3339 date-time, `YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)`,
    /// returning Unix seconds, or nil if the text is malformed or a field is out of range.
    ///
    /// Lowercase `t`/`z` and a space instead of `T` are accepted, as RFC 3339 allows.
    /// A fractional second is validated and dropped. Second 60 (a leap second) is
    /// accepted and counts as the first second of the next minute, since Unix time has
    /// no leap seconds.
    public static func parse(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20,
              let year = number(bytes, 0, 4), bytes[4] == UInt8(ascii: "-"),
              let month = number(bytes, 5, 2), bytes[7] == UInt8(ascii: "-"),
              let day = number(bytes, 8, 2),
              [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(bytes[10]),
              let hour = number(bytes, 11, 2), bytes[13] == UInt8(ascii: ":"),
              let minute = number(bytes, 14, 2), bytes[16] == UInt8(ascii: ":"),
              let second = number(bytes, 17, 2)
        else { return nil }

        guard (1...12).contains(month),
              (1...daysInMonth(month, year: year)).contains(day),
              (0...23).contains(hour),
              (0...59).contains(minute),
              (0...60).contains(second)
        else { return nil }

        var index = 19
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            while index < bytes.count, isDigit(bytes[index]) {
                index += 1
            }
            guard index > fractionStart else { return nil }
        }

        guard index < bytes.count else { return nil }
        let offsetSeconds: Int64
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            offsetSeconds = 0
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            guard index + 6 <= bytes.count,
                  let offsetHour = number(bytes, index + 1, 2),
                  bytes[index + 3] == UInt8(ascii: ":"),
                  let offsetMinute = number(bytes, index + 4, 2),
                  (0...23).contains(offsetHour),
                  (0...59).contains(offsetMinute)
            else { return nil }
            offsetSeconds = sign * (offsetHour * 3600 + offsetMinute * 60)
            index += 6
        default:
            return nil
        }
        guard index == bytes.count else { return nil }

        let days = daysFromCivil(year: year, month: month, day: day)
        let local = days * secondsPerDay + hour * 3600 + minute * 60 + second
        // "+02:00" means local time is ahead of UTC, so subtract the offset.
        return local - offsetSeconds
    }

    // MARK: - Calendar arithmetic

    /// Days since 1970-01-01 for a proleptic Gregorian date.
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's
    /// civil-from-days); also used for HTTP's `Date` header.
    public static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static func daysInMonth(_ month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2:
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            return leap ? 29 : 28
        case 4, 6, 9, 11:
            return 30
        default:
            return 31
        }
    }

    /// Division rounding toward negative infinity, so dates before 1970 work.
    private static func floorDivide(_ numerator: Int64, _ denominator: Int64) -> Int64 {
        let quotient = numerator / denominator
        return (numerator % denominator < 0) ? quotient - 1 : quotient
    }

    // MARK: - Text helpers

    /// A fixed-width run of ASCII digits, or nil.
    private static func number(_ bytes: [UInt8], _ start: Int, _ width: Int) -> Int64? {
        guard start + width <= bytes.count else { return nil }
        var value: Int64 = 0
        for index in start..<(start + width) {
            guard isDigit(bytes[index]) else { return nil }
            value = value * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
        }
        return value
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private static func pad(_ value: Int64, to width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
