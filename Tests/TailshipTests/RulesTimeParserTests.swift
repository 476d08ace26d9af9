import Testing

@testable import Tailship

@Suite struct RulesTimeParserTests {
    /// 2026-11-28T05:00:00Z, a fixed "now".
    static let now: Int64 = 1_795_842_000_000

    func parser(_ format: String, _ zone: String = "UTC") throws -> TimeParser {
        try TimeParser(format: format, zone: #require(ZoneOffsetCache(identifier: zone)))
    }

    @Test(arguments: [
        ("2026-11-28T04:59:15.481Z", "UTC", Int64(1_795_841_955_481)),
        ("2026-11-28 04:59:15.481Z", "UTC", 1_795_841_955_481),
        ("2026-11-28T04:59:15.4812345Z", "UTC", 1_795_841_955_481),
        ("2026-11-28T04:59:15.4Z", "UTC", 1_795_841_955_400),
        ("2026-11-28T04:59:15,481z", "UTC", 1_795_841_955_481),
        ("2026-11-28T04:59:15Z", "UTC", 1_795_841_955_000),
        ("2026-11-28T05:59:15+01:00", "UTC", 1_795_841_955_000),
        ("2026-11-28T05:59:15+0100", "UTC", 1_795_841_955_000),
        ("2026-11-28T05:59:15+01", "UTC", 1_795_841_955_000),
        ("2026-11-27T23:59:15-05:00", "Europe/Paris", 1_795_841_955_000),
        ("2026-11-28T05:59:15", "Europe/Paris", 1_795_841_955_000),
        ("2026-11-28T04:59", "UTC", 1_795_841_940_000),
        ("2026-11-28", "UTC", 1_795_824_000_000),
        // DST edges, times without offset read in the source zone.
        ("2026-03-29T01:30:00", "Europe/Paris", 1_774_744_200_000),
        ("2026-03-29T02:30:00", "Europe/Paris", 1_774_747_800_000),  // skipped hour: as 03:30 CEST
        ("2026-03-29T03:30:00", "Europe/Paris", 1_774_747_800_000),
        ("2026-10-25T01:59:59", "Europe/Paris", 1_792_886_399_000),
        ("2026-10-25T02:30:00", "Europe/Paris", 1_792_888_200_000),  // repeated hour: first (CEST)
        ("2026-10-25T03:30:00", "Europe/Paris", 1_792_895_400_000),
        ("2026-03-08T01:59:59", "America/New_York", 1_772_953_199_000),
        ("2026-03-08T03:00:00", "America/New_York", 1_772_953_200_000),
        ("2026-11-01T01:30:00", "America/New_York", 1_793_511_000_000),  // repeated hour: EDT
        ("2026-11-01T02:00:00", "America/New_York", 1_793_516_400_000),
        ("2026-07-04T12:00:00", "America/New_York", 1_783_180_800_000),
    ])
    func iso8601(text: String, zone: String, expected: Int64) throws {
        #expect(try parser("iso8601", zone).parse(text, nowMs: Self.now) == expected)
    }

    @Test(arguments: [
        "", "2026-11-28T", "2026-13-01T00:00:00Z", "2026-02-30", "2026-11-28T04:59:15Q",
        "2026-11-28T04:59:15.Z", "2026-11-28T24:00:00Z", "26-11-28", "2026-11-28T04:59:15+25:00",
        "2026-11-28T04:59:15Z trailing",
    ])
    func iso8601Rejects(text: String) throws {
        #expect(try parser("iso8601").parse(text, nowMs: Self.now) == nil)
    }

    @Test(arguments: [
        ("unix", "1795841955", Int64(1_795_841_955_000)),
        ("unix", "1795841955.481", 1_795_841_955_481),
        ("unix", "1795841955.4819", 1_795_841_955_481),
        ("unix", "1795841955.5", 1_795_841_955_500),
        ("unix_ms", "1795841955481", 1_795_841_955_481),
        ("unix_ms", "1795841955481.9", 1_795_841_955_481),
    ])
    func unixFormats(format: String, text: String, expected: Int64) throws {
        #expect(try parser(format, "Europe/Paris").parse(text, nowMs: Self.now) == expected)
    }

    @Test(arguments: [("unix", "abc"), ("unix", "-5"), ("unix", "12."), ("unix_ms", ""), ("unix", "1 2")])
    func unixRejects(format: String, text: String) throws {
        #expect(try parser(format).parse(text, nowMs: Self.now) == nil)
    }

    @Test(arguments: [
        ("%d/%b/%Y:%H:%M:%S %z", "28/Nov/2026:04:59:15 +0100", "UTC", Int64(1_795_838_355_000)),
        ("%d/%b/%Y:%H:%M:%S %z", "28/nov/2026:04:59:15 -0000", "Europe/Paris", 1_795_841_955_000),
        ("%Y-%m-%d %H:%M:%S.%f", "2026-11-28 04:59:15.481", "UTC", 1_795_841_955_481),
        ("%F %T", "2026-11-28 05:59:15", "Europe/Paris", 1_795_841_955_000),
        ("%F %T %Z", "2026-11-28 04:59:15 GMT", "Europe/Paris", 1_795_841_955_000),
        ("%a, %d %B %Y %T %Z", "Sat, 28 November 2026 04:59:15 UTC", "UTC", 1_795_841_955_000),
        ("%m/%d/%y %I:%M:%S %p", "11/28/26 04:59:15 AM", "UTC", 1_795_841_955_000),
        ("%m/%d/%y %I:%M:%S %p", "11/28/26 12:00:00 AM", "UTC", 1_795_824_000_000),
        ("%m/%d/%y %I:%M:%S %p", "11/27/26 12:00:00 PM", "UTC", 1_795_780_800_000),
        ("%D %T", "11/28/26 04:59:15", "UTC", 1_795_841_955_000),
        ("%Y %j %H:%M", "2026 332 04:59", "UTC", 1_795_841_940_000),
        ("%s", "1795841955", "Europe/Paris", 1_795_841_955_000),
        ("%s.%f", "1795841955.481", "UTC", 1_795_841_955_481),
        ("%Y%m%d%H%M%S", "20261128045915", "UTC", 1_795_841_955_000),
        ("[%Y-%m-%dT%H:%M:%S%z] 100%%", "[2026-11-28T05:59:15+01:00] 100%", "UTC", 1_795_841_955_000),
        // Syslog: no year, this year unless that is over a day ahead of now.
        ("%b %e %H:%M:%S", "Nov 28 04:59:15", "UTC", 1_795_841_955_000),
        ("%b %e %H:%M:%S", "Nov  2 04:59:15", "UTC", 1_793_595_555_000),
        ("%b %e %H:%M:%S", "Dec 31 23:59:59", "UTC", 1_767_225_599_000),
    ])
    func strptime(format: String, text: String, zone: String, expected: Int64) throws {
        #expect(try parser(format, zone).parse(text, nowMs: Self.now) == expected)
    }

    @Test(arguments: [
        ("%Y-%m-%d", "2026-11"), ("%F %Z", "2026-11-28 CET"), ("%b %d", "Foo 12"),
        ("%H:%M", "25:00"), ("%Y", "2026 extra"),
    ])
    func strptimeRejects(format: String, text: String) throws {
        #expect(try parser(format).parse(text, nowMs: Self.now) == nil)
    }

    @Test(arguments: ["rfc2822", "%Q %Y", "%Y %"])
    func unknownFormatsAreCompileErrors(format: String) throws {
        let zone = try #require(ZoneOffsetCache(identifier: "UTC"))
        #expect(throws: TimeFormatError.self) { try TimeParser(format: format, zone: zone) }
    }

    @Test func unknownZoneIsRejected() {
        #expect(ZoneOffsetCache(identifier: "Mars/Olympus") == nil)
    }

    @Test func zoneCacheIsConsistentAcrossManyHours() throws {
        let cache = try #require(ZoneOffsetCache(identifier: "Europe/Paris"))
        // Walk a week around the autumn change, twice: cached answers equal fresh ones.
        let start = CivilTime.days(year: 2026, month: 10, day: 22) * 86_400
        var first: [Int64] = []
        for h in stride(from: Int64(0), to: 7 * 86_400, by: 1800) {
            first.append(cache.utcSeconds(fromLocal: start + h))
        }
        let fresh = try #require(ZoneOffsetCache(identifier: "Europe/Paris"))
        var second: [Int64] = []
        for h in stride(from: Int64(0), to: 7 * 86_400, by: 1800) {
            second.append(fresh.utcSeconds(fromLocal: start + h))
        }
        #expect(first == second)
        #expect(first.first == start - 7200)
        #expect(first.last == start + 7 * 86_400 - 1800 - 3600)
    }
}
