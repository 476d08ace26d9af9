/// An HTTP-date in its preferred form, IMF-fixdate (RFC 9110 5.6.7): `Sun, 06 Nov 1994 08:49:37
/// GMT`, as servers send it in `Retry-After`. Parsed by hand: a `DateFormatter` needs full
/// Foundation (and its ICU tables) for one header.
enum HTTPDate {
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]

    /// Seconds since the epoch, or nil when `text` is not an IMF-fixdate (the zone may be written
    /// `GMT` or `UTC`; the weekday is not checked against the date).
    static func seconds(_ text: Substring) -> Int64? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 6, parts[0].count == 4, parts[0].hasSuffix(","),
            weekdays.contains(String(parts[0].dropLast())),
            let day = Int(parts[1]), (1...31).contains(day),
            let month = months.firstIndex(of: String(parts[2])),
            parts[3].count == 4, let year = Int(parts[3]),
            parts[5] == "GMT" || parts[5] == "UTC"
        else { return nil }
        let clock = parts[4].split(separator: ":", omittingEmptySubsequences: false)
        guard clock.count == 3, clock.allSatisfy({ $0.count == 2 }),
            let hour = Int(clock[0]), let minute = Int(clock[1]), let second = Int(clock[2]),
            hour < 24, minute < 60, second < 61,
            day <= CivilTime.daysIn(month: month + 1, year: year)
        else { return nil }
        return CivilTime.days(year: year, month: month + 1, day: day) * 86_400
            + Int64(hour * 3600 + minute * 60 + second)
    }
}
