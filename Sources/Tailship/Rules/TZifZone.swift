#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A named time zone read from the system's tz database (`/usr/share/zoneinfo`, the TZif format
/// of RFC 8536): the UTC offset in force at any instant. FoundationEssentials resolves no IANA
/// names by itself (full Foundation does, through ICU and its multi-MiB tables), and this is
/// all tailship needs of a zone.
///
/// Instants before the first recorded transition take the file's first time type; instants
/// after the last take the POSIX TZ rule in the file's footer (version 2 and later), so the
/// offsets stay right past 2037 whatever the file's build (`fat` or `slim`) recorded.
struct TZifZone: Sendable {
    static let directory = "/usr/share/zoneinfo"

    /// Transition instants (seconds since the epoch, ascending) and the offset from each on.
    private let transitions: [Int64]
    private let offsets: [Int32]
    private let initialOffset: Int32
    private let rule: PosixTimeZoneRule?

    /// nil when `identifier` names no readable, well-formed TZif file under `directory`. UTC and
    /// GMT work without one (a minimal container may have no tz database at all), and so do the
    /// fixed offsets Foundation's `TimeZone` accepted, `GMT+1`, `UTC-03:30`, `GMT+0545`.
    init?(identifier: String, directory: String = TZifZone.directory) {
        if let offset = Self.fixedOffset(identifier) {
            self.init(fixedOffset: offset)
            return
        }
        guard Self.isPlausible(identifier) else { return nil }
        if let bytes = FileManager.default.contents(atPath: directory + "/" + identifier),
            let zone = TZifZone(bytes: Array(bytes))
        {
            self = zone
        } else if ["UTC", "GMT", "Etc/UTC", "Etc/GMT", "Etc/Universal", "Universal", "Zulu"].contains(identifier) {
            self.init(fixedOffset: 0)
        } else {
            return nil
        }
    }

    init(fixedOffset: Int32) {
        transitions = []
        offsets = []
        initialOffset = fixedOffset
        rule = nil
    }

    /// Parses a TZif file: the 64-bit data of version 2+ files (the 32-bit data of version 1).
    init?(bytes: [UInt8]) {
        var reader = TZifReader(bytes: bytes)
        guard let first = reader.header() else { return nil }
        if first.version >= 2 {
            guard reader.skip(first.dataLength(timeSize: 4)), let second = reader.header() else { return nil }
            guard let block = reader.block(second, timeSize: 8) else { return nil }
            (transitions, offsets, initialOffset) = block
            rule = reader.footer().flatMap(PosixTimeZoneRule.init)
        } else {
            guard let block = reader.block(first, timeSize: 4) else { return nil }
            (transitions, offsets, initialOffset) = block
            rule = nil
        }
    }

    /// Seconds east of UTC in force at `utc` (seconds since the epoch).
    func offset(at utc: Int64) -> Int {
        if let rule, transitions.last.map({ utc >= $0 }) ?? true { return Int(rule.offset(at: utc)) }
        // The last transition at or before `utc`.
        var low = 0
        var high = transitions.count
        while low < high {
            let middle = (low + high) / 2
            if transitions[middle] <= utc { low = middle + 1 } else { high = middle }
        }
        return Int(low == 0 ? initialOffset : offsets[low - 1])
    }

    /// Seconds east of UTC for `GMT` or `UTC` followed by a sign and `h`, `hh`, `hhmm` or
    /// `hh:mm` (up to 18 hours), else nil.
    private static func fixedOffset(_ identifier: String) -> Int32? {
        let bytes = Array(identifier.utf8)
        guard bytes.count > 4, identifier.hasPrefix("GMT") || identifier.hasPrefix("UTC"),
            bytes[3] == UInt8(ascii: "+") || bytes[3] == UInt8(ascii: "-")
        else { return nil }
        var digits = Array(bytes[4...])
        if digits.count == 5, digits[2] == UInt8(ascii: ":") { digits.remove(at: 2) }
        guard digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), [1, 2, 4].contains(digits.count) else { return nil }
        let values = digits.map { Int32($0 - 0x30) }
        let hours = digits.count == 1 ? values[0] : values[0] * 10 + values[1]
        let minutes = digits.count == 4 ? values[2] * 10 + values[3] : 0
        guard hours <= 18, minutes < 60 else { return nil }
        return (bytes[3] == UInt8(ascii: "-") ? -1 : 1) * (hours * 3600 + minutes * 60)
    }

    /// A relative path of name characters only: no `..`, nothing absolute, nothing hidden.
    private static func isPlausible(_ identifier: String) -> Bool {
        guard !identifier.isEmpty, identifier.utf8.count <= 255, !identifier.hasPrefix("/") else { return false }
        let allowed = identifier.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A)
                || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
                || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: ".")
        }
        return allowed && !identifier.split(separator: "/").contains { $0.hasPrefix(".") }
    }
}

/// Reads the parts of a TZif file in order (all integers big-endian).
private struct TZifReader {
    struct Header {
        var version: Int
        var isUTCCount, isStdCount, leapCount, timeCount, typeCount, charCount: Int

        func dataLength(timeSize: Int) -> Int {
            timeCount * (timeSize + 1) + typeCount * 6 + charCount + leapCount * (timeSize + 4) + isStdCount
                + isUTCCount
        }
    }

    let bytes: [UInt8]
    var position = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, bytes.count - position >= count else { return false }
        position += count
        return true
    }

    mutating func integer(size: Int) -> Int64? {
        guard bytes.count - position >= size else { return nil }
        var value: UInt64 = 0
        for byte in bytes[position..<position + size] { value = value << 8 | UInt64(byte) }
        position += size
        // Sign-extend 32-bit fields.
        return size == 4 ? Int64(Int32(bitPattern: UInt32(truncatingIfNeeded: value))) : Int64(bitPattern: value)
    }

    mutating func header() -> Header? {
        guard bytes.count - position >= 44, bytes[position..<position + 4].elementsEqual("TZif".utf8) else {
            return nil
        }
        let versionByte = bytes[position + 4]
        position += 20
        var counts: [Int] = []
        for _ in 0..<6 {
            guard let count = integer(size: 4), (0...1_000_000).contains(count) else { return nil }
            counts.append(Int(count))
        }
        guard counts[4] >= 1 else { return nil }
        let version = versionByte == 0 ? 1 : Int(versionByte) - 0x30
        return Header(
            version: version, isUTCCount: counts[0], isStdCount: counts[1], leapCount: counts[2],
            timeCount: counts[3], typeCount: counts[4], charCount: counts[5])
    }

    /// Transitions, the offset in force from each, and the offset before the first.
    mutating func block(_ header: Header, timeSize: Int) -> ([Int64], [Int32], Int32)? {
        guard bytes.count - position >= header.dataLength(timeSize: timeSize) else { return nil }
        var times: [Int64] = []
        for _ in 0..<header.timeCount { times.append(integer(size: timeSize)!) }
        let indices = bytes[position..<position + header.timeCount].map(Int.init)
        position += header.timeCount
        var types: [Int32] = []
        for _ in 0..<header.typeCount {
            types.append(Int32(integer(size: 4)!))
            position += 2  // isdst, abbreviation index: not needed for the offset
        }
        guard indices.allSatisfy({ $0 < types.count }) else { return nil }
        position += header.charCount + header.leapCount * (timeSize + 4) + header.isStdCount + header.isUTCCount
        return (times, indices.map { types[$0] }, types[0])
    }

    /// The POSIX TZ string between the newlines after the version 2+ data, if any.
    mutating func footer() -> String? {
        guard position < bytes.count, bytes[position] == 0x0A,
            let end = bytes[(position + 1)...].firstIndex(of: 0x0A), end > position + 1
        else { return nil }
        return String(decoding: bytes[(position + 1)..<end], as: UTF8.self)
    }
}
