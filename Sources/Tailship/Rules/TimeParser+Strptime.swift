/// One compiled piece of a strptime format.
///
/// Supported: `%Y` (4-digit year), `%y` (2-digit: 69-99 → 19xx, else 20xx, as POSIX),
/// `%m`, `%d`, `%e` (space-padded day), `%j` (day of year), `%H`, `%I` with `%p` (AM/PM),
/// `%M`, `%S` (60 read as 59), `%f` (fraction digits of any length, after `%S.`), `%z` (`Z`,
/// `+hh:mm`, `+hhmm`, `+hh`), `%Z` (only `UTC`, `GMT` or `Z`: other abbreviations are ambiguous),
/// `%b`/`%h`/`%B` (month name, English, abbreviated or full), `%a`/`%A` (weekday name, read and
/// ignored), `%s` (epoch seconds), `%T` (= `%H:%M:%S`), `%F` (= `%Y-%m-%d`), `%D` (= `%m/%d/%y`),
/// `%n`/`%t` and a space (any run of spaces, possibly none), `%%`. Other bytes match themselves.
/// Without a year directive the year is the current one, or the previous one when that would
/// put the time more than a day in the future (syslog lines read just after New Year).
enum StrptimeDirective: Equatable {
    case literal(UInt8)
    case whitespace
    case year4, year2, month, day, dayOfYear, hour24, hour12, minute, second, fraction
    case zoneOffset, zoneName, monthName, weekdayName, amPm, epochSeconds

    static func compile(_ format: String) throws(TimeFormatError) -> [StrptimeDirective] {
        var out: [StrptimeDirective] = []
        let bytes = Array(format.utf8)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x20 || b == 0x09 {
                if out.last != .whitespace { out.append(.whitespace) }
                i += 1
                continue
            }
            guard b == UInt8(ascii: "%") else {
                out.append(.literal(b))
                i += 1
                continue
            }
            guard i + 1 < bytes.count else {
                throw TimeFormatError(message: "time format '\(format)' ends with a lone '%'")
            }
            let d = bytes[i + 1]
            i += 2
            switch d {
            case UInt8(ascii: "Y"): out.append(.year4)
            case UInt8(ascii: "y"): out.append(.year2)
            case UInt8(ascii: "m"): out.append(.month)
            case UInt8(ascii: "d"), UInt8(ascii: "e"): out.append(.day)
            case UInt8(ascii: "j"): out.append(.dayOfYear)
            case UInt8(ascii: "H"): out.append(.hour24)
            case UInt8(ascii: "I"): out.append(.hour12)
            case UInt8(ascii: "M"): out.append(.minute)
            case UInt8(ascii: "S"): out.append(.second)
            case UInt8(ascii: "f"): out.append(.fraction)
            case UInt8(ascii: "z"): out.append(.zoneOffset)
            case UInt8(ascii: "Z"): out.append(.zoneName)
            case UInt8(ascii: "b"), UInt8(ascii: "h"), UInt8(ascii: "B"): out.append(.monthName)
            case UInt8(ascii: "a"), UInt8(ascii: "A"): out.append(.weekdayName)
            case UInt8(ascii: "p"): out.append(.amPm)
            case UInt8(ascii: "s"): out.append(.epochSeconds)
            case UInt8(ascii: "T"):
                out += [.hour24, .literal(UInt8(ascii: ":")), .minute, .literal(UInt8(ascii: ":")), .second]
            case UInt8(ascii: "F"):
                out += [.year4, .literal(UInt8(ascii: "-")), .month, .literal(UInt8(ascii: "-")), .day]
            case UInt8(ascii: "D"):
                out += [.month, .literal(UInt8(ascii: "/")), .day, .literal(UInt8(ascii: "/")), .year2]
            case UInt8(ascii: "n"), UInt8(ascii: "t"):
                if out.last != .whitespace { out.append(.whitespace) }
            case UInt8(ascii: "%"): out.append(.literal(UInt8(ascii: "%")))
            default:
                throw TimeFormatError(
                    message: "time format '\(format)' uses unsupported directive '%\(Character(Unicode.Scalar(d)))'")
            }
        }
        return out
    }

    static let monthNames: [[UInt8]] = [
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
        "november", "december",
    ].map { Array($0.utf8) }
    static let weekdayNames: [[UInt8]] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        .map { Array($0.utf8) }
    static let utc = Array("UTC".utf8), gmt = Array("GMT".utf8), zulu = Array("Z".utf8)
    static let am = Array("AM".utf8), pm = Array("PM".utf8)
}

extension TimeParser {
    /// Reads `cursor` with a compiled strptime format; the whole input must be consumed.
    func parseStrptime(_ directives: [StrptimeDirective], _ c: inout ByteCursor, nowMs: Int64) -> Int64? {
        var year: Int?
        var month = 1
        var day = 1
        var dayOfYear: Int?
        var hour = 0
        var minute = 0
        var second = 0
        var millis = 0
        var pm: Bool?
        var offset: Int?
        var epoch: Int64?
        for directive in directives {
            switch directive {
            case .literal(let b): guard c.consume(b) else { return nil }
            case .whitespace: c.skipSpaces()
            case .year4:
                guard let v = c.digits(min: 4, max: 4) else { return nil }
                year = v
            case .year2:
                guard let v = c.digits(min: 2, max: 2) else { return nil }
                year = v >= 69 ? 1900 + v : 2000 + v
            case .month:
                guard let v = c.digits(min: 1, max: 2) else { return nil }
                month = v
            case .day:
                c.skipSpaces()
                guard let v = c.digits(min: 1, max: 2) else { return nil }
                day = v
            case .dayOfYear:
                guard let v = c.digits(min: 1, max: 3) else { return nil }
                dayOfYear = v
            case .hour24, .hour12:
                guard let v = c.digits(min: 1, max: 2) else { return nil }
                hour = v
            case .minute:
                guard let v = c.digits(min: 1, max: 2) else { return nil }
                minute = v
            case .second:
                guard let v = c.digits(min: 1, max: 2) else { return nil }
                second = v
            case .fraction:
                guard let v = c.fractionMillis() else { return nil }
                millis = v
            case .zoneOffset:
                guard let v = c.zoneOffset() else { return nil }
                offset = v
            case .zoneName:
                guard
                    c.consumeWord(StrptimeDirective.utc) || c.consumeWord(StrptimeDirective.gmt)
                        || c.consumeWord(StrptimeDirective.zulu)
                else { return nil }
                offset = 0
            case .monthName:
                guard let m = Self.readName(&c, StrptimeDirective.monthNames) else { return nil }
                month = m
            case .weekdayName: guard Self.readName(&c, StrptimeDirective.weekdayNames) != nil else { return nil }
            case .amPm:
                if c.consumeWord(StrptimeDirective.am) {
                    pm = false
                } else if c.consumeWord(StrptimeDirective.pm) {
                    pm = true
                } else {
                    return nil
                }
            case .epochSeconds:
                guard let v = c.number(maxDigits: 12) else { return nil }
                epoch = v
            }
        }
        guard c.atEnd else { return nil }
        if let epoch { return epoch * 1000 + Int64(millis) }
        if let pm {
            guard (1...12).contains(hour) else { return nil }
            hour = hour % 12 + (pm ? 12 : 0)
        }
        if let year, let dayOfYear {
            guard let (m, d) = Self.monthDay(dayOfYear: dayOfYear, year: year) else { return nil }
            month = m
            day = d
        }
        if let year {
            return epochMs(
                year: year, month: month, day: day, hour: hour, minute: minute, second: second,
                millis: millis, offset: offset)
        }
        // No year in the line: this year, or last year if that lands over a day in the future.
        let thisYear = CivilTime.year(ofDays: (nowMs >= 0 ? nowMs : nowMs - 86_399_999) / 86_400_000)
        guard
            let guess = epochMs(
                year: thisYear, month: month, day: day, hour: hour, minute: minute,
                second: second, millis: millis, offset: offset)
        else {
            // Feb 29 in a non-leap current year: only last year could hold it (no), so fail.
            return nil
        }
        if guess > nowMs + 86_400_000 {
            return epochMs(
                year: thisYear - 1, month: month, day: day, hour: hour, minute: minute, second: second,
                millis: millis, offset: offset)
        }
        return guess
    }

    /// Reads a full or 3-letter English name from `names`, returning its 1-based position.
    private static func readName(_ c: inout ByteCursor, _ names: [[UInt8]]) -> Int? {
        for (i, name) in names.enumerated() {
            if c.consumeWord(name) || c.consumeWord(name, prefix: 3) { return i + 1 }
        }
        return nil
    }

    private static func monthDay(dayOfYear: Int, year: Int) -> (Int, Int)? {
        var remaining = dayOfYear
        for m in 1...12 {
            let n = CivilTime.daysIn(month: m, year: year)
            if remaining >= 1, remaining <= n { return (m, remaining) }
            remaining -= n
        }
        return nil
    }
}
