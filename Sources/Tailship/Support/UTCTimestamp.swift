#if canImport(Glibc)
    import Glibc
#endif

/// `2026-11-28T04:59:15.481Z`: the one timestamp format tailship writes (log lines, dead
/// letters), from `gmtime_r`, with no formatter object per call.
enum UTCTimestamp {
    /// With `milliseconds: false`, `2026-12-04T21:31:00Z` (status output: seconds are precision
    /// enough for a person).
    static func string(ms: Int64, milliseconds: Bool = true) -> String {
        var seconds = time_t(ms / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        let fraction = milliseconds ? ".\(pad(Int32(ms % 1000), 3))" : ""
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))\(fraction)Z"
    }

    /// Now, from the realtime clock.
    static func now() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return string(ms: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec / 1_000_000))
    }
}
