/// Turns a wall-clock time read in an IANA zone into UTC, caching the zone's offset per local
/// hour (even a binary search over the transitions need not run per line).
///
/// Wall-clock times that do not exist (the hour skipped when DST starts) are read with the
/// offset in force before the change, so `02:30` on a spring-forward day in Paris becomes
/// `03:30` CEST; times that exist twice (the repeated hour when DST ends) take the earlier
/// instant. DST changes happen on whole local hours in practice, which is what makes a
/// per-hour cache exact.
///
/// Not thread-safe (the cache mutates); each `RuleEngine` owns its own.
public final class ZoneOffsetCache {
    /// The zone identifier as configured.
    public let identifier: String
    private let zone: TZifZone
    private let isUTC: Bool
    private static let slots = 16
    private var keys = [Int64](repeating: .min, count: ZoneOffsetCache.slots)
    private var offsets = [Int64](repeating: 0, count: ZoneOffsetCache.slots)

    /// nil when `identifier` names no zone known to the system's tz database.
    public init?(identifier: String) {
        guard let zone = TZifZone(identifier: identifier) else { return nil }
        self.identifier = identifier
        self.zone = zone
        self.isUTC = identifier == "UTC" || identifier == "Etc/UTC" || identifier == "GMT"
    }

    /// Seconds since the epoch for `local`, a wall-clock time counted in seconds as if it were UTC.
    public func utcSeconds(fromLocal local: Int64) -> Int64 {
        if isUTC { return local }
        let hour = local >= 0 ? local / 3600 : (local - 3599) / 3600
        let slot = Int(truncatingIfNeeded: hour) & (ZoneOffsetCache.slots - 1)
        if keys[slot] != hour {
            keys[slot] = hour
            offsets[slot] = resolveOffset(local: local)
        }
        return local - offsets[slot]
    }

    /// The UTC offset to subtract from `local`, looking a day either side for a transition.
    private func resolveOffset(local: Int64) -> Int64 {
        let before = offset(at: local - 86_400)
        let after = offset(at: local + 86_400)
        if before == after { return before }
        let beforeFits = offset(at: local - before) == before
        let afterFits = offset(at: local - after) == after
        switch (beforeFits, afterFits) {
        case (true, true): return max(before, after)  // repeated hour: the earlier instant
        case (true, false): return before
        case (false, true): return after
        case (false, false): return before  // skipped hour: shift forward by the gap
        }
    }

    private func offset(at utc: Int64) -> Int64 {
        Int64(zone.offset(at: utc))
    }
}

/// Calendar arithmetic on the proleptic Gregorian calendar (no Foundation).
enum CivilTime {
    /// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
    static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil year containing `days` since the epoch.
    static func year(ofDays days: Int64) -> Int {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let month = mp < 10 ? mp + 3 : mp - 9
        return Int(yoe + era * 400 + (month <= 2 ? 1 : 0))
    }

    static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
