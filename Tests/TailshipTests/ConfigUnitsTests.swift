import Testing

@testable import Tailship

@Suite struct ConfigUnitsTests {
    @Test(arguments: [
        ("500ms", 500), ("1s", 1000), ("30s", 30_000), ("5m", 300_000), ("1h", 3_600_000),
        ("1.5s", 1500), ("0.25m", 15_000), ("1h30m", 5_400_000), ("2m5s100ms", 125_100), ("0s", 0),
        ("1.0005s", 1000),
    ])
    func validDurations(text: String, milliseconds: Int) {
        #expect(ConfigUnits.milliseconds(from: text) == milliseconds)
    }

    @Test(arguments: [
        "", "30", "1", "s", "1 s", "1sec", "1d", "-1s", "1.s", ".5s", "1s ", "ms", "99999999999999999999h",
    ])
    func invalidDurations(text: String) {
        #expect(ConfigUnits.milliseconds(from: text) == nil)
    }

    @Test(arguments: [
        ("1048576", 1_048_576), ("0", 0), ("1MiB", 1_048_576), ("512KiB", 524_288), ("2MB", 2_000_000),
        ("1 MiB", 1_048_576), ("512kib", 524_288), ("1GiB", 1_073_741_824), ("10B", 10), ("3kB", 3000),
    ])
    func validSizes(text: String, bytes: Int) {
        #expect(ConfigUnits.bytes(from: text) == bytes)
    }

    @Test(arguments: ["", "MiB", "1.5MiB", "1 ", "1  MiB", "1M", "1 mebibyte", "-1", "1MiB ", "99999999999999GiB"])
    func invalidSizes(text: String) {
        #expect(ConfigUnits.bytes(from: text) == nil)
    }

    @Test(arguments: [
        ("mach", "match"), ("distinctid", "distinct_id"), ("pathz", "paths"), ("tmezone", "timezone"),
    ])
    func suggestsCloseKeys(typo: String, expected: String) {
        let known = ConfigDecoder.ruleKeys + ConfigDecoder.sourceKeys
        #expect(KeySuggestion.closest(to: typo, in: known) == expected)
    }

    @Test func suggestsNothingForFarKeys() {
        #expect(KeySuggestion.closest(to: "colour", in: ConfigDecoder.ruleKeys) == nil)
        #expect(KeySuggestion.closest(to: "xy", in: ["ip"]) == nil)
    }
}
