extension Duration {
    /// In seconds, as a `Double` (for `Date` and condition-variable deadlines).
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// In whole milliseconds, the rest dropped (for poll timeouts and millisecond clocks).
    var wholeMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
