/// A POSIX TZ string as found in a TZif footer (RFC 8536 3.3), e.g. `CET-1CEST,M3.5.0,M10.5.0/3`:
/// a standard offset and, optionally, a daylight offset with the rules for when it starts and
/// ends each year. Offsets here are seconds east of UTC (the string counts them westwards).
struct PosixTimeZoneRule: Sendable, Equatable {
    /// A day of the year: `Jn` (1–365, February 29 never counted), `n` (0–365) or `Mm.w.d`
    /// (day `d`, 0 = Sunday, of week `w` of month `m`; week 5 is the last).
    enum Day: Sendable, Equatable {
        case julian(Int)
        case zeroBased(Int)
        case monthWeekDay(month: Int, week: Int, weekday: Int)
    }

    struct Change: Sendable, Equatable {
        var day: Day
        /// Local time of the change, seconds after midnight (may be negative or over 24 h).
        var time: Int64
    }

    var standard: Int64
    /// The daylight offset and when it begins and ends; nil for a zone without DST.
    var daylight: (offset: Int64, start: Change, end: Change)?

    static func == (a: Self, b: Self) -> Bool {
        a.standard == b.standard && a.daylight?.offset == b.daylight?.offset
            && a.daylight?.start == b.daylight?.start && a.daylight?.end == b.daylight?.end
    }

    /// nil for a string this reader does not understand.
    init?(_ text: String) {
        var scanner = Scanner(Array(text.utf8))
        guard scanner.name(), let standardWest = scanner.offset() else { return nil }
        standard = -standardWest
        if scanner.atEnd {
            daylight = nil
            return
        }
        guard scanner.name() else { return nil }
        var daylightOffset = standard + 3600
        if !scanner.atEnd, scanner.peek != UInt8(ascii: ",") {
            guard let west = scanner.offset() else { return nil }
            daylightOffset = -west
        }
        var start = Change(day: .monthWeekDay(month: 3, week: 2, weekday: 0), time: 7200)
        var end = Change(day: .monthWeekDay(month: 11, week: 1, weekday: 0), time: 7200)
        if !scanner.atEnd {
            guard scanner.take(UInt8(ascii: ",")), let first = scanner.change(), scanner.take(UInt8(ascii: ",")),
                let second = scanner.change(), scanner.atEnd
            else { return nil }
            (start, end) = (first, second)
        }
        daylight = (daylightOffset, start, end)
    }

    /// Seconds east of UTC in force at `utc`.
    func offset(at utc: Int64) -> Int64 {
        guard let daylight else { return standard }
        let year = CivilTime.year(ofDays: Self.floorDivide(utc + standard, 86_400))
        // The start is given in standard time, the end in daylight time.
        let start = Self.day(daylight.start.day, year: year) * 86_400 + daylight.start.time - standard
        let end = Self.day(daylight.end.day, year: year) * 86_400 + daylight.end.time - daylight.offset
        let inDaylight = start < end ? (utc >= start && utc < end) : !(utc >= end && utc < start)
        return inDaylight ? daylight.offset : standard
    }

    /// Days since the epoch of `day` in `year`.
    static func day(_ day: Day, year: Int) -> Int64 {
        let january1 = CivilTime.days(year: year, month: 1, day: 1)
        switch day {
        case .julian(let n):
            return january1 + Int64(n - 1 + (CivilTime.isLeap(year) && n >= 60 ? 1 : 0))
        case .zeroBased(let n):
            return january1 + Int64(n)
        case .monthWeekDay(let month, let week, let weekday):
            let first = CivilTime.days(year: year, month: month, day: 1)
            // 1970-01-01 was a Thursday (4).
            let firstWeekday = Int(floorModulo(first + 4, 7))
            var dayOfMonth = (weekday - firstWeekday + 7) % 7 + (week - 1) * 7
            while dayOfMonth >= CivilTime.daysIn(month: month, year: year) { dayOfMonth -= 7 }
            return first + Int64(dayOfMonth)
        }
    }

    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

    static func floorModulo(_ a: Int64, _ b: Int64) -> Int64 { a - floorDivide(a, b) * b }

    /// Reads the parts of a TZ string left to right.
    private struct Scanner {
        let bytes: [UInt8]
        var position = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { position >= bytes.count }
        var peek: UInt8? { atEnd ? nil : bytes[position] }

        mutating func take(_ byte: UInt8) -> Bool {
            guard peek == byte else { return false }
            position += 1
            return true
        }

        /// A zone abbreviation: three or more letters, or `<…>` (which may hold digits and signs).
        mutating func name() -> Bool {
            if take(UInt8(ascii: "<")) {
                guard let close = bytes[position...].firstIndex(of: UInt8(ascii: ">")), close - position >= 3 else {
                    return false
                }
                position = close + 1
                return true
            }
            let start = position
            while let byte = peek, (byte | 0x20) >= UInt8(ascii: "a"), (byte | 0x20) <= UInt8(ascii: "z") {
                position += 1
            }
            return position - start >= 3
        }

        mutating func number(maxDigits: Int) -> Int64? {
            let start = position
            var value: Int64 = 0
            while let byte = peek, byte >= 0x30, byte <= 0x39, position - start < maxDigits {
                value = value * 10 + Int64(byte - 0x30)
                position += 1
            }
            return position > start ? value : nil
        }

        /// `[+-]hh[:mm[:ss]]` in seconds; hours up to 167 (RFC 8536's extension for times).
        mutating func offset() -> Int64? {
            var sign: Int64 = 1
            if take(UInt8(ascii: "-")) { sign = -1 } else { _ = take(UInt8(ascii: "+")) }
            guard let hours = number(maxDigits: 3), hours <= 167 else { return nil }
            var seconds = hours * 3600
            if take(UInt8(ascii: ":")) {
                guard let minutes = number(maxDigits: 2), minutes < 60 else { return nil }
                seconds += minutes * 60
                if take(UInt8(ascii: ":")) {
                    guard let secs = number(maxDigits: 2), secs < 60 else { return nil }
                    seconds += secs
                }
            }
            return sign * seconds
        }

        /// `date[/time]`.
        mutating func change() -> Change? {
            let day: Day
            if take(UInt8(ascii: "J")) {
                guard let n = number(maxDigits: 3), (1...365).contains(n) else { return nil }
                day = .julian(Int(n))
            } else if take(UInt8(ascii: "M")) {
                guard let month = number(maxDigits: 2), (1...12).contains(month), take(UInt8(ascii: ".")),
                    let week = number(maxDigits: 1), (1...5).contains(week), take(UInt8(ascii: ".")),
                    let weekday = number(maxDigits: 1), weekday <= 6
                else { return nil }
                day = .monthWeekDay(month: Int(month), week: Int(week), weekday: Int(weekday))
            } else {
                guard let n = number(maxDigits: 3), n <= 365 else { return nil }
                day = .zeroBased(Int(n))
            }
            var time: Int64 = 7200
            if take(UInt8(ascii: "/")) {
                guard let t = offset() else { return nil }
                time = t
            }
            return Change(day: day, time: time)
        }
    }
}
