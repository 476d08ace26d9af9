/// An HTTP-date (RFC 9110 5.6.7), as servers send it in `Retry-After`, in any of the three forms
/// a recipient must accept: IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT` (the preferred one),
/// and the obsolete rfc850-date `Sunday, 06-Nov-94 08:49:37 GMT` and asctime-date
/// `Sun Nov  6 08:49:37 1994`. Parsed by hand: a `DateFormatter` needs full Foundation (and its
/// ICU tables) for one header.
enum HTTPDate {
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let longWeekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

    /// Seconds since the epoch, or nil when `text` is none of the three forms (the zone may be
    /// written `GMT` or `UTC`; the weekday is not checked against the date). An rfc850-date's
    /// two-digit year is the one in the century that puts it at most 50 years after `nowSeconds`.
    static func seconds(_ text: Substring, nowSeconds: Int64 = WallClock.nowMs() / 1000) -> Int64? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        switch parts.count {
        case 6:  // Sun, 06 Nov 1994 08:49:37 GMT
            guard parts[0].count == 4, parts[0].hasSuffix(","), weekdays.contains(String(parts[0].dropLast())),
                parts[3].count == 4, let year = Int(parts[3]), isGMT(parts[5])
            else { return nil }
            return seconds(day: parts[1], month: parts[2], year: year, clock: parts[4])
        case 4:  // Sunday, 06-Nov-94 08:49:37 GMT
            let date = parts[1].split(separator: "-", omittingEmptySubsequences: false)
            guard parts[0].hasSuffix(","), longWeekdays.contains(String(parts[0].dropLast())), date.count == 3,
                date[2].count == 2, let twoDigits = Int(date[2]), isGMT(parts[3])
            else { return nil }
            return seconds(
                day: date[0], month: date[1], year: year(twoDigits: twoDigits, nowSeconds: nowSeconds),
                clock: parts[2])
        case 5:  // Sun Nov  6 08:49:37 1994
            guard weekdays.contains(String(parts[0])), (1...2).contains(parts[2].count), parts[4].count == 4,
                let year = Int(parts[4])
            else { return nil }
            return seconds(day: parts[2], month: parts[1], year: year, clock: parts[3])
        default:
            return nil
        }
    }

    private static func isGMT(_ zone: Substring) -> Bool { zone == "GMT" || zone == "UTC" }

    /// The year ending in `twoDigits` at most 50 years after now (RFC 9110: one further ahead is
    /// the most recent past year with those digits).
    private static func year(twoDigits: Int, nowSeconds: Int64) -> Int {
        let now = CivilTime.year(ofDays: nowSeconds / 86_400)
        var year = now - now % 100 + twoDigits
        if year > now + 50 { year -= 100 }
        if year <= now - 50 { year += 100 }
        return year
    }

    private static func seconds(day: Substring, month: Substring, year: Int, clock: Substring) -> Int64? {
        let time = clock.split(separator: ":", omittingEmptySubsequences: false)
        guard let day = Int(day), (1...31).contains(day), let month = months.firstIndex(of: String(month)),
            time.count == 3, time.allSatisfy({ $0.count == 2 }),
            let hour = Int(time[0]), let minute = Int(time[1]), let second = Int(time[2]),
            hour < 24, minute < 60, second < 61,
            day <= CivilTime.daysIn(month: month + 1, year: year)
        else { return nil }
        return CivilTime.days(year: year, month: month + 1, day: day) * 86_400
            + Int64(hour * 3600 + minute * 60 + second)
    }
}
