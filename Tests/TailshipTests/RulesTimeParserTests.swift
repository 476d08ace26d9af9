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

    /// Instants with the UTC offset the tz database gives each, written out here (not asked of
    /// Foundation or of another cache): the wall-clock time `utc + offset` must read back as `utc`.
    @Test(arguments: [
        ("UTC", Int64(1_768_478_400), Int64(0)),  // 2026-01-15T12:00Z
        ("Europe/Paris", 1_768_478_400, 3600),  // 2026-01-15T12:00Z = 13:00 CET
        ("Europe/Paris", 1_784_116_800, 7200),  // 2026-07-15T12:00Z = 14:00 CEST
        ("America/New_York", 1_768_478_400, -18000),  // 07:00 EST
        ("America/New_York", 1_784_116_800, -14400),  // 08:00 EDT
        ("Australia/Sydney", 1_768_478_400, 39600),  // 23:00 AEDT: summer in January
        ("Australia/Sydney", 1_784_116_800, 36000),  // 22:00 AEST
        ("Asia/Kolkata", 1_768_478_400, 19800),  // 17:30 IST, not a whole hour
        ("Asia/Kathmandu", 1_768_478_400, 20700),  // 17:45 NPT
        ("America/New_York", -14_182_980, -14400),  // 1969-07-20T20:17Z = 16:17 EDT, before the epoch
        // Paris springs forward at 2026-03-29T01:00Z (02:00 CET becomes 03:00 CEST).
        ("Europe/Paris", 1_774_745_999, 3600),  // 01:59:59 CET, the last second before
        ("Europe/Paris", 1_774_746_000, 7200),  // 03:00:00 CEST, the change
        ("Europe/Paris", 1_774_747_800, 7200),  // 03:30 CEST, the hour after
        // Paris falls back at 2026-10-25T01:00Z (03:00 CEST becomes 02:00 CET).
        ("Europe/Paris", 1_792_886_399, 7200),  // 01:59:59 CEST, before the repeated hour
        ("Europe/Paris", 1_792_893_600, 3600),  // 03:00 CET, the hour after it
        // New York springs forward at 2026-03-08T07:00Z, falls back at 2026-11-01T06:00Z.
        ("America/New_York", 1_772_953_199, -18000),  // 01:59:59 EST
        ("America/New_York", 1_772_953_200, -14400),  // 03:00 EDT
        ("America/New_York", 1_772_955_000, -14400),  // 03:30 EDT
        ("America/New_York", 1_793_509_199, -14400),  // 00:59:59 EDT, before the repeated hour
        ("America/New_York", 1_793_516_400, -18000),  // 02:00 EST, the hour after it
        // Sydney falls back at 2026-04-04T16:00Z, springs forward at 2026-10-03T16:00Z.
        ("Australia/Sydney", 1_775_318_399, 39600),  // 02:59:59 AEDT (the first of the two)
        ("Australia/Sydney", 1_775_322_000, 36000),  // 03:00 AEST
        ("Australia/Sydney", 1_791_043_199, 36000),  // 01:59:59 AEST
        ("Australia/Sydney", 1_791_043_200, 39600),  // 03:00 AEDT
    ])
    func zoneCacheGivesTheKnownOffset(zone: String, utc: Int64, offset: Int64) throws {
        let cache = try #require(ZoneOffsetCache(identifier: zone))
        #expect(cache.utcSeconds(fromLocal: utc + offset) == utc)
        // Asked again (from its cache now), the same answer.
        #expect(cache.utcSeconds(fromLocal: utc + offset) == utc)
    }

    /// Wall-clock times that do not exist or exist twice, as `ZoneOffsetCache` documents them:
    /// a skipped time is read with the offset before the change (02:30 reads as 03:30 summer
    /// time), a repeated one as its earlier instant. Local times are counted as if UTC.
    @Test(arguments: [
        ("Europe/Paris", Int64(1_774_751_400), Int64(1_774_747_800)),  // 2026-03-29 02:30 -> 01:30Z (03:30 CEST)
        ("Europe/Paris", 1_792_895_400, 1_792_888_200),  // 2026-10-25 02:30 -> 00:30Z (CEST)
        ("America/New_York", 1_772_937_000, 1_772_955_000),  // 2026-03-08 02:30 -> 07:30Z (03:30 EDT)
        ("America/New_York", 1_793_496_600, 1_793_511_000),  // 2026-11-01 01:30 -> 05:30Z (EDT)
        ("Australia/Sydney", 1_775_356_200, 1_775_316_600),  // 2026-04-05 02:30 -> 04-04 15:30Z (AEDT)
        ("Australia/Sydney", 1_791_081_000, 1_791_045_000),  // 2026-10-04 02:30 -> 10-03 16:30Z (03:30 AEDT)
    ])
    func zoneCacheReadsSkippedAndRepeatedTimesAsDocumented(zone: String, local: Int64, utc: Int64) throws {
        let cache = try #require(ZoneOffsetCache(identifier: zone))
        #expect(cache.utcSeconds(fromLocal: local) == utc)
    }

    @Test func zoneCacheIsConsistentAcrossManyHours() throws {
        let cache = try #require(ZoneOffsetCache(identifier: "Europe/Paris"))
        // A week of wall-clock times around the autumn change, every half hour from
        // 2026-10-22T00:00 local (counted as if UTC). Before 2026-10-25T03:00 local (the
        // repeated hour included, read as its earlier instant) Paris is at +2 h, then at +1 h.
        let start: Int64 = 1_792_627_200
        let change: Int64 = 1_792_897_200
        let locals = Array(stride(from: start, to: start + 7 * 86_400, by: 1800))
        func expected(_ local: Int64) -> Int64 { local - (local < change ? 7200 : 3600) }
        // Forwards, backwards, then scattered (index × 97 mod 336 visits each once): whatever
        // the cache holds from earlier look-ups, every answer must be the right one.
        let scattered = locals.indices.map { locals[$0 * 97 % locals.count] }
        for local in locals + locals.reversed() + scattered {
            #expect(cache.utcSeconds(fromLocal: local) == expected(local), "local \(local)")
        }
    }
}
