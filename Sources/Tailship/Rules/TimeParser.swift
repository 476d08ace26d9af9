/// Why a `time.format` is not usable.
public struct TimeFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// Reads a log line's time field into integer milliseconds since the epoch, on bytes.
///
/// Formats: `iso8601` (`2026-11-28T04:59:15.481Z`, `T` or space, any fraction length, `Z`,
/// `+hh:mm`, `+hhmm`, `+hh` or no offset), `unix` (seconds, fraction allowed), `unix_ms`, or a
/// strptime format (see `TimeParser+Strptime.swift` for the directives). A time without an
/// offset is read in the source's zone. Fractions below the millisecond are truncated.
///
/// Not thread-safe (the zone cache mutates): one per `RuleEngine`.
public final class TimeParser {
    enum Kind {
        case iso8601, unix, unixMs
        case strptime([StrptimeDirective])
    }

    /// The format as configured.
    public let format: String
    let kind: Kind
    let zone: ZoneOffsetCache

    /// Compiles `format`; throws when it is neither a named format nor a strptime format.
    public init(format: String, zone: ZoneOffsetCache) throws(TimeFormatError) {
        self.format = format
        self.zone = zone
        switch format {
        case "iso8601": kind = .iso8601
        case "unix": kind = .unix
        case "unix_ms": kind = .unixMs
        default:
            guard format.contains("%") else {
                throw TimeFormatError(
                    message: "unknown time format '\(format)' (use iso8601, unix, unix_ms or a strptime format)")
            }
            kind = .strptime(try StrptimeDirective.compile(format))
        }
    }

    /// Milliseconds since the epoch, or nil when `text` does not fit the format.
    /// `nowMs` is used only by strptime formats without a year (syslog's `%b %e %H:%M:%S`).
    public func parse(_ text: UnsafeRawBufferPointer, nowMs: Int64) -> Int64? {
        var cursor = ByteCursor(text)
        switch kind {
        case .iso8601: return parseISO8601(&cursor)
        case .unix: return parseUnix(&cursor, scale: 1000)
        case .unixMs: return parseUnix(&cursor, scale: 1)
        case .strptime(let directives): return parseStrptime(directives, &cursor, nowMs: nowMs)
        }
    }

    /// Convenience over `parse(_:nowMs:)` for a String (tests, tooling).
    public func parse(_ text: String, nowMs: Int64) -> Int64? {
        var copy = text
        return copy.withUTF8 { parse(UnsafeRawBufferPointer($0), nowMs: nowMs) }
    }

    /// Combines parsed fields into epoch milliseconds; `offset` nil means the source's zone.
    func epochMs(
        year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millis: Int,
        offset: Int?
    ) -> Int64? {
        guard (1...12).contains(month), day >= 1, day <= CivilTime.daysIn(month: month, year: year),
            (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        let local =
            CivilTime.days(year: year, month: month, day: day) * 86_400
            + Int64(hour * 3600 + minute * 60 + min(second, 59))
        let utc = offset.map { local - Int64($0) } ?? zone.utcSeconds(fromLocal: local)
        return utc * 1000 + Int64(millis)
    }

    private func parseISO8601(_ c: inout ByteCursor) -> Int64? {
        guard let year = c.digits(exactly: 4), c.consume(UInt8(ascii: "-")),
            let month = c.digits(exactly: 2), c.consume(UInt8(ascii: "-")),
            let day = c.digits(exactly: 2)
        else { return nil }
        var hour = 0
        var minute = 0
        var second = 0
        var millis = 0
        var offset: Int?
        if !c.atEnd {
            guard let sep = c.next(), sep == UInt8(ascii: "T") || sep == UInt8(ascii: "t") || sep == 0x20,
                let h = c.digits(exactly: 2), c.consume(UInt8(ascii: ":")), let m = c.digits(exactly: 2)
            else { return nil }
            hour = h
            minute = m
            if c.consume(UInt8(ascii: ":")) {
                guard let s = c.digits(exactly: 2) else { return nil }
                second = s
                if c.consume(UInt8(ascii: ".")) || c.consume(UInt8(ascii: ",")) {
                    guard let f = c.fractionMillis() else { return nil }
                    millis = f
                }
            }
            if !c.atEnd {
                guard let o = c.zoneOffset() else { return nil }
                offset = o
            }
            guard c.atEnd else { return nil }
        }
        return epochMs(
            year: year, month: month, day: day, hour: hour, minute: minute, second: second,
            millis: millis, offset: offset)
    }

    private func parseUnix(_ c: inout ByteCursor, scale: Int64) -> Int64? {
        guard let whole = c.number(maxDigits: 16) else { return nil }
        var fraction: Int64 = 0
        if c.consume(UInt8(ascii: ".")) {
            // Keep as many fraction digits as the scale can use (3 for seconds, 0 for ms).
            var place = scale / 10
            var sawDigit = false
            while let b = c.peek(), b >= 0x30, b <= 0x39 {
                fraction += Int64(b - 0x30) * place
                place /= 10
                sawDigit = true
                c.advance()
            }
            guard sawDigit else { return nil }
        }
        guard c.atEnd else { return nil }
        let (ms, overflow) = whole.multipliedReportingOverflow(by: scale)
        return overflow ? nil : ms + fraction
    }
}

/// A read position over a byte buffer, with the small scanners the time formats need.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var atEnd: Bool { index >= bytes.count }
    func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }
    mutating func advance() { index += 1 }
    mutating func next() -> UInt8? {
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func consume(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        index += 1
        return true
    }

    /// Exactly `n` ASCII digits.
    mutating func digits(exactly n: Int) -> Int? { digits(min: n, max: n) }

    /// Between `min` and `max` ASCII digits, as many as are there.
    mutating func digits(min: Int, max: Int) -> Int? {
        var value = 0
        var count = 0
        while count < max, let b = peek(), b >= 0x30, b <= 0x39 {
            value = value * 10 + Int(b - 0x30)
            count += 1
            index += 1
        }
        return count >= min ? value : nil
    }

    /// An unsigned integer of at most `maxDigits` digits.
    mutating func number(maxDigits: Int) -> Int64? {
        var value: Int64 = 0
        var count = 0
        while let b = peek(), b >= 0x30, b <= 0x39 {
            guard count < maxDigits else { return nil }
            value = value * 10 + Int64(b - 0x30)
            count += 1
            index += 1
        }
        return count > 0 ? value : nil
    }

    /// One or more fraction digits, truncated to milliseconds.
    mutating func fractionMillis() -> Int? {
        var millis = 0
        var count = 0
        while let b = peek(), b >= 0x30, b <= 0x39 {
            if count < 3 { millis = millis * 10 + Int(b - 0x30) }
            count += 1
            index += 1
        }
        guard count > 0 else { return nil }
        for _ in count..<max(count, 3) { millis *= 10 }
        return millis
    }

    /// `Z`, `+hh:mm`, `+hhmm` or `+hh` (or `-`), as seconds east of UTC.
    mutating func zoneOffset() -> Int? {
        guard let b = peek() else { return nil }
        if b == UInt8(ascii: "Z") || b == UInt8(ascii: "z") {
            index += 1
            return 0
        }
        guard b == UInt8(ascii: "+") || b == UInt8(ascii: "-") else { return nil }
        index += 1
        guard let hours = digits(exactly: 2), hours <= 23 else { return nil }
        var minutes = 0
        let colon = consume(UInt8(ascii: ":"))
        if colon || (peek().map { $0 >= 0x30 && $0 <= 0x39 } ?? false) {
            guard let m = digits(exactly: 2), m <= 59 else { return nil }
            minutes = m
        }
        let seconds = hours * 3600 + minutes * 60
        return b == UInt8(ascii: "-") ? -seconds : seconds
    }

    /// Matches `word` case-insensitively (ASCII letters).
    mutating func consumeWord(_ word: [UInt8], prefix: Int = .max) -> Bool {
        let n = Swift.min(prefix, word.count)
        guard bytes.count - index >= n else { return false }
        for k in 0..<n where bytes[index + k] | 0x20 != word[k] | 0x20 { return false }
        index += n
        return true
    }

    mutating func skipSpaces() {
        while let b = peek(), b == 0x20 || b == 0x09 { index += 1 }
    }
}
