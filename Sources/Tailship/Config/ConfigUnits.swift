/// Parsing of the duration and size values the configuration accepts.
///
/// Durations are one or more `<number><unit>` groups with units `ms`, `s`, `m`, `h`
/// (`500ms`, `1.5s`, `5m`, `1h30m`). A bare number is refused: `30` could mean seconds or
/// milliseconds, and guessing wrong is a silent 1000x error.
///
/// Sizes are a whole number of bytes (`1048576`) or a whole number with a unit, optionally
/// separated by one space: `B`, `KB`/`MB`/`GB` (powers of 1000) and `KiB`/`MiB`/`GiB` (powers of
/// 1024); units are case-insensitive (`512kib`, `2MB`, `1 MiB`).
public enum ConfigUnits {
    /// The text a message shows to explain the duration format.
    public static let durationHelp = "use a number with a unit: ms, s, m or h (e.g. 500ms, 30s, 5m)"
    /// The text a message shows to explain the size format.
    public static let sizeHelp = "use a number of bytes or a number with a unit: KB, MB, GB, KiB, MiB, GiB (e.g. 1MiB)"

    private static let durationUnits: [(suffix: String, milliseconds: Int)] = [
        ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000),
    ]

    private static let sizeUnits: [String: Int] = [
        "b": 1,
        "kb": 1000, "mb": 1_000_000, "gb": 1_000_000_000,
        "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30,
    ]

    /// Milliseconds of a duration such as `500ms`, `1.5s` or `1h30m`; nil when malformed or when
    /// it does not fit an `Int`. Fractions below a millisecond are truncated.
    public static func milliseconds(from text: String) -> Int? {
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        var total = 0
        while !rest.isEmpty {
            let whole = rest.prefix { $0.isASCII && $0.isNumber }
            rest = rest.dropFirst(whole.count)
            var fraction = Substring("")
            if rest.first == "." {
                rest = rest.dropFirst()
                fraction = rest.prefix { $0.isASCII && $0.isNumber }
                rest = rest.dropFirst(fraction.count)
                guard !fraction.isEmpty else { return nil }
            }
            guard !whole.isEmpty else { return nil }
            let unitText = rest.prefix { $0.isASCII && $0.isLetter }
            rest = rest.dropFirst(unitText.count)
            guard let unit = durationUnits.first(where: { $0.suffix == unitText })?.milliseconds,
                let wholeValue = Int(whole),
                let part = add(multiply(wholeValue, unit), fractionMilliseconds(fraction, unit: unit)),
                let sum = add(total, part)
            else { return nil }
            total = sum
        }
        return total
    }

    /// Bytes of a size such as `1048576`, `512KiB` or `2 MB`; nil when malformed or too large.
    public static func bytes(from text: String) -> Int? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let number = Int(digits) else { return nil }
        var unitText = text.dropFirst(digits.count)
        if unitText.first == " " { unitText = unitText.dropFirst() }
        if unitText.isEmpty { return digits.count == text.count ? number : nil }
        guard let unit = sizeUnits[unitText.lowercased()] else { return nil }
        return multiply(number, unit)
    }

    /// `0.5` of a unit, in milliseconds: digits beyond nanosecond precision are ignored.
    private static func fractionMilliseconds(_ fraction: Substring, unit: Int) -> Int? {
        guard !fraction.isEmpty else { return 0 }
        let kept = fraction.prefix(9)
        guard let numerator = Int(kept) else { return nil }
        var denominator = 1
        for _ in 0..<kept.count { denominator *= 10 }
        return multiply(numerator, unit).map { $0 / denominator }
    }

    private static func multiply(_ a: Int, _ b: Int) -> Int? {
        let (result, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : result
    }

    private static func add(_ a: Int?, _ b: Int?) -> Int? {
        guard let a, let b else { return nil }
        let (result, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : result
    }
}
