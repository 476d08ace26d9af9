#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension DryRun {
    /// The rules' names in order, for the summary's "never fired".
    public var ruleNames: [String] { engine.rules.map(\.name) }

    /// What a line looks like with its variable parts collapsed: runs of digits become `N`, runs
    /// of 8 or more hex digits mixing letters and digits `H` (ids, hashes), the rest is kept, cut
    /// at 120 characters. Lines
    /// that differ only in numbers and ids share a shape. A record's shape is its first line's.
    public static func shape(_ bytes: UnsafeRawBufferPointer) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(min(bytes.count, 130))
        var i = 0
        func isHex(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46)
        }
        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        // Each byte is looked at once: a hex run is judged whole, then copied with its digit runs
        // collapsed.
        let end = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
        while i < end, out.count < 120 {
            guard isHex(bytes[i]) else {
                out.append(bytes[i])
                i += 1
                continue
            }
            var j = i
            var digits = false
            var letters = false
            while j < end, isHex(bytes[j]) {
                if isDigit(bytes[j]) { digits = true } else { letters = true }
                j += 1
            }
            if j - i >= 8 && digits && letters {
                out.append(UInt8(ascii: "H"))
            } else {
                var k = i
                while k < j {
                    if isDigit(bytes[k]) {
                        while k < j, isDigit(bytes[k]) { k += 1 }
                        out.append(UInt8(ascii: "N"))
                    } else {
                        out.append(bytes[k])
                        k += 1
                    }
                }
            }
            i = j
        }
        if out.count > 120 { out.removeLast(out.count - 120) }
        if out.count == 120 {
            // Cut on a character boundary: a sequence split at the cut is dropped, not shown as U+FFFD.
            var end = out.count
            while end > 0, out[end - 1] & 0xC0 == 0x80 { end -= 1 }
            if end > 0, out[end - 1] >= 0xC0 {
                let lead = out[end - 1]
                let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
                if out.count - (end - 1) < length { out.removeLast(out.count - (end - 1)) }
            }
        }
        return SafeText.escapingControls(String(decoding: out, as: UTF8.self))
    }
}

extension DryRun.Summary {
    /// Distinct shapes kept; beyond it, lines count under one "other shapes" entry.
    static let maxShapes = 10_000
    static let otherShapes = "(other shapes)"

    mutating func countShape(of bytes: UnsafeRawBufferPointer) {
        let shape = DryRun.shape(bytes)
        if unmatchedShapes[shape] == nil && unmatchedShapes.count >= Self.maxShapes {
            unmatchedShapes[Self.otherShapes, default: 0] += 1
        } else {
            unmatchedShapes[shape, default: 0] += 1
        }
    }

    /// The closing report of `tailship test`: totals, events per rule, the rules that never
    /// fired, invalid events by reason, and the most common shapes of unmatched lines.
    public func report(rules: [String], seconds: Double) -> String {
        var lines = [
            "summary: " + DryRun.counts(self) + " in " + TextOutput.fixed(seconds, digits: 2) + " s"
        ]
        for rule in rules where eventsByRule[rule] != nil {
            lines.append("  rule \(rule): \(eventsByRule[rule]!) events")
        }
        let silent = rules.filter { matchesByRule[$0] == nil }
        if !silent.isEmpty { lines.append("  rules that never matched: " + silent.joined(separator: ", ")) }
        for (reason, count) in invalidByReason.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }) {
            lines.append("  invalid (\(reason)): \(count)")
        }
        if invalid > DryRun.invalidListed {
            lines.append(
                "  (the first \(DryRun.invalidListed) invalid events are listed above; --explain lists every line)")
        }
        let shapes = unmatchedShapes.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.prefix(5)
        if !shapes.isEmpty {
            lines.append("  most common unmatched lines (digits as N, long hex ids as H):")
            for (shape, count) in shapes { lines.append("    \(count)  \(shape)") }
        }
        return lines.joined(separator: "\n")
    }
}
