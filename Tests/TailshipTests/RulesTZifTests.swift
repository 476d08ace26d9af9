import Foundation
import Testing

@testable import Tailship

/// The TZif reader against Foundation's `TimeZone` (full Foundation, with ICU's own copy of the
/// tz database): the same offset at every DST change from 1980 to 2060 (a second before, at,
/// and a second after) and every ten days in between, so both the recorded transitions and the
/// footer's POSIX rule (after the file's last transition) are covered.
@Suite struct RulesTZifTests {
    static let zones = [
        "Europe/Paris", "Europe/London", "Europe/Dublin", "America/New_York", "America/Los_Angeles",
        "America/St_Johns", "America/Sao_Paulo", "Australia/Sydney", "Australia/Lord_Howe",
        "Pacific/Auckland", "Pacific/Chatham", "Asia/Kolkata", "Asia/Tokyo", "Asia/Kathmandu", "UTC",
    ]
    static let from = Date(timeIntervalSince1970: 315_532_800)  // 1980-01-01
    static let to = Date(timeIntervalSince1970: 2_871_763_200)  // 2061-01-01

    @Test(arguments: zones)
    func offsetsMatchFoundationAtEveryChange(identifier: String) throws {
        let zone = try #require(TZifZone(identifier: identifier))
        let reference = try #require(TimeZone(identifier: identifier))
        var instant = Self.from
        var changes = 0
        while let change = reference.nextDaylightSavingTimeTransition(after: instant), change < Self.to {
            let t = Int64(change.timeIntervalSince1970)
            for utc in [t - 1, t, t + 1] {
                let expected = reference.secondsFromGMT(for: Date(timeIntervalSince1970: Double(utc)))
                #expect(zone.offset(at: utc) == expected, "\(identifier) at \(utc)")
            }
            changes += 1
            instant = change
        }
        for utc in stride(
            from: Int64(Self.from.timeIntervalSince1970), to: Int64(Self.to.timeIntervalSince1970), by: 864_000)
        {
            let expected = reference.secondsFromGMT(for: Date(timeIntervalSince1970: Double(utc)))
            #expect(zone.offset(at: utc) == expected, "\(identifier) at \(utc)")
        }
        switch identifier {
        case "Asia/Kolkata", "Asia/Tokyo", "UTC": #expect(changes == 0)
        case "Asia/Kathmandu": #expect(changes == 1)  // +05:30 to +05:45 in 1986
        case "America/Sao_Paulo": #expect(changes > 50)  // no summer time since 2019
        default: #expect(changes > 100)  // two a year for 80 years, most of them after 2037
        }
    }

    @Test func unknownOrUnsafeNamesAreRefused() {
        for name in [
            "", "Mars/Olympus", "../../etc/passwd", "/etc/localtime", "Europe/../Europe/Paris", ".hidden", "zone.tab",
        ] {
            #expect(TZifZone(identifier: name) == nil, "\(name)")
        }
    }

    /// The fixed-offset names Foundation's `TimeZone` accepted keep working, with its offsets.
    @Test(arguments: ["GMT+1", "GMT-3", "UTC+01:00", "GMT+0545", "UTC-03:30", "GMT+14", "GMT-12"])
    func fixedOffsetNamesMatchFoundation(identifier: String) throws {
        let zone = try #require(TZifZone(identifier: identifier, directory: "/nonexistent"))
        let reference = try #require(TimeZone(identifier: identifier))
        #expect(zone.offset(at: 1_795_841_955) == reference.secondsFromGMT())
    }

    @Test func malformedFixedOffsetsAreRefused() {
        for name in ["GMT+", "GMT+123", "UTC+1:00", "GMT+01:0", "GMT+19", "GMT+0160", "GMT++1", "GMT+1a", "UTC+0:100"] {
            #expect(TZifZone(identifier: name, directory: "/nonexistent") == nil, "\(name)")
        }
    }

    @Test func utcWorksWithoutATimeZoneDatabase() throws {
        let zone = try #require(TZifZone(identifier: "UTC", directory: "/nonexistent"))
        #expect(zone.offset(at: 1_795_841_955) == 0)
        #expect(TZifZone(identifier: "Europe/Paris", directory: "/nonexistent") == nil)
    }

    /// Bad bytes never crash the reader: every truncation of a real file either fails or reads.
    @Test func truncatedFilesAreRefusedWithoutCrashing() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "/usr/share/zoneinfo/Europe/Paris")))
        #expect(TZifZone(bytes: bytes) != nil)
        var read = 0
        for length in 0..<bytes.count where TZifZone(bytes: Array(bytes.prefix(length))) != nil { read += 1 }
        // Only cuts inside the footer (a zone then read without its rule) still parse.
        #expect(read < 40)
        var corrupt = bytes
        corrupt[0] = UInt8(ascii: "X")
        #expect(TZifZone(bytes: corrupt) == nil)
    }

    @Test(arguments: [
        // 2026-03-29T00:59:59Z is CET, 01:00:00Z CEST; 2026-10-25T00:59:59Z CEST, 01:00:00Z CET.
        ("CET-1CEST,M3.5.0,M10.5.0/3", Int64(1_774_745_999), Int64(3600)),
        ("CET-1CEST,M3.5.0,M10.5.0/3", 1_774_746_000, 7200),
        ("CET-1CEST,M3.5.0,M10.5.0/3", 1_792_889_999, 7200),
        ("CET-1CEST,M3.5.0,M10.5.0/3", 1_792_890_000, 3600),
        // Southern hemisphere: summer time spans the new year.
        ("AEST-10AEDT,M10.1.0,M4.1.0/3", 1_767_225_600, 39600),  // 2026-01-01
        ("AEST-10AEDT,M10.1.0,M4.1.0/3", 1_782_864_000, 36000),  // 2026-07-01
        // Permanent daylight time written as a rule from January 1 to past December 31.
        ("EST5EDT,0/0,J365/25", 1_782_864_000, -14400),
        ("<+0545>-5:45", 1_782_864_000, 20700),
        ("<-03>3", 1_782_864_000, -10800),
        // A daylight offset other than one hour ahead (Lord Howe: half an hour).
        ("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", 1_767_225_600, 39600),
    ])
    func posixRulesGiveTheirOffsets(rule: String, utc: Int64, offset: Int64) throws {
        let parsed = try #require(PosixTimeZoneRule(rule))
        #expect(parsed.offset(at: utc) == offset)
    }

    @Test func malformedPosixRulesAreRefused() {
        for text in [
            "", "C", "CET", "CET-1CEST,M3.5.0", "CET-1CEST,M13.5.0,M10.5.0", "<+01", "CET-1CEST,J0,J365", "CET-200",
        ] {
            #expect(PosixTimeZoneRule(text) == nil, "\(text)")
        }
    }
}
